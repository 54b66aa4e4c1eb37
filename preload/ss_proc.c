/*
 * ss_proc.c - context across exec (see ss_proc.h).
 *
 * The process span lives in a static record: ending it, at exit, _exit or
 * exec, allocates nothing. Its context is kept apart, read-only once the
 * constructor has run, since other threads take it as a parent while the
 * record is being ended. A child's span sent for it when a signal killed
 * it is made in a record of its own too (a wait may be called from a
 * SIGCHLD handler), taken with a flag; a second reaping thread meanwhile
 * takes one from the free list.
 */
#define _GNU_SOURCE
#include "ss_proc.h"
#include "ss_config.h"
#include "ss_conn.h"
#include "ss_init.h"
#include "ss_log.h"
#include "ss_id.h"
#include "ss_proto.h"
#include "ss_reap.h"
#include "ss_sample.h"
#include "ss_span.h"
#include "../exporter/ex_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SS_PROC_TS_IN_MAX 1024   /* an inbound TRACESTATE is read up to this, as a header's */

static int ss_proc_has;          /* this image continues a trace */
static ss_ctx_t ss_proc_ctx;
static uint16_t ss_proc_ts_len;
static char ss_proc_ts[SS_TS_FORWARD_MAX + 1];
static ss_span_t ss_proc_span;
static int ss_proc_open;         /* ss_proc_span is to be ended */
static int ss_proc_handed;       /* passed on to the next image by an exec under way */
static ss_reap_table_t *ss_proc_reap; /* shared with fork children (ss_reap.h) */

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

/* The child's span id its parent chose, if envp has one meant for this
 * process: the span continues the one TRACEPARENT names (the next image
 * of the same process) or is its child. */
static void ss_proc_given(char *const envp[], const ss_ctx_t *parent, ss_span_t *s)
{
    const char *v = ss_envctx_get(envp, "SPANSHIM_PROC_SPAN");
    ss_envctx_ps_t ps;

    if (v == NULL)
        return;
    if (!ss_envctx_ps_parse(v, &ps)) {
        SS_COUNT(env_context_invalid);
        ss_log(SS_LOG_WARN, "SPANSHIM_PROC_SPAN in the environment is not valid; ignored");
        return;
    }
    if (ps.ppid != (uint32_t)getppid() || (memcmp(ps.parent_id, parent->span_id, 8) != 0 &&
                                           memcmp(ps.span_id, parent->span_id, 8) != 0))
        return; /* inherited through a process that did not read it: not ours */
    memcpy(s->ctx.span_id, ps.span_id, 8);
    memcpy(s->parent_id, ps.parent_id, 8);
    if (ps.start_ns != 0 && ps.start_ns < s->start_ns)
        s->start_ns = ps.start_ns;
}

