/*
 * ss_proc.c - context across exec (see ss_proc.h).
 *
 * The process span lives in a static record: ending it, at exit, _exit or
 * exec, allocates nothing. Its context is kept apart, read-only once the
 * constructor has run, since other threads take it as a parent while the
 * record is being ended.
 */
#define _GNU_SOURCE
#include "ss_proc.h"
#include "ss_config.h"
#include "ss_conn.h"
#include "ss_init.h"
#include "ss_log.h"
#include "ss_proto.h"
#include "ss_span.h"
#include "../exporter/ex_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#define SS_PROC_TS_IN_MAX 1024   /* an inbound TRACESTATE is read up to this, as a header's */

static int ss_proc_has;          /* this image continues a trace */
static ss_ctx_t ss_proc_ctx;
static uint16_t ss_proc_ts_len;
static char ss_proc_ts[SS_TS_FORWARD_MAX + 1];
static ss_span_t ss_proc_span;
static int ss_proc_open;         /* ss_proc_span is to be ended */

const ss_ctx_t *ss_proc_parent(const char **ts, uint16_t *ts_len)
{
    if (!ss_proc_has)
        return NULL;
    if (ts) {
        *ts = ss_proc_ts;
        *ts_len = ss_proc_ts_len;
    }
    return &ss_proc_ctx;
}

static void ss_proc_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* The program's file: the one exec was given (a script's own name, not
 * its interpreter's), else argv[0]. */
static void ss_proc_name(char *out, size_t cap, const char *argv0)
{
    const char *f = (const char *)getauxval(AT_EXECFN), *b;

    if (f == NULL || *f == '\0')
        f = argv0;
    if (f == NULL || *f == '\0')
        f = "process";
    b = strrchr(f, '/');
    ss_proc_copy(out, cap, b && b[1] ? b + 1 : f);
}

/* exit() and return from main, with the status. The shim's constructor
 * runs before the C library registers the loader's exit handler, so this
 * one runs after it: after the program's own handlers and the shim's
 * destructors (which leave the hooks and the exporter working), the last
 * thing the process does. So it ships the span itself. */
static void ss_proc_on_exit(int status, void *arg)
{
    (void)arg;
    ss_proc_image_ends(1, status);
    ss_flush_now();
}

void ss_proc_init(int argc, char **argv, char **envp)
{
    const char *tp, *ts;
    ss_ctx_t parent;
    ss_span_t *s = &ss_proc_span;

    if (!ss_cfg.propagate || (tp = ss_envctx_get(envp, "TRACEPARENT")) == NULL)
        return;
    if (!ss_tp_parse(tp, strnlen(tp, SS_TP_LEN + 1), &parent)) {
        SS_COUNT(env_context_invalid);
        ss_log(SS_LOG_WARN, "TRACEPARENT in the environment is not a valid traceparent; ignored");
        return;
    }
    if ((ts = ss_envctx_get(envp, "TRACESTATE")) != NULL) {
        size_t n = strnlen(ts, SS_PROC_TS_IN_MAX);

        ss_proc_ts_len = (uint16_t)ss_ts_forward(ts, n, ts[n] != '\0', ss_proc_ts);
    }
    ss_proc_ts[ss_proc_ts_len] = '\0';
    ss_proc_has = 1;
    if (ss_cfg.disabled) {
        ss_proc_ctx = parent; /* passed on as it came */
        return;
    }
    s->kind = SS_KIND_INTERNAL;
    s->type = SS_SPAN_PROC;
    s->start_ns = ss_now_ns();
    ss_span_start_ctx(s, &parent, 1);
    s->ts_len = ss_proc_ts_len;
    memcpy(s->ts, ss_proc_ts, ss_proc_ts_len + 1u);
    ss_proc_name(s->proc.name, sizeof(s->proc.name), argc > 0 && argv ? argv[0] : NULL);
    ss_proc_copy(s->proc.command, sizeof(s->proc.command), argc > 0 && argv ? argv[0] : NULL);
    s->proc.pid = getpid();
    ss_proc_ctx = s->ctx;
    ss_proc_open = 1;
    on_exit(ss_proc_on_exit, NULL);
}

