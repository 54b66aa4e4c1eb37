/*
 * hk_log.c - syslog(3) hooks: each message a program logs through the C
 * library becomes a log record (preload/ss_logcap.h), made from the
 * message and the priority it was given, not from the datagram glibc
 * formats for /dev/log (which holds the time, the ident and the pid as
 * text). The message is formatted once more here, into a buffer on the
 * stack (SS_LOGCAP_SYSLOG_MAX: longer ones are cut, marked truncated),
 * with the caller's errno for %m; then the real call runs with the
 * arguments as they came. Messages the log mask (setlogmask) turns away
 * are not records either. glibc's own calls to its socket never pass
 * through the send hooks, so a message is never captured twice.
 */
#define _GNU_SOURCE
#include "hk_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#define SS_LOGCAP_SYSLOG_MAX 4096

static void hk_syslog_capture(int pri, const char *fmt, va_list ap)
{
    char msg[SS_LOGCAP_SYSLOG_MAX + 1];
    int err = errno, n;
    va_list copy;

    if (!__builtin_expect(ss_logcap_records(), 0) || !hk_active() || fmt == NULL || ss_in_vfork_child())
        return;
    if (!(setlogmask(0) & LOG_MASK(LOG_PRI(pri))))
        return;
    ss_busy++;
    va_copy(copy, ap);
    n = vsnprintf(msg, sizeof(msg), fmt, copy);
    va_end(copy);
    if (n > 0)
        ss_logcap_syslog(pri, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
                         (size_t)n >= sizeof(msg));
    ss_busy--;
    errno = err;
}

HK_EXPORT void openlog(const char *ident, int option, int facility)
{
    ss_real_openlog(ident, option, facility);
    ss_logcap_openlog(ident);
}

HK_EXPORT void vsyslog(int pri, const char *fmt, va_list ap)
{
    hk_syslog_capture(pri, fmt, ap);
    ss_real_vsyslog(pri, fmt, ap);
}

HK_EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    hk_syslog_capture(pri, fmt, ap);
    ss_real___vsyslog_chk(pri, flag, fmt, ap);
}

HK_EXPORT void syslog(int pri, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hk_syslog_capture(pri, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    ss_real_vsyslog(pri, fmt, ap);
    va_end(ap);
}

HK_EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    hk_syslog_capture(pri, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    ss_real___vsyslog_chk(pri, flag, fmt, ap);
    va_end(ap);
}
