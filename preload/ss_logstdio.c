/*
 * ss_logstdio.c - C stdio's output to a log, captured at the call (see
 * ss_logstdio.h).
 */
#define _GNU_SOURCE
#include "ss_logstdio.h"
#include "ss_init.h"
#include "ss_logcap.h"
#include "ss_real.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* glibc's, declared by its headers only for fortified programs. */
extern int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt,
                           va_list ap);

static void ss_logstdio_unlock(void *fp)
{
    funlockfile(fp);
}

typedef long (*ss_logstdio_body_fn)(void *arg);

/* body(arg), under fp's lock if locked (as the real call would hold it:
 * glibc's locking calls take it again, recursively). The lock is given
 * back however body leaves: glibc's write is a cancellation point, and a
 * thread cancelled inside the real call unwinds through here; left taken,
 * every other thread's output to the stream would wait forever. Not
 * instrumented by AddressSanitizer: the cancellation's longjmp back into
 * this frame is glibc's own, which ASan does not see, and its check before
 * the unwinding goes on would read the frames left behind as poisoned. */
__attribute__((no_sanitize_address)) static long
ss_logstdio_under(FILE *fp, int locked, ss_logstdio_body_fn body, void *arg)
{
    long r;

    if (!locked)
        return body(arg);
    flockfile(fp);
    pthread_cleanup_push(ss_logstdio_unlock, fp);
    r = body(arg);
    pthread_cleanup_pop(1);
    return r;
}

/* What was fed: iovecs, so that puts's string and newline are one feed. */
static void ss_logstdio_fedv(int fd, const struct iovec *iov, int cnt, size_t n)
{
    int err = errno;

    if (n == 0 || ss_in_vfork_child()) {
        errno = err;
        return;
    }
    if (ss_busy) {
        ss_logcap_busy();
    } else {
        ss_busy++;
        ss_logcap_wrote(fd, iov, cnt, n);
        ss_busy--;
    }
    errno = err;
}

void ss_logstdio_fed(int fd, const void *p, size_t n)
{
    struct iovec v = {(void *)p, n};

    ss_logstdio_fedv(fd, &v, 1, n);
}

/* ---- SPANSHIM_LOG_ENRICH: the bytes into the stream through the plan ----- */

/* Where a plan's pieces go: the program's stream (through the real fwrite
 * the call was given), or for dprintf its fd (write(2) until all went). */
#define SS_LOGSTDIO_PIECES 4 /* perror's: its prefix, ": ", the message, the newline */

typedef struct ss_logstdio_sink {
    FILE *fp;
    int fd;
    ss_fwrite_fn fwrite;
    int failed;                   /* the stream or the fd took less than given */
} ss_logstdio_sink_t;

static ssize_t ss_logstdio_sinkfn(void *arg, const struct iovec *iov, int cnt)
{
    ss_logstdio_sink_t *k = arg;
    size_t done = 0;
    int i;

    for (i = 0; i < cnt && !k->failed; i++) {
        const char *p = iov[i].iov_base;
        size_t n = iov[i].iov_len, w = 0;

        if (k->fp) {
            w = n ? k->fwrite(p, 1, n, k->fp) : 0;
        } else {
            while (w < n) {
                ssize_t r = ss_real_write(k->fd, p + w, n - w);

                if (r <= 0)
                    break;
                w += (size_t)r;
            }
        }
        done += w;
        if (w < n)
            k->failed = 1;
    }
    return done == 0 && k->failed ? -1 : (ssize_t)done;
}

/* The n bytes of iov (at most SS_LOGSTDIO_PIECES pieces) onto the stream or fd with the
 * span's fields in the lines they end (ss_logenrich.h), captured by
 * ss_logcap_write itself: how many of the program's went. A stream takes
 * all it is given, so a plan short of room for every line is followed by
 * the next until all went or the stream failed (errno its). Inside the
 * shim (a signal handler) or in a vfork child the bytes go as they are. */
