/*
 * stdioprobe.c - a C program that logs through stdio, every way: printf
 * (built with -D_FORTIFY_SOURCE=2 -O2 it is __printf_chk, and the compiler
 * makes some calls puts, putchar or fwrite), fprintf to stderr, vprintf and
 * vfprintf, fwrite, fputs, puts, fputc, putc, putchar and their _unlocked
 * forms under flockfile, a line built of several calls, two lines in one
 * call, a line of 3000 bytes and one of 9000, %n, dprintf and perror; a
 * file opened with fopen ("x.log"), one put on stdout with freopen
 * ("y.log"), fopen64 and freopen64 too; pwrite and pwritev (and their
 * 64 and v2 forms) to a log file; and calls that fail on
 * /dev/full, and opens of a log path that cannot be opened (no such
 * directory). What each call returned (and errno) goes to stderr at the
 * end, to be compared traced and untraced.
 *
 * usage: stdioprobe DIR   (x.log, y.log and p.log are made in DIR)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Optimized, glibc's headers expand these inline, writing into the
 * stream's buffer with no call (a limit of the capture, said in
 * INSTALL.md): called through pointers, they are the library's. */
static int (*volatile fputc_unlocked_p)(int, FILE *) = fputc_unlocked;
static int (*volatile putc_unlocked_p)(int, FILE *) = putc_unlocked;
static int (*volatile putchar_unlocked_p)(int) = putchar_unlocked;
static size_t (*volatile fwrite_unlocked_p)(const void *, size_t, size_t, FILE *) =
    fwrite_unlocked;

/* glibc's, with no declaration in its headers (a program built against
 * headers before 2.28 calls _IO_putc for putc; fortified, __vprintf_chk). */
extern int _IO_putc(int c, FILE *fp);
extern ssize_t __pwrite64(int fd, const void *buf, size_t n, __off64_t off);
extern int __vprintf_chk(int flag, const char *fmt, va_list ap);

static long rets[80];
static int nrets;

static void ret(long r)
{
    if (nrets < 80)
        rets[nrets++] = r;
}

static int vout(const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vprintf(fmt, ap);
    va_end(ap);
    return r;
}

static int verr(const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfprintf(stderr, fmt, ap);
    va_end(ap);
    return r;
}

static int vdout(int fd, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vdprintf(fd, fmt, ap);
    va_end(ap);
    return r;
}

#if defined _FORTIFY_SOURCE && _FORTIFY_SOURCE > 0
static int vout_chk(const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = __vprintf_chk(1, fmt, ap);
    va_end(ap);
    return r;
}
#endif

static void path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
    char x[512], y[512], p[512], gone[512], *big;
    struct iovec v[2] = {{"pwritev ", 8}, {"line\n", 5}};
    FILE *f;
    int fd, n = 0, i;

    if (argc < 2)
        return 2;
    path(x, sizeof(x), argv[1], "x.log");
    path(y, sizeof(y), argv[1], "y.log");
    path(p, sizeof(p), argv[1], "p.log");
    path(gone, sizeof(gone), argv[1], "no-such-dir/z.log");

    ret(printf("printf %d line\n", 1));
    ret(printf("printf constant line\n")); /* puts, to the compiler */
    ret(printf("%s\n", "printf of a string")); /* puts too */
    ret(fprintf(stderr, "ERROR: fprintf to stderr %s\n", "here"));
    ret(fprintf(stderr, "WARNING constant to stderr\n")); /* fwrite */
    ret(vout("vprintf %s\n", "line"));
    ret(verr("vfprintf %d\n", 2));
    ret((long)fwrite("fwrite line\n", 1, 12, stdout));
    ret((long)fwrite("fwrite items\n", 13, 1, stdout));
    ret(puts("puts line"));
    /* one line of many calls */
    ret(fputs("built ", stdout));
    ret(fputc('o', stdout));
    ret(putc('f', stdout));
    ret(putchar(' '));
    ret(_IO_putc('&', stdout));
    ret(printf(" %d ", 5));
    flockfile(stdout);
    ret(fputs_unlocked("unlocked ", stdout));
    ret(fputc_unlocked_p('p', stdout));
    ret(putc_unlocked_p('i', stdout));
    ret(putchar_unlocked_p('e'));
    ret((long)fwrite_unlocked_p("ces", 1, 3, stdout));
    funlockfile(stdout);
    ret(putchar('\n'));
    ret(printf("two\nlines %s\n", "in one call"));
    big = malloc(9001);
    memset(big, 'a', 9000);
    big[9000] = '\0';
    ret(printf("long %.3000s end\n", big)); /* over the stack buffer */
    ret(printf("%s\n", big)); /* over 8 KiB: cut */
    free(big);
    ret(printf("percent n%n here\n", &n));
    ret(n);
    ret(dprintf(2, "dprintf to stderr %d\n", 3));
    ret(vdout(2, "vdprintf to stderr %d\n", 4));