void ss_proc_image_ends(int exited, int status)
{
    ss_span_t *s = &ss_proc_span;

    if (!__atomic_load_n(&ss_proc_open, __ATOMIC_ACQUIRE) || ss_in_vfork_child() ||
        !ss_span_is_own(s) || !__atomic_exchange_n(&ss_proc_open, 0, __ATOMIC_ACQ_REL))
        return; /* none, or a fork child's copy of its parent's */
    ss_busy++;
    s->end_ns = ss_now_ns();
    s->proc.exited = (uint8_t)exited;
    s->proc.exit_code = status & 0xff;
    if (exited && s->proc.exit_code != 0)
        snprintf(s->error_type, sizeof(s->error_type), "%d", s->proc.exit_code);
    if (s->sampled) {
        SS_COUNT(spans_recorded);
        ex_batch_add(s);
    }
    ss_busy--;
}

/* ---- the child's environment ---------------------------------------------- */

char *const *ss_proc_child_env(char *const envp[], ss_proc_env_t *e)
{
    const ss_ctx_t *parent;
    const char *ts = NULL;
    uint16_t ts_len = 0;
    size_t n, cap = SS_PROC_ENV_STACK;
    char **vec = e->vec;

    e->map = NULL;
    e->swapped = 0;
    if (!__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) || ss_busy || !ss_cfg.propagate ||
        ss_cfg.exec_propagation_off)
        return envp;
    if ((parent = ss_conn_parent_now(NULL, &ts, &ts_len)) == NULL || !parent->valid)
        return envp; /* no request, or several and none to choose */
    n = ss_envctx_count(envp) + 3;
    if (n > cap) {
        void *m;

        if (ss_in_vfork_child()) { /* a mapping would stay in the parent */
            SS_COUNT(exec_context_skipped);
            return envp;
        }
        m = mmap(NULL, n * sizeof(char *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
        if (m == MAP_FAILED) {
            SS_COUNT(exec_context_skipped);
            return envp;
        }
        e->map = vec = m;
        e->map_len = n * sizeof(char *);
        cap = n;
    }
    ss_envctx_entries(parent, ts, ts_len, e->tp, e->ts);
    if (ss_envctx_build(envp, e->tp, e->ts, vec, cap) < 0) {
        ss_proc_env_done(e);
        SS_COUNT(exec_context_skipped);
        return envp;
    }
    SS_COUNT(exec_context_passed);
    return vec;
}

void ss_proc_env_done(ss_proc_env_t *e)
{
    int err = errno;

    if (e->map)
        munmap(e->map, e->map_len);
    e->map = NULL;
    errno = err;
}

int ss_proc_environ_swap(ss_proc_env_t *e)
{
    char *const *env;

    e->swapped = 0;
    if (!__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) || ss_busy || ss_in_vfork_child() ||
        !ss_cfg.propagate || ss_cfg.exec_propagation_off ||
        ss_conn_parent_now(NULL, NULL, NULL) == NULL)
        return 0;
    if (ss_program_threads() > 1) { /* another thread may use environ meanwhile */
        SS_COUNT(exec_context_skipped);
        return 0;
    }
    env = ss_proc_child_env(environ, e);
    if (env == environ)
        return 0;
    e->saved_environ = environ;
    environ = (char **)env;
    e->swapped = 1;
    return 1;
}

void ss_proc_environ_restore(ss_proc_env_t *e)
{
    if (!e->swapped)
        return;
    /* Whatever a signal handler's setenv made of it meanwhile points into
     * the copy, which is about to go: the program's own array comes back. */
    environ = e->saved_environ;
    e->swapped = 0;
    ss_proc_env_done(e);
}