static size_t ss_logstdio_enriched(ss_logstdio_sink_t *k, const struct iovec *iov, int cnt,
                                   size_t n)
{
    struct iovec rest[SS_LOGSTDIO_PIECES];
    size_t done = 0;
    int err = errno, i, m;
    ssize_t r;

    if (ss_busy || ss_in_vfork_child()) {
        r = ss_logstdio_sinkfn(k, iov, cnt);
        ss_logstdio_fedv(k->fd, iov, cnt, r > 0 ? (size_t)r : 0);
        return r > 0 ? (size_t)r : 0;
    }
    ss_busy++;
    while (done < n && !k->failed) {
        size_t skip = done;

        for (i = m = 0; i < cnt && m < SS_LOGSTDIO_PIECES; i++) {
            if (skip >= iov[i].iov_len) {
                skip -= iov[i].iov_len;
                continue;
            }
            rest[m].iov_base = (char *)iov[i].iov_base + skip;
            rest[m++].iov_len = iov[i].iov_len - skip;
            skip = 0;
        }
        r = ss_logcap_write(k->fd, rest, m, ss_logstdio_sinkfn, k);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    ss_busy--;
    if (!k->failed)
        errno = err;
    return done;
}

/* One piece through the plan: fp's (fwrite given) or fd's. */
static size_t ss_logstdio_enrich1(FILE *fp, int fd, ss_fwrite_fn fw, const void *p, size_t n)
{
    ss_logstdio_sink_t k = {fp, fd, fw, 0};
    struct iovec v = {(void *)p, n};

    return ss_logstdio_enriched(&k, &v, 1, n);
}

/* ---- the plain calls ------------------------------------------------------- */

/* A call's arguments, for its body under the lock. */
typedef struct ss_logstdio_call {
    const void *p;
    size_t size, n;
    int c;
    FILE *fp;
    union {
        ss_fwrite_fn fwrite;
        ss_fputs_fn fputs;
        ss_fputc_fn fputc;
    } real;
} ss_logstdio_call_t;

static long ss_logstdio_fwrite_body(void *arg)
{
    const ss_logstdio_call_t *a = arg;
    size_t r;

    if (ss_logcap_enrich && a->size && a->n && a->n <= SIZE_MAX / a->size)
        return (long)(ss_logstdio_enrich1(a->fp, ss_logstdio_fd(a->fp), a->real.fwrite, a->p,
                                          a->size * a->n) / a->size);
    r = a->real.fwrite(a->p, a->size, a->n, a->fp);

    /* All items, or the whole items it wrote (glibc may have taken part of
     * the next one: it is not said, so not captured). */
    ss_logstdio_fed(ss_logstdio_fd(a->fp), a->p, r >= a->n ? a->size * a->n : a->size * r);
    return (long)r;
}

size_t ss_logstdio_fwrite(const void *p, size_t size, size_t n, FILE *fp, ss_fwrite_fn real,
                          int locked)
{
    ss_logstdio_call_t a = {.p = p, .size = size, .n = n, .fp = fp, .real.fwrite = real};

    return (size_t)ss_logstdio_under(fp, locked, ss_logstdio_fwrite_body, &a);
}

static long ss_logstdio_fputs_body(void *arg)
{
    const ss_logstdio_call_t *a = arg;
    int r;

    if (ss_logcap_enrich) {
        /* fwrite takes the stream's lock again, recursively (held here, or
         * by the program around an _unlocked call, or by no one) */
        size_t len = strlen(a->p);

        return ss_logstdio_enrich1(a->fp, ss_logstdio_fd(a->fp), ss_real_fwrite, a->p, len) == len
                   ? 1 /* glibc's fputs' success */
                   : EOF;
    }
    r = a->real.fputs(a->p, a->fp);
    if (r != EOF)
        ss_logstdio_fed(ss_logstdio_fd(a->fp), a->p, strlen(a->p));
    return r;
}

int ss_logstdio_fputs(const char *s, FILE *fp, ss_fputs_fn real, int locked)
{
    ss_logstdio_call_t a = {.p = s, .fp = fp, .real.fputs = real};

    return (int)ss_logstdio_under(fp, locked, ss_logstdio_fputs_body, &a);
}

static long ss_logstdio_puts_body(void *arg)
{
    const ss_logstdio_call_t *a = arg;
    struct iovec v[2];
    int r;

    if (ss_logcap_enrich) {
        ss_logstdio_sink_t k = {a->fp, ss_logstdio_fd(a->fp), ss_real_fwrite, 0};
        size_t len = strlen(a->p);

        v[0].iov_base = (void *)a->p;
        v[0].iov_len = len;
        v[1].iov_base = "\n";
        v[1].iov_len = 1;
        if (ss_logstdio_enriched(&k, v, 2, len + 1) != len + 1)
            return EOF;
        return len + 1 > INT_MAX ? INT_MAX : (int)(len + 1); /* glibc's puts' count */
    }
    r = ss_real_puts(a->p);
    if (r != EOF) {
        v[0].iov_base = (void *)a->p;
        v[0].iov_len = strlen(a->p);
        v[1].iov_base = "\n";
        v[1].iov_len = 1;
        ss_logstdio_fedv(ss_logstdio_fd(a->fp), v, 2, v[0].iov_len + 1);
    }
    return r;
}

int ss_logstdio_puts(const char *s)
{
    ss_logstdio_call_t a = {.p = s, .fp = stdout};

    return (int)ss_logstdio_under(a.fp, 1, ss_logstdio_puts_body, &a);
}

static long ss_logstdio_fputc_body(void *arg)
{
    const ss_logstdio_call_t *a = arg;
    unsigned char ch = (unsigned char)a->c;
    int r;

    if (ss_logcap_enrich)
        return ss_logstdio_enrich1(a->fp, ss_logstdio_fd(a->fp), ss_real_fwrite, &ch, 1) == 1 ? ch
                                                                                           : EOF;
    r = a->real.fputc(a->c, a->fp);

    if (r != EOF)
        ss_logstdio_fed(ss_logstdio_fd(a->fp), &ch, 1);
    return r;
}

int ss_logstdio_fputc(int c, FILE *fp, ss_fputc_fn real, int locked)
{
    ss_logstdio_call_t a = {.c = c, .fp = fp, .real.fputc = real};

    return (int)ss_logstdio_under(fp, locked, ss_logstdio_fputc_body, &a);
}

/* ---- formatting ------------------------------------------------------------ */

/* Where the formatted bytes go: the program's stream, or (dprintf) its fd. */
typedef struct ss_logstdio_out {
    FILE *fp;
    int fd;
} ss_logstdio_out_t;

/* n bytes onto out: fwrite's count, or for an fd what write(2) took until
 * all went or it failed (glibc's vdprintf does not retry either). Each
 * piece the kernel or the stream took is captured. */
static size_t ss_logstdio_put(const ss_logstdio_out_t *o, const char *p, size_t n)
{
    size_t done = 0;

    if (ss_logcap_enrich)
        return ss_logstdio_enrich1(o->fp, o->fd, ss_real_fwrite, p, n);
    if (o->fp) {
        done = ss_real_fwrite(p, 1, n, o->fp);
        ss_logstdio_fed(o->fd, p, done);
        return done;
    }
    while (done < n) {
        ssize_t w = ss_real_write(o->fd, p + done, n - done);

        if (w <= 0)
            break;
        ss_logstdio_fed(o->fd, p + done, (size_t)w);
        done += (size_t)w;
    }
    return done;
}

/* The tee's write: each flush of the shim's stream goes on to the
 * program's; less taken is its error (the cookie stream then fails its
 * vfprintf as the program's own would have). */
static ssize_t ss_logstdio_tee_write(void *cookie, const char *p, size_t n)
{
    size_t done = ss_logstdio_put(cookie, p, n);

    return done == n ? (ssize_t)n : done ? (ssize_t)done : -1;
}

static int ss_logstdio_real(const ss_logstdio_out_t *o, int flag, const char *fmt, va_list ap)
{
    if (o->fp)
        return flag < 0 ? ss_real_vfprintf(o->fp, fmt, ap)
                        : ss_real___vfprintf_chk(o->fp, flag, fmt, ap);
    return flag < 0 ? ss_real_vdprintf(o->fd, fmt, ap) : ss_real___vdprintf_chk(o->fd, flag, fmt, ap);
}

/* The output did not fit the stack buffer, or formatting failed: the real
 * vfprintf formats it (again) into a stream of the shim's, buffered in buf,
 * whose flushes go to out and to the capture. */
static int ss_logstdio_tee(const ss_logstdio_out_t *o, int flag, const char *fmt, va_list ap,
                           char *buf, size_t cap)
{
    cookie_io_functions_t io = {NULL, ss_logstdio_tee_write, NULL, NULL};
    FILE *tee = fopencookie((void *)o, "w", io);
    int r, err;

    if (tee == NULL) /* no memory for it: the program's call, uncaptured */
        return ss_logstdio_real(o, flag, fmt, ap);
    setvbuf(tee, buf, _IOFBF, cap);
    r = flag < 0 ? ss_real_vfprintf(tee, fmt, ap) : ss_real___vfprintf_chk(tee, flag, fmt, ap);
    err = errno;
    if (ss_real_fclose(tee) == EOF) {
        if (r >= 0)
            r = -1; /* its last piece did not go: the stream's errno */
    } else {
        errno = err; /* the call's, not the closing's (a sanitizer's fclose asks its fd) */
    }
    return r;
}

static int ss_logstdio_format(const ss_logstdio_out_t *o, int flag, const char *fmt, va_list ap)
{
    char buf[SS_LOGSTDIO_STACK];
    va_list copy;
    int n;

    va_copy(copy, ap);
    n = flag < 0 ? vsnprintf(buf, sizeof(buf), fmt, copy)
                 : __vsnprintf_chk(buf, sizeof(buf), flag, sizeof(buf), fmt, copy);
    va_end(copy);
    if (n == 0)
        return ss_logstdio_real(o, flag, fmt, ap); /* nothing to capture */
    if (n < 0 || (size_t)n >= sizeof(buf))
        return ss_logstdio_tee(o, flag, fmt, ap, buf, sizeof(buf));
    return ss_logstdio_put(o, buf, (size_t)n) == (size_t)n ? n : -1;
}

typedef struct ss_logstdio_fmt {
    ss_logstdio_out_t o;
    int flag;
    const char *fmt;
    va_list ap;
} ss_logstdio_fmt_t;

static long ss_logstdio_vfprintf_body(void *arg)
{
    ss_logstdio_fmt_t *a = arg;

    return ss_logstdio_format(&a->o, a->flag, a->fmt, a->ap);
}

int ss_logstdio_vfprintf(FILE *fp, int flag, const char *fmt, va_list ap)
{
    ss_logstdio_fmt_t a;
    int r;

    a.o.fp = fp;
    a.o.fd = ss_logstdio_fd(fp);
    a.flag = flag;
    a.fmt = fmt;
    va_copy(a.ap, ap);
    /* one output under the lock, as the real call's: no other thread's in it */
    r = (int)ss_logstdio_under(fp, 1, ss_logstdio_vfprintf_body, &a);
    va_end(a.ap);
    return r;
}

int ss_logstdio_vdprintf(int fd, int flag, const char *fmt, va_list ap)
{
    ss_logstdio_out_t o = {NULL, fd};

    return ss_logstdio_format(&o, flag, fmt, ap);
}

static long ss_logstdio_perror_body(void *arg)
{
    const ss_logstdio_call_t *a = arg;
    const char *s = a->p;
    char ebuf[1024];
    const char *msg;
    struct iovec v[4];
    size_t n = 0;
    int cnt = 0, err;

    if (!ss_logcap_enrich)
        ss_real_perror(s);
    err = errno;
    msg = strerror_r(a->c, ebuf, sizeof(ebuf)); /* what perror prints */
    if (s && *s) {
        v[cnt].iov_base = (void *)s;
        n += v[cnt++].iov_len = strlen(s);
        v[cnt].iov_base = ": ";
        n += v[cnt++].iov_len = 2;
    }
    v[cnt].iov_base = (void *)msg;
    n += v[cnt++].iov_len = strlen(msg);
    v[cnt].iov_base = "\n";
    n += v[cnt++].iov_len = 1;
    if (ss_logcap_enrich) {
        /* The same text, through the plan into stderr (glibc's perror
         * writes through a stream of its own on a dup of stderr's fd, which
         * no hook reaches; stderr is unbuffered but by the program's
         * setvbuf, so its bytes go out in the same order). */
        ss_logstdio_sink_t k = {a->fp, ss_logstdio_fd(a->fp), ss_real_fwrite, 0};

        ss_logstdio_enriched(&k, v, cnt, n);
        errno = a->c; /* perror leaves errno as it found it */
        return 0;
    }
    ss_logstdio_fedv(ss_logstdio_fd(a->fp), v, cnt, n);
    errno = err;
    return 0;
}

void ss_logstdio_perror(const char *s)
{
    ss_logstdio_call_t a = {.p = s, .c = errno, .fp = stderr};

    ss_logstdio_under(a.fp, 1, ss_logstdio_perror_body, &a);
}

/* ---- opening and closing ----------------------------------------------------- */

int ss_logstdio_mode_flags(const char *mode)
{
    int acc, extra = 0;
    const char *p;

    if (mode == NULL || mode[0] == '\0')
        return O_RDONLY;
    switch (mode[0]) {
    case 'w':
        acc = O_WRONLY;
        break;
    case 'a':
        acc = O_WRONLY;
        extra = O_APPEND;
        break;
    default:
        acc = O_RDONLY;
        break;
    }
    for (p = mode + 1; *p && *p != ','; p++)
        if (*p == '+')
            acc = O_RDWR;
    return acc | extra;
}

void ss_logstdio_opened(int fd, const char *path, const char *mode)
{
    char link[32], at[SS_LOGCAP_PATH_MAX];
    int err = errno;
    ssize_t r;

    if (fd < 0 || ss_busy || ss_in_vfork_child())
        return;
    ss_busy++;
    if (path == NULL) {
        /* freopen(NULL, mode, fp): the same file, on the same fd */
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        r = readlink(link, at, sizeof(at) - 1);
        at[r > 0 ? r : 0] = '\0';
        path = r > 0 && at[0] == '/' ? at : NULL;
    }
    ss_logcap_opened(fd, AT_FDCWD, path, ss_logstdio_mode_flags(mode));
    ss_busy--;
    errno = err;
}

void ss_logstdio_closed(int fd)
{
    int err = errno;

    if (fd < 0 || ss_busy || ss_in_vfork_child())
        return;
    ss_busy++;
    ss_logcap_closed(fd);
    ss_busy--;
    errno = err;
}
