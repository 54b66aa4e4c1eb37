/*
 * hk_stdio.c - hooks for C stdio's output: what a call puts on a stream
 * whose fd is a log (stdout, stderr, a log file: preload/ss_logcap.h) is
 * captured at the call (preload/ss_logstdio.h), since glibc writes its
 * buffers out through an internal write no hook sees. Streams opened on a
 * log file's path (fopen, freopen) become logs, and an fclose'd one stops
 * being one.
 *
 * Every other call is a load of the capture's flag and a jump to the real
 * function (with capture on, a load of the stream's fd and of the log
 * table's byte too); the log path is out of line, in preload/. The
 * variadic calls pass their arguments to the real v-variant, as glibc's
 * own do (printf is vfprintf on stdout). Fortified programs call the
 * __*_chk forms, hooked alike; the _unlocked forms take no lock.
 */
/* This file defines printf, putchar and the like: glibc's inline and
 * fortified versions of them must not be in its way. */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include "hk_common.h"
#include "../preload/ss_logstdio.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

#undef fwrite_unlocked /* a macro of glibc's for small constant sizes */

/* Is fp a log's stream? With capture off, one load. */
static inline int hk_stdio_log(FILE *fp)
{
    return __builtin_expect(ss_logcap_on, 0) && ss_logcap_is_log(ss_logstdio_fd(fp));
}

/* ---- writing --------------------------------------------------------------- */

HK_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
    if (hk_stdio_log(fp))
        return ss_logstdio_fwrite(p, size, n, fp, ss_real_fwrite, 1);
    return ss_real_fwrite(p, size, n, fp);
}

HK_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
    if (hk_stdio_log(fp))
        return ss_logstdio_fwrite(p, size, n, fp, ss_real_fwrite_unlocked, 0);
    return ss_real_fwrite_unlocked(p, size, n, fp);
}

HK_EXPORT int fputs(const char *s, FILE *fp)
{
    if (hk_stdio_log(fp))
        return ss_logstdio_fputs(s, fp, ss_real_fputs, 1);
    return ss_real_fputs(s, fp);
}

HK_EXPORT int fputs_unlocked(const char *s, FILE *fp)
{
    if (hk_stdio_log(fp))
        return ss_logstdio_fputs(s, fp, ss_real_fputs_unlocked, 0);
    return ss_real_fputs_unlocked(s, fp);
}

HK_EXPORT int puts(const char *s)
{
    if (hk_stdio_log(stdout))
        return ss_logstdio_puts(s);
    return ss_real_puts(s);
}

#define HK_PUTC(name, locked)                                                 \
    HK_EXPORT int name(int c, FILE *fp)                                       \
    {                                                                         \
        if (hk_stdio_log(fp))                                                 \
            return ss_logstdio_fputc(c, fp, ss_real_##name, locked);          \
        return ss_real_##name(c, fp);                                         \
    }
HK_PUTC(fputc, 1)
HK_PUTC(putc, 1)
HK_PUTC(_IO_putc, 1) /* putc in programs built against glibc's headers before 2.28 */
HK_PUTC(fputc_unlocked, 0)
HK_PUTC(putc_unlocked, 0)

HK_EXPORT int putchar(int c)
{
    if (hk_stdio_log(stdout))
        return ss_logstdio_fputc(c, stdout, ss_real_putc, 1);
    return ss_real_putchar(c);
}

HK_EXPORT int putchar_unlocked(int c)
{
    if (hk_stdio_log(stdout))
        return ss_logstdio_fputc(c, stdout, ss_real_putc_unlocked, 0);
    return ss_real_putchar_unlocked(c);
}

HK_EXPORT void perror(const char *s)
{
    if (hk_stdio_log(stderr)) {
        ss_logstdio_perror(s);
        return;
    }
    ss_real_perror(s);
}

/* ---- formatting ------------------------------------------------------------ */

/* The v-variants' bodies, inlined into the variadic hooks too (a call to
 * the exported name would go through the PLT, to whichever comes first). */
static inline __attribute__((always_inline)) int hk_vfprintf(FILE *fp, int flag,
                                                             const char *fmt, va_list ap)
{
    if (hk_stdio_log(fp))
        return ss_logstdio_vfprintf(fp, flag, fmt, ap);
    return flag < 0 ? ss_real_vfprintf(fp, fmt, ap) : ss_real___vfprintf_chk(fp, flag, fmt, ap);
}

static inline __attribute__((always_inline)) int hk_vdprintf(int fd, int flag, const char *fmt,
                                                             va_list ap)
{
    if (__builtin_expect(ss_logcap_is_log(fd), 0))
        return ss_logstdio_vdprintf(fd, flag, fmt, ap);
    return flag < 0 ? ss_real_vdprintf(fd, fmt, ap) : ss_real___vdprintf_chk(fd, flag, fmt, ap);
}

HK_EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
    return hk_vfprintf(fp, -1, fmt, ap);
}

