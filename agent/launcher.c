/*  launcher.c - talking to cairn-shim --launcher.

    One request at a time, answered before the next: a launch is a fork
    in a tiny process, a fraction of a millisecond, so the agent's loop
    waits for the answer rather than keeping launches in flight. The wait
    is bounded (LAUNCHER_TIMEOUT_MS); a launcher that misses it is
    treated as gone.                                                      */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "launcher.h"

#define LAUNCHER_MAGIC      0x314e4c43u     /* "CLN1", as in shim.c */
#define LAUNCHER_TIMEOUT_MS 10000
#define LAUNCHER_SNDBUF     (1 << 20)       /* the largest request we send */

struct _launcher_t {
    pid_t pid;
    int sock;
};

launcher_t *
launcher_new (const char *shim_path)
{
    int sv[2];
    if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        error_set (errno, "cannot create the launcher's socket: %s", strerror (errno));
        return NULL;
    }
    /*  Large enough for a task with a big environment; the kernel caps
        it at wmem_max, and a request that does not fit gets E2BIG.      */
    int size = LAUNCHER_SNDBUF;
    setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt (sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init (&fa);
    posix_spawnattr_init (&attr);
    posix_spawn_file_actions_adddup2 (&fa, sv[1], 0);
    posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np (&fa, 3);
    sigset_t none, defaults;
    sigemptyset (&none);
    sigfillset (&defaults);
    sigdelset (&defaults, SIGKILL);
    sigdelset (&defaults, SIGSTOP);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setsigdefault (&attr, &defaults);
    /*  Its own session, like the shims it forks: a Ctrl-C aimed at the
        agent's terminal does not reach it.                               */
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                         | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = { (char *) shim_path, "--launcher", NULL };
    char *envp[] = { NULL };
    pid_t pid;
    int err = posix_spawn (&pid, shim_path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    close (sv[1]);
    if (err != 0) {
        close (sv[0]);
        error_set (err, "cannot start the shim launcher %s: %s", shim_path, strerror (err));
        return NULL;
    }
    launcher_t *self = xzalloc (sizeof *self);
    self->pid = pid;
    self->sock = sv[0];
    return self;
}

void
launcher_destroy (launcher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    launcher_t *self = *self_p;
    close (self->sock);
    /*  It exits at EOF on its socket; give it a moment, then insist.    */
    for (int i = 0; i < 200; i++) {
        if (waitpid (self->pid, NULL, WNOHANG) != 0)
            goto done;
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    kill (self->pid, SIGKILL);
    waitpid (self->pid, NULL, 0);
done:
    free (self);
    *self_p = NULL;
}

pid_t
launcher_pid (launcher_t *self)
{
    return self->pid;
}

/*  Appends the strings of v (NULL-terminated) with their NULs.            */
static size_t
s_pack (char *buf, size_t at, char *const v[], uint32_t *count)
{
    for (*count = 0; v && v[*count]; (*count)++) {
        size_t n = strlen (v[*count]) + 1;
        if (buf)
            memcpy (buf + at, v[*count], n);
        at += n;
    }
    return at;
}

pid_t
launcher_spawn (launcher_t *self, char *const argv[], char *const envp[], int out_fd,
                int err_fd, int *pidfd)
{
    uint32_t head[3] = { LAUNCHER_MAGIC, 0, 0 };
    size_t size = s_pack (NULL, sizeof head, argv, &head[1]);
    size = s_pack (NULL, size, envp, &head[2]);
    if (size > LAUNCHER_SNDBUF - 4096)
        return error_set (E2BIG, "the task's command and environment (%zu bytes) are too "
                          "large for the launcher", size);
    char *buf = xmalloc (size);
    s_pack (buf, s_pack (buf, sizeof head, argv, &head[1]), envp, &head[2]);
    memcpy (buf, head, sizeof head);

    union {
        char buf[CMSG_SPACE (2 * sizeof (int))];
        struct cmsghdr align;
    } u;
    memset (&u, 0, sizeof u);
    struct iovec iov = { buf, size };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                          .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN (2 * sizeof (int));
    int fds[2] = { out_fd, err_fd };
    memcpy (CMSG_DATA (c), fds, sizeof fds);
    ssize_t sent;
    while ((sent = sendmsg (self->sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    free (buf);
    if (sent < 0) {
        int err = errno == EMSGSIZE ? E2BIG : errno;
        return error_set (err, "cannot reach the shim launcher (pid %d): %s", (int) self->pid,
                          strerror (errno));
    }

    struct pollfd p = { self->sock, POLLIN, 0 };
    int ready;
    while ((ready = poll (&p, 1, LAUNCHER_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    if (ready == 0)
        return error_set (ETIMEDOUT, "the shim launcher (pid %d) did not answer in %d ms",
                          (int) self->pid, LAUNCHER_TIMEOUT_MS);
    int32_t answer = 0;
    union {
        char buf[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
    } r;
    struct iovec riov = { &answer, sizeof answer };
    struct msghdr rmsg = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = r.buf,
                           .msg_controllen = sizeof r.buf };
    ssize_t got;
    while ((got = recvmsg (self->sock, &rmsg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    int fd = -1;
    for (struct cmsghdr *rc = CMSG_FIRSTHDR (&rmsg); rc; rc = CMSG_NXTHDR (&rmsg, rc))
        if (rc->cmsg_level == SOL_SOCKET && rc->cmsg_type == SCM_RIGHTS
            && rc->cmsg_len == CMSG_LEN (sizeof (int)))
            memcpy (&fd, CMSG_DATA (rc), sizeof fd);
    if (got != (ssize_t) sizeof answer) {
        if (fd >= 0)
            close (fd);
        int err = got < 0 ? errno : ECONNRESET;
        return error_set (err, "the shim launcher (pid %d) is gone: %s", (int) self->pid,
                          got < 0 ? strerror (errno) : "it closed its socket");
    }
    if (answer <= 0 || fd < 0) {
        if (fd >= 0)
            close (fd);
        int err = answer < 0 ? -answer : EPROTO;
        return error_set (err, "the shim launcher could not start a shim: %s", strerror (err));
    }
    *pidfd = fd;
    return (pid_t) answer;
}
