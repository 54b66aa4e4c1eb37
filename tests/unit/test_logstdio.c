/*
 * test_logstdio.c - C stdio's output to a log, captured at the call
 * (preload/ss_logstdio.h). The records are caught at the batcher's door
 * (ex_batch_add_log is wrapped); each formatting call is run beside the
 * real one on a stream of its own, and both give the same bytes, return
 * value and errno: a short line (the stack buffer), one longer than it
 * (formatted again through the shim's tee stream), %n, a fortified call,
 * a conversion that fails halfway (EILSEQ: what came before it is written,
 * and captured), a stream on /dev/full (nothing accepted, nothing
 * captured), dprintf to a pipe, short and long; fwrite's, fputs's and
 * fputc's counts; the capture inside the shim (a signal handler) counted
 * as busy; a thread cancelled in a write that blocks, which leaves the
 * stream unlocked; and fopen's modes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <wchar.h>

#include "../../exporter/ex_batch.h"
#include "../../preload/ss_init.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_logcap.h"
#include "../../preload/ss_logline.h"
#include "../../preload/ss_logstdio.h"

/* glibc's, declared by its headers only for fortified programs. */
extern int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);

#define MAXREC 16

static struct {
    char body[SS_LOGLINE_MAX];
    size_t len;
    int cut;
} got[MAXREC];
static int ngot;

void __wrap_ex_batch_add_log(const ss_logrec_t *r);
void __wrap_ex_batch_add_log(const ss_logrec_t *r)
{
    assert_true(ngot < MAXREC);
    memcpy(got[ngot].body, r->body, r->body_len);
    got[ngot].len = r->body_len;
    got[ngot].cut = r->cut;
    ngot++;
}

static void body_is(int i, const char *want)
{
    assert_true(i < ngot);
    assert_int_equal(got[i].len, strlen(want));
    assert_memory_equal(got[i].body, want, got[i].len);
}

/* A file whose path is a log's, open for writing, as a stream; and a
 * second one, no log, for the real call beside it. */
typedef struct files {
    char log[64], plain[64];
    FILE *lf, *pf;
} files_t;