/* The table of children, shared with every fork child to come. */
static void ss_proc_table(void)
{
    void *m;

    if (ss_proc_reap || !ss_cfg.propagate || ss_cfg.exec_propagation_off || ss_cfg.disabled)
        return;
    m = mmap(NULL, sizeof(ss_reap_table_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    if (m != MAP_FAILED)
        ss_proc_reap = m;
}

void ss_proc_init(int argc, char **argv, char **envp)
{
    const char *tp, *ts;
    ss_ctx_t parent;
    ss_span_t *s = &ss_proc_span;

    ss_proc_table();
    ss_proc_ts_len = 0;
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
    ss_proc_given(envp, &parent, s);
    s->ts_len = ss_proc_ts_len;
    memcpy(s->ts, ss_proc_ts, ss_proc_ts_len + 1u);
    ss_proc_name(s->proc.name, sizeof(s->proc.name), argc > 0 && argv ? argv[0] : NULL);
    ss_proc_copy(s->proc.command, sizeof(s->proc.command), argc > 0 && argv ? argv[0] : NULL);
    s->proc.pid = getpid();
    ss_proc_ctx = s->ctx;
    ss_proc_open = 1;
    on_exit(ss_proc_on_exit, NULL);
}

/* Whether this image holds a process span it is to end (not a fork
 * child's copy, not in a vfork child). */
static int ss_proc_owns(void)
{
    return __atomic_load_n(&ss_proc_open, __ATOMIC_ACQUIRE) && !ss_in_vfork_child() &&
           ss_span_is_own(&ss_proc_span);
}

void ss_proc_image_execs(char *const env[])
{
    const char *v;
    ss_envctx_ps_t ps;

    if (!ss_proc_owns())
        return;
    v = ss_envctx_get(env, "SPANSHIM_PROC_SPAN");
    if (v && ss_envctx_ps_parse(v, &ps) && memcmp(ps.span_id, ss_proc_span.ctx.span_id, 8) == 0 &&
        __atomic_exchange_n(&ss_proc_open, 0, __ATOMIC_ACQ_REL)) {
        ss_proc_handed = 1; /* the next image ends it */
        return;
    }
    ss_proc_image_ends(0, 0);
}

void ss_proc_exec_failed(void)
{
    if (!ss_proc_handed || ss_in_vfork_child())
        return;
    ss_proc_handed = 0;
    __atomic_store_n(&ss_proc_open, 1, __ATOMIC_RELEASE);
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

/* The program's file of path (its last part), else argv[0]'s. */
static void ss_proc_child_name(char *out, size_t cap, const char *path, const char *argv0)
{
    const char *f = path && *path ? path : argv0, *b;

    if (f == NULL || *f == '\0')
        f = "process";
    b = strrchr(f, '/');
    ss_proc_copy(out, cap, b && b[1] ? b + 1 : f);
}

/* A span id for the child started under parent, into e->ps and e->reap;
 * an exec's is kept at once (this process is the child). */
static void ss_proc_assign(ss_proc_env_t *e, const ss_ctx_t *parent, const char *ts,
                           uint16_t ts_len, int how, const char *path, char *const argv[])
{
    ss_reap_entry_t *r = &e->reap;
    ss_envctx_ps_t ps;
    const char *argv0 = argv ? argv[0] : NULL;

    e->ps[0] = '\0';
    if (ss_proc_reap == NULL || how == SS_PROC_UNREAPED || ss_cfg.disabled)
        return;
    memset(r, 0, offsetof(ss_reap_entry_t, ts));
    r->parent = *parent;
    ss_id_span(r->span_id);
    r->sampled = (uint8_t)ss_sample(&ss_cfg.sampler, parent->trace_id, 1,
                                    parent->flags & SS_FLAG_SAMPLED);
    r->start_ns = ss_now_ns();
    r->ts_len = ts_len <= SS_TS_FORWARD_MAX ? ts_len : 0;
    memcpy(r->ts, ts ? ts : "", r->ts_len);
    r->ts[r->ts_len] = '\0';
    ss_proc_child_name(r->name, sizeof(r->name), path, argv0);
    ss_proc_copy(r->command, sizeof(r->command), argv0);
    memcpy(ps.span_id, r->span_id, 8);
    memcpy(ps.parent_id, parent->span_id, 8);
    ps.start_ns = r->start_ns;
    if (how == SS_PROC_EXEC) { /* a fork or vfork child: its parent reaps it */
        r->pid = (int32_t)getpid();
        r->ppid = (int32_t)getppid();
    } else {                   /* a spawn: this process reaps it */
        r->ppid = (int32_t)getpid();
    }
    ps.ppid = (uint32_t)r->ppid;
    if (how == SS_PROC_EXEC) {
        int kept = ss_reap_put(ss_proc_reap, r);

        if (kept == SS_REAP_NOT_KEPT)
            return; /* the child picks its own */
        if (kept == SS_REAP_KEPT_EVICTING)
            SS_COUNT(children_evicted);
    } else {
        e->assigned = 1;
    }
    ss_envctx_ps_format(&ps, e->ps);
}

/* The next image of this process continues its span. */
static void ss_proc_hand_on(ss_proc_env_t *e)
{
    ss_envctx_ps_t ps;

    memcpy(ps.span_id, ss_proc_span.ctx.span_id, 8);
    memcpy(ps.parent_id, ss_proc_span.parent_id, 8);
    ps.start_ns = ss_proc_span.start_ns;
    ps.ppid = (uint32_t)getppid();
    ss_envctx_ps_format(&ps, e->ps);
}

char *const *ss_proc_child_env(char *const envp[], ss_proc_env_t *e, int how, const char *path,
                               char *const argv[])
{
    const ss_ctx_t *parent;
    const char *ts = NULL;
    uint16_t ts_len = 0;
    size_t n, cap = SS_PROC_ENV_STACK;
    char **vec = e->vec;
    int continues;

    e->map = NULL;
    e->swapped = 0;
    e->assigned = 0;
    e->ps[0] = '\0';
    if (!__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) || ss_busy || !ss_cfg.propagate ||
        ss_cfg.exec_propagation_off)
        return envp;
    /* This image replacing itself: the process goes on, and so does its span. */
    continues = how == SS_PROC_EXEC && ss_proc_owns() && !ss_cfg.disabled;
    if (continues) {
        parent = &ss_proc_span.ctx;
        ts = ss_proc_ts;
        ts_len = ss_proc_ts_len;
    } else if ((parent = ss_conn_parent_now(NULL, &ts, &ts_len)) == NULL || !parent->valid) {
        return envp; /* no request, or several and none to choose */
    }
    n = ss_envctx_count(envp) + 4;
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
    if (continues)
        ss_proc_hand_on(e);
    else
        ss_proc_assign(e, parent, ts, ts_len, how, path, argv);
    if (ss_envctx_build(envp, e->tp, e->ts, e->ps, vec, cap) < 0) {
        e->assigned = 0;
        ss_proc_env_done(e);
        SS_COUNT(exec_context_skipped);
        return envp;
    }
    SS_COUNT(exec_context_passed);
    return vec;
}

/* The span of a child that a signal ended, from what was kept of it. */
static void ss_proc_send_killed(const ss_reap_entry_t *r, int32_t pid, int sig)
{
    static ss_span_t rec;
    static int rec_taken;
    ss_span_t *s = &rec;
    const char *name;

    if (!r->sampled)
        return;
    if (__atomic_exchange_n(&rec_taken, 1, __ATOMIC_ACQUIRE) && (s = ss_span_alloc()) == NULL)
        return;
    memset(s, 0, offsetof(ss_span_t, next));
    s->kind = SS_KIND_INTERNAL;
    s->type = SS_SPAN_PROC;
    ss_span_start_ctx(s, &r->parent, 1);
    memcpy(s->ctx.span_id, r->span_id, 8);
    s->ctx.flags = (uint8_t)((r->parent.flags & SS_FLAG_RANDOM) | SS_FLAG_SAMPLED);
    s->sampled = 1;
    s->start_ns = r->start_ns;
    s->end_ns = ss_now_ns();
    s->ts_len = r->ts_len;
    memcpy(s->ts, r->ts, r->ts_len + 1u);
    memcpy(s->proc.name, r->name, sizeof(s->proc.name));
    memcpy(s->proc.command, r->command, sizeof(s->proc.command));
    s->proc.pid = pid;
    s->proc.exited = 1;
    s->proc.exit_code = 128 + sig;
    name = sigabbrev_np(sig);
    if (name)
        snprintf(s->error_type, sizeof(s->error_type), "SIG%s", name);
    else /* a real-time signal */
        snprintf(s->error_type, sizeof(s->error_type), "signal %d", sig);
    SS_COUNT(spans_recorded);
    SS_COUNT(children_killed);
    ex_batch_add(s);
    if (s == &rec)
        __atomic_store_n(&rec_taken, 0, __ATOMIC_RELEASE);
    else
        ss_span_free(s);
}

void ss_proc_reaped(pid_t pid, int status)
{
    ss_reap_entry_t r;
    int err = errno;

    if (ss_proc_reap == NULL || pid <= 0 || ss_in_vfork_child() ||
        !(WIFEXITED(status) || WIFSIGNALED(status)))
        return;
    /* Taken even when it cannot be sent: left there, it would be a later
     * child's with the pid reused. */
    if (!ss_reap_take(ss_proc_reap, (int32_t)pid, (int32_t)getpid(), &r))
        return;
    if (WIFSIGNALED(status) && __atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) && !ss_busy) {
        ss_busy++;
        ss_proc_send_killed(&r, (int32_t)pid, WTERMSIG(status));
        ss_busy--;
    }
    errno = err;
}

void ss_proc_spawned(ss_proc_env_t *e, int r, pid_t pid)
{
    int err = errno;

    if (e->assigned && r == 0 && pid > 0 && ss_proc_reap) {
        e->reap.pid = (int32_t)pid;
        if (ss_reap_put(ss_proc_reap, &e->reap) == SS_REAP_KEPT_EVICTING)
            SS_COUNT(children_evicted);
    }
    e->assigned = 0;
    errno = err;
}

/* The table's key of popen's stream f: its address as the pid, minus this
 * process's pid as the parent (never a real one: only this process, which
 * has the stream, finds it). */
static void ss_proc_stream_key(FILE *f, int32_t *pid, int32_t *ppid)
{
    uintptr_t a = (uintptr_t)f;

    *pid = (int32_t)(uint32_t)(a ^ (a >> 32)) | 1;
    *ppid = -(int32_t)getpid();
}

void ss_proc_popened(ss_proc_env_t *e, FILE *f)
{
    int err = errno;

    if (e->assigned && f && ss_proc_reap) {
        ss_proc_stream_key(f, &e->reap.pid, &e->reap.ppid);
        if (ss_reap_put(ss_proc_reap, &e->reap) == SS_REAP_KEPT_EVICTING)
            SS_COUNT(children_evicted);
    }
    e->assigned = 0;
    errno = err;
}

void ss_proc_pclosed(FILE *f, int status)
{
    ss_reap_entry_t r;
    int32_t pid, ppid;
    int err = errno;

    if (ss_proc_reap == NULL || f == NULL || ss_in_vfork_child())
        return;
    ss_proc_stream_key(f, &pid, &ppid);
    if (ss_reap_take(ss_proc_reap, pid, ppid, &r) && status != -1 && WIFSIGNALED(status) &&
        __atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) && !ss_busy) {
        ss_busy++;
        ss_proc_send_killed(&r, 0, WTERMSIG(status));
        ss_busy--;
    }
    errno = err;
}