#if defined _FORTIFY_SOURCE && _FORTIFY_SOURCE > 0
    ret(vout_chk("__vprintf_chk %s\n", "line"));
#endif
    errno = ENOENT;
    perror("perror");

    f = fopen(x, "w");
    ret(f != NULL);
    ret(fprintf(f, "[warn] fopen line %d\n", 1));
    ret(fputs("fopen second ", f));
    ret(fputs("line\n", f));
    ret(fclose(f));
    f = fopen64(x, "a");
    ret(fputs("fopen64 line\n", f));
    ret(fclose(f));

    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ret(pwrite(fd, "pwrite line one\n", 16, 0));
    ret(pwrite(fd, "pwrite line two\n", 16, 16));
    ret(pwritev(fd, v, 2, 32));
    ret(pwrite64(fd, "pwrite64 line\n", 14, 45));
    ret(__pwrite64(fd, "__pwrite64 line\n", 16, 59));
    ret(pwritev64(fd, v, 2, 75));
    ret(pwritev2(fd, v, 2, 88, 0));
    ret(pwritev64v2(fd, v, 2, 101, 0));
    close(fd);

    /* failures: a stream on /dev/full (a log by SPANSHIM_LOG_FILES), unbuffered */
    f = fopen("/dev/full", "w");
    ret(f != NULL);
    if (f) {
        setvbuf(f, NULL, _IONBF, 0);
        errno = 0;
        ret(fprintf(f, "full %d\n", 1));
        ret(errno);
        errno = 0;
        ret((long)fwrite("full\n", 1, 5, f));
        ret(errno);
        errno = 0;
        ret(fputs("full\n", f));
        ret(fputc('\n', f));
        ret(errno);
        fclose(f);
    }

    /* failures: a log path in no directory, every way it is opened */
    errno = 0;
    ret(fopen(gone, "w") != NULL);
    ret(errno);
    errno = 0;
    ret(fopen64(gone, "a") != NULL);
    ret(errno);
    errno = 0;
    ret(open(gone, O_WRONLY | O_CREAT | O_APPEND, 0644));
    ret(errno);
    errno = 0;
    ret(openat(AT_FDCWD, gone, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    ret(errno);
    errno = 0;
    ret(creat(gone, 0644));
    ret(errno);
    errno = 0;
    ret(open(gone, O_WRONLY | O_APPEND)); /* fortified: __open_2 */
    ret(errno);

    ret(fflush(stdout));
#if defined _FORTIFY_SOURCE && _FORTIFY_SOURCE > 0
    ret(freopen64(y, "w", stdout) != NULL);
#else
    ret(freopen(y, "w", stdout) != NULL);
#endif
    ret(printf("after freopen %s\n", "to y.log"));
    ret(fflush(stdout));

    fprintf(stderr, "returns");
    for (i = 0; i < nrets; i++)
        fprintf(stderr, " %ld", rets[i]);
    fprintf(stderr, "\n");
    return 0;
}
