/*
 * ss_log.c - log lines and counters (see ss_log.h).
 */
#define _GNU_SOURCE
#include "ss_log.h"
#include "ss_owntable.h"
#include "ss_real.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

ss_counters_t ss_count;
int ss_log_level = SS_LOG_ERROR;

void ss_log(int level, const char *fmt, ...)
{
    char line[512];
    int n, fd, borrowed;
    va_list ap;

    if (level > ss_log_level)
        return;
    n = snprintf(line, sizeof(line), "spanshim[%d]: ", (int)getpid());
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if ((fd = ss_owntable_stderr(&borrowed)) < 0)
        return;
    (void)!ss_real_write(fd, line, (size_t)n);
    if (borrowed)
        ss_real_close(fd);
}

void ss_log_counters(void)
{
#define SS_COUNTER_LOG(name, what)                                             \
    if (ss_count.name)                                                         \
        ss_log(SS_LOG_DEBUG, "%s: %llu (%s)", #name,                          \
               (unsigned long long)ss_count.name, what);
    SS_COUNTERS(SS_COUNTER_LOG)
#undef SS_COUNTER_LOG
}