void ss_proc_system_done(ss_proc_env_t *e, int status)
{
    int err = errno;

    if (e->assigned && status != -1 && WIFSIGNALED(status) && !ss_busy) {
        ss_busy++;
        ss_proc_send_killed(&e->reap, 0, WTERMSIG(status));
        ss_busy--;
    }
    e->assigned = 0;
    errno = err;
}

void ss_proc_env_done(ss_proc_env_t *e)
{
    int err = errno;

    if (e->map)
        munmap(e->map, e->map_len);
    e->map = NULL;
    errno = err;
}

int ss_proc_environ_swap(ss_proc_env_t *e, int how)
{
    char *const *env;

    e->swapped = 0;
    e->assigned = 0;
    if (!__atomic_load_n(&ss_ready, __ATOMIC_ACQUIRE) || ss_busy || ss_in_vfork_child() ||
        !ss_cfg.propagate || ss_cfg.exec_propagation_off ||
        ss_conn_parent_now(NULL, NULL, NULL) == NULL)
        return 0;
    if (ss_program_threads() > 1) { /* another thread may use environ meanwhile */
        SS_COUNT(exec_context_skipped);
        return 0;
    }
    env = ss_proc_child_env(environ, e, how, "/bin/sh", (char *const[]){"sh", NULL});
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