HK_EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
    return hk_vfprintf(fp, flag < 0 ? 0 : flag, fmt, ap);
}

HK_EXPORT int vprintf(const char *fmt, va_list ap)
{
    if (hk_stdio_log(stdout))
        return ss_logstdio_vfprintf(stdout, -1, fmt, ap);
    return ss_real_vprintf(fmt, ap);
}

HK_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
    if (hk_stdio_log(stdout))
        return ss_logstdio_vfprintf(stdout, flag < 0 ? 0 : flag, fmt, ap);
    return ss_real___vprintf_chk(flag, fmt, ap);
}

HK_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
    return hk_vdprintf(fd, -1, fmt, ap);
}

HK_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    return hk_vdprintf(fd, flag < 0 ? 0 : flag, fmt, ap);
}

#define HK_VARIADIC(call)                                                     \
    va_list ap;                                                               \
    int r;                                                                    \
    va_start(ap, fmt);                                                        \
    r = call;                                                                 \
    va_end(ap);                                                               \
    return r;

HK_EXPORT int printf(const char *fmt, ...)
{
    HK_VARIADIC(hk_vfprintf(stdout, -1, fmt, ap))
}

HK_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
    HK_VARIADIC(hk_vfprintf(stdout, flag < 0 ? 0 : flag, fmt, ap))
}

HK_EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
    HK_VARIADIC(hk_vfprintf(fp, -1, fmt, ap))
}

HK_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
    HK_VARIADIC(hk_vfprintf(fp, flag < 0 ? 0 : flag, fmt, ap))
}

HK_EXPORT int dprintf(int fd, const char *fmt, ...)
{
    HK_VARIADIC(hk_vdprintf(fd, -1, fmt, ap))
}

HK_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    HK_VARIADIC(hk_vdprintf(fd, flag < 0 ? 0 : flag, fmt, ap))
}

/* ---- opening and closing ------------------------------------------------------ */

/* A stream was opened on path: its fd is new to the shim (glibc's open is
 * internal), and a log if its path says so. */
static FILE *hk_fopened(FILE *r, const char *path, const char *mode)
{
    if (r) {
        int fd = hk_born(ss_logstdio_fd(r));

        if (__builtin_expect(ss_logcap_on, 0) && hk_active())
            ss_logstdio_opened(fd, path, mode);
    }
    return r;
}

HK_EXPORT FILE *fopen(const char *path, const char *mode)
{
    return hk_fopened(ss_real_fopen(path, mode), path, mode);
}

HK_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    return hk_fopened(ss_real_fopen64(path, mode), path, mode);
}

/* freopen keeps the stream's fd number for the new file (or, failing,
 * closes it). */
static FILE *hk_freopened(FILE *r, int oldfd, const char *path, const char *mode)
{
    if (r)
        return hk_fopened(r, path, mode);
    if (__builtin_expect(ss_logcap_is_log(oldfd), 0))
        ss_logstdio_closed(oldfd);
    return r;
}

HK_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
    int old = ss_logstdio_fd(fp);

    return hk_freopened(ss_real_freopen(path, mode, fp), old, path, mode);
}

HK_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
    int old = ss_logstdio_fd(fp);

    return hk_freopened(ss_real_freopen64(path, mode, fp), old, path, mode);
}

HK_EXPORT int fclose(FILE *fp)
{
    if (hk_stdio_log(fp))
        ss_logstdio_closed(ss_logstdio_fd(fp)); /* before: its close is glibc's own */
    return ss_real_fclose(fp);
}