static void files_open(files_t *f)
{
    int a, b;

    snprintf(f->log, sizeof(f->log), "/tmp/ss-logstdio-XXXXXX.log");
    snprintf(f->plain, sizeof(f->plain), "/tmp/ss-logstdio-XXXXXX.txt");
    a = mkstemps(f->log, 4);
    b = mkstemps(f->plain, 4);
    assert_true(a >= 0 && b >= 0);
    ss_logcap_opened(a, AT_FDCWD, f->log, O_WRONLY);
    ss_logcap_opened(b, AT_FDCWD, f->plain, O_WRONLY);
    assert_true(ss_logcap_is_log(a));
    assert_false(ss_logcap_is_log(b));
    f->lf = fdopen(a, "w");
    f->pf = fdopen(b, "w");
    assert_non_null(f->lf);
    assert_non_null(f->pf);
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Both streams closed (the log's unfinished line goes out), both files
 * the same bytes, removed. */
static void files_same(files_t *f)
{
    static char a[32768], b[32768];
    size_t na, nb;

    ss_logstdio_closed(fileno(f->lf));
    fclose(f->lf);
    fclose(f->pf);
    na = slurp(f->log, a, sizeof(a));
    nb = slurp(f->plain, b, sizeof(b));
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    unlink(f->log);
    unlink(f->plain);
}

/* The capture's vfprintf on the log's stream, and the real one on the
 * other: the same return and errno. */
static int both(files_t *f, int flag, const char *fmt, ...)
{
    va_list ap;
    int r, r2, e, e2;

    va_start(ap, fmt);
    errno = 0;
    r = ss_logstdio_vfprintf(f->lf, flag, fmt, ap);
    e = errno;
    va_end(ap);
    va_start(ap, fmt);
    errno = 0;
    r2 = flag < 0 ? vfprintf(f->pf, fmt, ap) : __vfprintf_chk(f->pf, flag, fmt, ap);
    e2 = errno;
    va_end(ap);
    assert_int_equal(r, r2);
    assert_int_equal(e, e2);
    return r;
}

static int setup(void **state)
{
    (void)state;
    ngot = 0;
    assert_int_equal(ss_logcap_configure("all", "*.log,/dev/full"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ss_logcap_closed_range(3, SS_LOGCAP_FDS);
    return 0;
}

static void formatted_short_and_long(void **state)
{
    static char big[3001];
    files_t f;
    int n = -1;

    (void)state;
    memset(big, 'b', 3000);
    files_open(&f);
    assert_int_equal(both(&f, -1, "one %d\n", 1), 6);
    assert_int_equal(ngot, 1); /* at the call, before any flush */
    body_is(0, "one 1");
    assert_int_equal(both(&f, -1, "two\nin one %s\n", "call"), 16);
    assert_int_equal(both(&f, -1, "%s\nthen unfinished", big), 3016); /* over the stack buffer */
    assert_int_equal(both(&f, -1, "ab%ncd\n", &n), 5);
    assert_int_equal(n, 2);
    assert_int_equal(both(&f, 1, "fortified %s\n", "ok"), 13);
    assert_int_equal(both(&f, -1, "%s", ""), 0);
    files_same(&f);
    assert_int_equal(ngot, 6);
    body_is(1, "two");
    body_is(2, "in one call");
    body_is(3, big);
    body_is(4, "then unfinishedabcd");
    body_is(5, "fortified ok");
}

static void formatting_fails_halfway(void **state)
{
    wchar_t bad[] = {0x100, 0}; /* no byte for it in the C locale */
    files_t f;

    (void)state;
    files_open(&f);
    assert_int_equal(both(&f, -1, "ab%lsc\n", bad), -1); /* "ab" written, then EILSEQ */
    assert_int_equal(both(&f, -1, "after\n"), 6);
    files_same(&f);
    assert_int_equal(ngot, 1);
    body_is(0, "abafter");
}

static void dev_full_accepts_nothing(void **state)
{
    FILE *a = fopen("/dev/full", "w"), *b = fopen("/dev/full", "w");
    const char *s = "full\n";
    int e, e2;
    size_t r, r2;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    ss_logcap_opened(fileno(a), AT_FDCWD, "/dev/full", O_WRONLY);
    assert_true(ss_logcap_is_log(fileno(a)));
    setvbuf(a, NULL, _IONBF, 0);
    setvbuf(b, NULL, _IONBF, 0);
    {
        files_t f = {"", "", a, b};

        assert_int_equal(both(&f, -1, "full %d\n", 1), -1);
    }
    errno = 0;
    r = ss_logstdio_fwrite(s, 1, 5, a, fwrite, 1);
    e = errno;
    errno = 0;
    r2 = fwrite(s, 1, 5, b);
    e2 = errno;
    assert_int_equal(r, r2);
    assert_int_equal(e, e2);
    assert_int_equal(ss_logstdio_fputs(s, a, fputs, 1), fputs(s, b));
    assert_int_equal(ss_logstdio_fputc('\n', a, fputc, 0), fputc('\n', b));
    ss_logstdio_closed(fileno(a));
    fclose(a);
    fclose(b);
    assert_int_equal(ngot, 0);
}

static void plain_calls_counts(void **state)
{
    files_t f;

    (void)state;
    files_open(&f);
    assert_int_equal(ss_logstdio_fwrite("abcdef", 3, 2, f.lf, fwrite, 1), fwrite("abcdef", 3, 2, f.pf));
    assert_int_equal(ss_logstdio_fputs("-puts", f.lf, fputs_unlocked, 0), fputs("-puts", f.pf));
    assert_int_equal(ss_logstdio_fputc('\n', f.lf, fputc, 1), fputc('\n', f.pf));
    assert_int_equal(ss_logstdio_fwrite("x", 1, 0, f.lf, fwrite, 1), 0);
    files_same(&f);
    assert_int_equal(ngot, 1);
    body_is(0, "abcdef-puts");
}

static int dboth(int fd, int fd2, const char *fmt, ...)
{
    va_list ap;
    int r, r2;

    va_start(ap, fmt);
    r = ss_logstdio_vdprintf(fd, -1, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    r2 = vdprintf(fd2, fmt, ap);
    va_end(ap);
    assert_int_equal(r, r2);
    return r;
}

static void dprintf_to_a_pipe(void **state)
{
    static char big[4001], a[8192], b[8192];
    int p[2], q[2];
    ssize_t na, nb;

    (void)state;
    memset(big, 'd', 4000);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(q), 0);
    ss_logcap_opened(p[1], AT_FDCWD, "/tmp/pipe.log", O_WRONLY);
    assert_int_equal(dboth(p[1], q[1], "dprintf %d\n", 7), 10);
    assert_int_equal(dboth(p[1], q[1], "%s\n", big), 4001); /* the tee, to an fd */
    na = read(p[0], a, sizeof(a));
    nb = read(q[0], b, sizeof(b));
    assert_int_equal(na, 4011);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
    assert_int_equal(ngot, 2);
    body_is(0, "dprintf 7");
    body_is(1, big);
    ss_logstdio_closed(p[1]);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static void inside_the_shim_counted_busy(void **state)
{
    uint64_t busy = ss_count.logs_dropped_busy;
    files_t f;

    (void)state;
    files_open(&f);
    ss_busy++;
    assert_int_equal(both(&f, -1, "in a handler\n"), 13);
    ss_busy--;
    files_same(&f);
    assert_int_equal(ngot, 0);
    assert_int_equal(ss_count.logs_dropped_busy, busy + 1);
}

static void *write_blocked(void *arg)
{
    ss_logstdio_fwrite("blocks\n", 1, 7, arg, fwrite, 1);
    return NULL;
}

/* A thread cancelled while the real write blocks, the stream's lock held:
 * the lock is given back (or every other thread's stdout would hang). */
static void cancelled_in_the_write(void **state)
{
    static char junk[65536];
    pthread_t t;
    FILE *fp;
    int p[2], fl;
    void *res;

    (void)state;
    assert_int_equal(pipe(p), 0);
    fl = fcntl(p[1], F_GETFL);
    fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
    while (write(p[1], junk, sizeof(junk)) > 0)
        ;
    fcntl(p[1], F_SETFL, fl); /* full, and blocking again */
    ss_logcap_opened(p[1], AT_FDCWD, "/tmp/full-pipe.log", O_WRONLY);
    fp = fdopen(p[1], "w");
    assert_non_null(fp);
    setvbuf(fp, NULL, _IONBF, 0);
    assert_int_equal(pthread_create(&t, NULL, write_blocked, fp), 0);
    usleep(100000);
    assert_int_equal(pthread_cancel(t), 0);
    assert_int_equal(pthread_join(t, &res), 0);
    assert_ptr_equal(res, PTHREAD_CANCELED);
    assert_int_equal(ftrylockfile(fp), 0); /* free */
    funlockfile(fp);
    ss_logstdio_closed(p[1]);
    close(p[0]);
    fclose(fp);
}

static void fopen_modes(void **state)
{
    (void)state;
    assert_int_equal(ss_logstdio_mode_flags("r"), O_RDONLY);
    assert_int_equal(ss_logstdio_mode_flags("rb"), O_RDONLY);
    assert_int_equal(ss_logstdio_mode_flags("r+"), O_RDWR);
    assert_int_equal(ss_logstdio_mode_flags("rb+"), O_RDWR);
    assert_int_equal(ss_logstdio_mode_flags("w"), O_WRONLY);
    assert_int_equal(ss_logstdio_mode_flags("we"), O_WRONLY);
    assert_int_equal(ss_logstdio_mode_flags("a"), O_WRONLY | O_APPEND);
    assert_int_equal(ss_logstdio_mode_flags("a+"), O_RDWR | O_APPEND);
    assert_int_equal(ss_logstdio_mode_flags("r,ccs=UTF-8+"), O_RDONLY);
    assert_int_equal(ss_logstdio_mode_flags(""), O_RDONLY);
    assert_int_equal(ss_logstdio_mode_flags(NULL), O_RDONLY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(formatted_short_and_long, setup, teardown),
        cmocka_unit_test_setup_teardown(formatting_fails_halfway, setup, teardown),
        cmocka_unit_test_setup_teardown(dev_full_accepts_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(plain_calls_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(dprintf_to_a_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(inside_the_shim_counted_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(cancelled_in_the_write, setup, teardown),
        cmocka_unit_test(fopen_modes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
