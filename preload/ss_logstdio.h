/*
 * ss_logstdio.h - what a program writes to a log through C stdio
 * (printf, fprintf, fputs, fwrite, putc...), captured at the call.
 *
 * glibc's stdio buffers what it is given and writes it out later through
 * its own internal write, which no hook sees: the bytes would reach the
 * file without ever passing the shim. So the stdio hooks (hooks/hk_stdio.c)
 * hand the log capture (ss_logcap.h) the bytes each call put on a stream
 * whose fd is a log, at the call: the line carries the span current when
 * the program wrote it, not the one current when the buffer happened to be
 * flushed (after a request, at exit), and its time is the call's. Nothing
 * is captured twice: the flush itself is never seen.
 *
 * What a call "put on the stream" is what the C library accepted: fwrite's
 * items written, fputs's string once it returned success, one character of
 * putc. The bytes are fed under the stream's own lock (flockfile, which
 * glibc's locking calls take recursively) so that, as in the file, one
 * thread's pieces of a line are not joined with another's; the _unlocked
 * calls run under the program's own flockfile, if any, and take none.
 *
 * The formatting calls (printf, vfprintf, dprintf, their fortified
 * __*_chk forms) format once, into a buffer on the stack
 * (SS_LOGSTDIO_STACK), and hand the result to the real fwrite (or, for
 * dprintf, write(2) until all of it went): the same bytes under the same
 * lock, and the count printf returns, -1 with the real call's errno when
 * fwrite takes less. A fortified call formats with __vsnprintf_chk and its
 * flag, so its checks (%n in writable memory) are the same. Output that
 * does not fit, and a format that fails (EILSEQ, EOVERFLOW), is formatted
 * again by the real vfprintf, into a stream of the shim's (fopencookie)
 * whose every flush goes on to the program's stream and to the capture:
 * nothing is cut, memory stays bounded, and a partial output before an
 * error is what the file gets. A program that mixes stdio and write(2) on
 * one fd has its pieces joined in call order, not in the order the bytes
 * reach the file.
 *
 * Files opened through stdio (fopen, freopen) are logs by the same rule as
 * open(2)'s (SPANSHIM_LOG_FILES), and a log fclose'd is no log any more
 * (glibc opens and closes them through internal calls no hook sees).
 */
#ifndef SS_LOGSTDIO_H
#define SS_LOGSTDIO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define SS_LOGSTDIO_STACK 2048

/* The real functions' shapes, as the hooks pass them. */
typedef size_t (*ss_fwrite_fn)(const void *p, size_t size, size_t n, FILE *fp);
typedef int (*ss_fputs_fn)(const char *s, FILE *fp);
typedef int (*ss_fputc_fn)(int c, FILE *fp);

/* fp's fd, -1 for a stream that has none (memory, cookie streams). */
static inline int ss_logstdio_fd(const FILE *fp)
{
    return fp ? fp->_fileno : -1;
}

/* n bytes the C library accepted for fd at this call: to the capture
 * (errno kept; inside the shim, counted as busy; in a vfork child,
 * nothing). */
void ss_logstdio_fed(int fd, const void *p, size_t n);

/* The calls on fp, a log's stream, through the real function given;
 * locked: take fp's lock around the call and the capture. */
size_t ss_logstdio_fwrite(const void *p, size_t size, size_t n, FILE *fp, ss_fwrite_fn real,
                          int locked);
int ss_logstdio_fputs(const char *s, FILE *fp, ss_fputs_fn real, int locked);
/* puts(s), with stdout a log: s and its newline. */
int ss_logstdio_puts(const char *s);
int ss_logstdio_fputc(int c, FILE *fp, ss_fputc_fn real, int locked);

/* vfprintf on fp, a log's stream; flag: the fortified call's (>= 0), or
 * -1 for the plain one. */
int ss_logstdio_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap);
/* vdprintf on fd, a log. */
int ss_logstdio_vdprintf(int fd, int flag, const char *fmt, va_list ap);
/* perror(s) with stderr a log. */
void ss_logstdio_perror(const char *s);

/* fd was opened, or reopened (freopen), through stdio at path (NULL:
 * freopen's same file again) with an fopen mode: a log if it is one by
 * open(2)'s rule. */
void ss_logstdio_opened(int fd, const char *path, const char *mode);
/* fp, a log's stream, is being closed (fclose; or freopen, which failed:
 * glibc closed its fd where no hook sees): its fd is no log any more. */
void ss_logstdio_closed(int fd);

/* The open(2) flags an fopen mode stands for (its access mode and
 * O_APPEND: all the capture looks at). */
int ss_logstdio_mode_flags(const char *mode);

#endif
