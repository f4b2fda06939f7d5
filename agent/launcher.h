/*  launcher.h - the agent's side of cairn-shim --launcher: a resident
    child that starts each task's shim as a fork of itself, so no shim
    pays for an exec (see the end of agent/shim.c for the protocol).
    Internal to the agent; the end-to-end benchmark's baseline loop uses
    it too, so both start shims the same way.                             */
#ifndef CAIRN_LAUNCHER_H_INCLUDED
#define CAIRN_LAUNCHER_H_INCLUDED

#include <sys/types.h>

typedef struct _launcher_t launcher_t;

/*  Starts `shim_path --launcher`. NULL with errno and error_set if it
    cannot be started.                                                     */
launcher_t *launcher_new (const char *shim_path);

/*  Closes the launcher's socket, which makes it exit, and reaps it
    (SIGKILL after a short bound). Shims it started are not touched.
    NULL-safe.                                                             */
void launcher_destroy (launcher_t **self_p);

/*  Starts a shim with argv (argv[0] first; NULL-terminated) and the task
    environment envp, its stdout on out_fd and stderr on err_fd (both
    stay the caller's). Returns the shim's pid with a pidfd for it in
    *pidfd (the caller's), or -1 with errno and error_set: E2BIG (the
    request is too large for one message), EPIPE/ECONNRESET/ETIMEDOUT
    (the launcher is gone or stuck: destroy it, start another or spawn
    the shim another way), or the errno of the launcher's fork.          */
pid_t launcher_spawn (launcher_t *self, char *const argv[], char *const envp[], int out_fd,
                      int err_fd, int *pidfd);

/*  The launcher's own pid.                                                */
pid_t launcher_pid (launcher_t *self);

#endif
