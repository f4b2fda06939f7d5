/*  cron.h - five-field cron schedules for cairn-batch's scheduled jobs.

    Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12),
    day of week (0-7, 0 and 7 are Sunday). Each field is `*`, a number, a
    range `a-b`, a step (`*` or `a-b` followed by `/n`), or a
    comma-separated list of those. As in Vixie cron, when both the day of month and the day of
    week are restricted, a day matching either one matches. Times are the
    local time of the process (set TZ to choose).                          */
#ifndef CAIRN_BATCH_CRON_H_INCLUDED
#define CAIRN_BATCH_CRON_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct _cron_t cron_t;

/*  Parses a schedule. NULL with errno EINVAL and an error_set sentence
    naming the field at fault ("the hour field: 24 is not in 0-23").      */
cron_t *cron_parse (const char *text);
void cron_destroy (cron_t **self_p);

/*  The first minute strictly after `after` that the schedule matches
    (seconds since the epoch, at second 0), or -1 if none within five
    years (a schedule such as "0 0 30 2 *").                              */
time_t cron_next (const cron_t *self, time_t after);

#endif
