/*
 * test_exec.c - context across exec: the environment a child is started
 * with, and the span of an image that was started with a context.
 *
 * The environment: the program's entries in their order, TRACEPARENT and
 * TRACESTATE replaced (never a second one), nothing said outside a
 * request, when several are served at once, or when turned off; the
 * caller's array untouched; an environment too large for the stack still
 * done. The image: a valid TRACEPARENT at start gives an INTERNAL span,
 * its parent the variable's span, the parent in turn of what the image
 * starts outside any request; its end carries the exit code, ERROR if
 * not 0, and is sent once. A child started with a pre-assigned span id
 * (SPANSHIM_PROC_SPAN) that a signal ends gets that span from the parent
 * that reaps it, once; one that exits gets none from it. An image given an
 * id meant for it takes it, one meant for another process is ignored, and
 * an exec hands the span on (sent once, by whichever image ends it). Each test leaves the state as the next one
 * needs it: the process gets its context in the order they are listed.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../exporter/collector/col_otlp.h"
#include "../../exporter/ex_otlp.h"
#include "../../preload/ss_conn.h"
#include "../../preload/ss_envctx.h"
#include "../../preload/ss_init.h"
#include "../../preload/ss_log.h"
#include "../../preload/ss_proc.h"
#include "../../preload/ss_proto.h"
#include "../../preload/ss_serving.h"
#include "../../preload/ss_span.h"
#include "unit_config.h"

static const char given_tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/* The process span, caught on its way to the batcher and decoded. */
static int sent;
static char sent_name[64], sent_parent[17], sent_span[17], sent_error[16], sent_command[64];
static int sent_kind, sent_status;
static int64_t sent_exit = -1, sent_pid;

void __wrap_ex_batch_add(const ss_span_t *s);
void __wrap_ex_batch_add(const ss_span_t *s)
{
    static uint8_t res[EX_RESOURCE_MAX], buf[EX_ENVELOPE_MAX + EX_SPAN_MAX];
    uint8_t body[EX_SPAN_MAX];
    size_t n = ex_otlp_span(s, body, sizeof(body)), env, res_len, i;
    Opentelemetry__Proto__Trace__V1__Span *sp;
    ex_process_t p;
    col_request_t *r;

    if (n == 0)
        abort();
    memset(&p, 0, sizeof(p));
    p.pid = 1;
    p.service_name = p.exe_name = p.exe_path = p.command = p.host_name = "t";
    res_len = ex_otlp_resource(&p, res, sizeof(res));
    env = ex_otlp_envelope(res, res_len, n, buf, sizeof(buf));
    memcpy(buf + env, body, n);
    r = col_request_unpack(env + n, buf);
    if (r == NULL)
        abort();
    sp = r->resource_spans[0]->scope_spans[0]->spans[0];
    sent++;
    snprintf(sent_name, sizeof(sent_name), "%s", sp->name);
    sent_kind = sp->kind;
    sent_status = sp->status ? sp->status->code : 0;
    sent_parent[0] = sent_error[0] = sent_command[0] = '\0';
    sent_pid = 0;
    if (sp->parent_span_id.len == 8)
        ss_hex(sp->parent_span_id.data, 8, sent_parent);
    ss_hex(sp->span_id.data, 8, sent_span);
    for (i = 0; i < sp->n_attributes; i++) {
        const char *k = sp->attributes[i]->key;
        const Opentelemetry__Proto__Common__V1__AnyValue *v = sp->attributes[i]->value;

        if (strcmp(k, "process.exit.code") == 0)
            sent_exit = v->int_value;
        else if (strcmp(k, "process.pid") == 0)
            sent_pid = v->int_value;
        else if (strcmp(k, "error.type") == 0)
            snprintf(sent_error, sizeof(sent_error), "%s", v->string_value);
        else if (strcmp(k, "process.command") == 0)
            snprintf(sent_command, sizeof(sent_command), "%s", v->string_value);
    }
    col_request_free(r);
}

static const ss_ctx_t served = {
    {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
    {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
    SS_FLAG_SAMPLED,
    1,
};
static const char served_tp[] = "TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/* Where the thread serves the request `served` (with tracestate ts). */
static uint16_t serve(const char *ts)
{
    uint16_t slot = ss_serving_begin();

    ss_conn_serving(&served, ts, (uint16_t)strlen(ts));
    return slot;
}

static void unserve(uint16_t slot)
{
    ss_serving_end(slot);
    ss_conn_thread_reset();
}

static size_t count(char *const *v)
{
    return ss_envctx_count(v);
}

/* ---- the builder ------------------------------------------------------- */

static void test_build_replaces_in_order(void **state)
{
    char *envp[] = {"A=1", "TRACEPARENT=00-old", "B=2", "TRACESTATE=old=1", "TRACEPARENT=again",
                    "C=3", NULL};
    char tp[SS_ENVCTX_TP_ENTRY], ts[SS_ENVCTX_TS_ENTRY], *out[16];

    (void)state;
    ss_envctx_entries(&served, "k=v", 3, tp, ts);
    assert_string_equal(tp, served_tp);
    assert_string_equal(ts, "TRACESTATE=k=v");
    assert_int_equal(ss_envctx_build(envp, tp, ts, "", out, 16), 5);
    assert_string_equal(out[0], "A=1");
    assert_string_equal(out[1], "B=2");
    assert_string_equal(out[2], "C=3");
    assert_ptr_equal(out[3], tp);
    assert_ptr_equal(out[4], ts);
    assert_null(out[5]);
    /* The program's array is as it was. */
    assert_string_equal(envp[1], "TRACEPARENT=00-old");
    assert_int_equal(count(envp), 6);
}

static void test_build_adds_and_drops_stale_state(void **state)
{
    char *envp[] = {"PATH=/bin", "TRACESTATE=stale=1", "traceparent=lower", "TRACEPARENTX=1",
                    "TRACEPARENT", NULL};
    char tp[SS_ENVCTX_TP_ENTRY], ts[SS_ENVCTX_TS_ENTRY], *out[8];

    (void)state;
    ss_envctx_entries(&served, "", 0, tp, ts);
    assert_string_equal(ts, "");
    /* Only the upper-case variables are the carrier's; a tracestate of
     * another context is not carried over to this one. */
    assert_int_equal(ss_envctx_build(envp, tp, ts, "", out, 8), 5);
    assert_string_equal(out[0], "PATH=/bin");
    assert_string_equal(out[1], "traceparent=lower");
    assert_string_equal(out[2], "TRACEPARENTX=1");
    assert_string_equal(out[3], "TRACEPARENT");
    assert_string_equal(out[4], served_tp);
    assert_null(out[5]);
}

static void test_build_bounds(void **state)
{
    char *envp[] = {"A=1", "B=2", NULL};
    char tp[SS_ENVCTX_TP_ENTRY], ts[SS_ENVCTX_TS_ENTRY], *out[6];

    (void)state;
    ss_envctx_entries(&served, "k=v", 3, tp, ts);
    assert_int_equal(ss_envctx_build(envp, tp, ts, "", out, 4), -1);
    assert_int_equal(ss_envctx_build(envp, tp, ts, "", out, count(envp) + 3), 4);
    assert_int_equal(ss_envctx_build(NULL, tp, ts, "", out, 3), 2); /* execve's NULL: empty */
    assert_ptr_equal(out[0], tp);
    assert_null(out[2]);
    assert_string_equal(ss_envctx_get(envp, "B"), "2");
    assert_null(ss_envctx_get(envp, "C"));
    assert_null(ss_envctx_get(NULL, "A"));
}

/* ---- what a child is started with ------------------------------------- */

static void test_nothing_outside_a_request(void **state)
{
    char *envp[] = {"A=1", "TRACEPARENT=00-inherited", NULL};
    ss_proc_env_t e;

    (void)state;
    assert_null(ss_proc_parent(NULL, NULL));
    assert_ptr_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_proc_env_done(&e);
}

static void test_serving_gives_the_server_span(void **state)
{
    char *envp[] = {"A=1", "TRACEPARENT=00-inherited", NULL};
    uint64_t passed = ss_count.exec_context_passed;
    uint16_t slot = serve("congo=t61rcWkgMzE");
    ss_proc_env_t e;
    char *const *env = ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL);

    (void)state;
    assert_ptr_not_equal(env, envp);
    assert_int_equal(count(env), 3);
    assert_string_equal(env[0], "A=1");
    assert_string_equal(env[1], served_tp);
    assert_string_equal(env[2], "TRACESTATE=congo=t61rcWkgMzE");
    assert_string_equal(envp[1], "TRACEPARENT=00-inherited");
    assert_int_equal(ss_count.exec_context_passed, passed + 1);
    ss_proc_env_done(&e);
    unserve(slot);
}

static void test_turned_off(void **state)
{
    char *envp[] = {"A=1", NULL};
    uint16_t slot = serve("");
    ss_proc_env_t e;

    (void)state;
    ss_cfg.exec_propagation_off = 1;
    assert_ptr_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_cfg.exec_propagation_off = 0;
    ss_cfg.propagate = 0; /* OTEL_PROPAGATORS without tracecontext */
    assert_ptr_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_cfg.propagate = 1;
    assert_ptr_not_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_proc_env_done(&e);
    unserve(slot);
}

static void test_several_served_name_none(void **state)
{
    char *envp[] = {"A=1", NULL};
    uint16_t slot = serve(""), other = ss_serving_begin(); /* an event loop's second */
    ss_proc_env_t e;

    (void)state;
    assert_ptr_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_serving_end(other);
    assert_ptr_not_equal(ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL), envp);
    ss_proc_env_done(&e);
    unserve(slot);
}

static void test_large_environment(void **state)
{
    enum { N = SS_PROC_ENV_STACK + 100 };
    static char *envp[N + 1];
    static char names[N][16];
    uint16_t slot = serve("");
    ss_proc_env_t e;
    char *const *env;
    size_t i;

    (void)state;
    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "V%zu=%zu", i, i);
        envp[i] = names[i];
    }
    envp[N] = NULL;
    env = ss_proc_child_env(envp, &e, SS_PROC_UNREAPED, NULL, NULL);
    assert_non_null(e.map);
    assert_int_equal(count(env), N + 1);
    assert_string_equal(env[N - 1], names[N - 1]);
    assert_string_equal(env[N], served_tp);
    ss_proc_env_done(&e);
    assert_null(e.map);
    unserve(slot);
}

/* system() and popen(): environ is the copy during the call, and comes back. */
static void test_environ_swap(void **state)
{
    char **before = environ;
    uint16_t slot;
    ss_proc_env_t e;

    (void)state;
    assert_int_equal(ss_proc_environ_swap(&e, SS_PROC_UNREAPED), 0); /* not serving */
    assert_ptr_equal(environ, before);
    slot = serve("");
    assert_int_equal(ss_proc_environ_swap(&e, SS_PROC_UNREAPED), 1);
    assert_ptr_not_equal(environ, before);
    assert_string_equal(getenv("TRACEPARENT"), served_tp + strlen("TRACEPARENT="));
    ss_proc_environ_restore(&e);
    assert_ptr_equal(environ, before);
    assert_null(getenv("TRACEPARENT"));
    unserve(slot);
}

/* ---- an image started with a context ------------------------------------ */

static void test_invalid_context_ignored(void **state)
{
    char *envp[] = {"TRACEPARENT=00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", NULL};
    char *argv[] = {"/usr/bin/prog", NULL};
    uint64_t bad = ss_count.env_context_invalid;

    (void)state;
    ss_proc_init(1, argv, envp);
    assert_null(ss_proc_parent(NULL, NULL));
    assert_int_equal(ss_count.env_context_invalid, bad + 1);
}

static void test_image_continues_the_trace(void **state)
{
    char tp_entry[sizeof("TRACEPARENT=") + sizeof(given_tp)];
    char *envp[] = {tp_entry, "TRACESTATE=rojo=00f067aa0ba902b7", NULL};
    char *argv[] = {"/usr/bin/prog", "arg", NULL};
    char *child[] = {"A=1", NULL};
    char want[SS_ENVCTX_TP_ENTRY], hex[33];
    const char *ts = NULL;
    uint16_t ts_len = 0, slot;
    const ss_ctx_t *me;
    ss_proc_env_t e;
    char *const *env;
    ss_ctx_t parent;
    char pts[SS_TS_FORWARD_MAX + 1];
    uint16_t pts_len;

    (void)state;
    snprintf(tp_entry, sizeof(tp_entry), "TRACEPARENT=%s", given_tp);
    ss_proc_init(2, argv, envp);
    me = ss_proc_parent(&ts, &ts_len);
    assert_non_null(me);
    ss_hex(me->trace_id, 16, hex);
    assert_memory_equal(hex, "0af7651916cd43dd", 16);
    ss_hex(me->span_id, 8, hex);
    assert_string_not_equal(hex, "b7ad6b7169203331"); /* a span of its own */
    assert_int_equal(ts_len, strlen("rojo=00f067aa0ba902b7"));
    assert_memory_equal(ts, "rojo=00f067aa0ba902b7", ts_len);
    /* Requests it makes outside any it serves are that span's children... */
    assert_true(ss_conn_request_parent(&parent, pts, &pts_len));
    assert_memory_equal(parent.span_id, me->span_id, 8);
    assert_string_equal(pts, "rojo=00f067aa0ba902b7");
    /* ...and so are the processes it starts; serving, the server span wins. */
    env = ss_proc_child_env(child, &e, SS_PROC_UNREAPED, NULL, NULL);
    ss_envctx_entries(me, ts, ts_len, want, e.ts);
    assert_string_equal(env[1], want);
    assert_string_equal(env[2], "TRACESTATE=rojo=00f067aa0ba902b7");
    ss_proc_env_done(&e);
    slot = serve("");
    env = ss_proc_child_env(child, &e, SS_PROC_UNREAPED, NULL, NULL);
    assert_string_equal(env[1], served_tp);
    assert_int_equal(count(env), 2);
    ss_proc_env_done(&e);
    unserve(slot);
}

static void test_image_end_sent_once(void **state)
{
    int before = sent;

    (void)state;
    ss_proc_image_ends(1, 3);
    assert_int_equal(sent, before + 1);
    assert_string_equal(sent_name, "test_exec"); /* the file exec was given */
    assert_int_equal(sent_kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
    assert_string_equal(sent_parent, "b7ad6b7169203331");
    assert_int_equal(sent_exit, 3);
    assert_string_equal(sent_error, "3");
    assert_int_equal(sent_status, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_int_equal(sent_pid, getpid());
    ss_proc_image_ends(1, 0); /* exit after _exit, exec after exec: once */
    assert_int_equal(sent, before + 1);
    /* Its context stays the parent of what is left to do. */
    assert_non_null(ss_proc_parent(NULL, NULL));
}


/* ---- SPANSHIM_PROC_SPAN ------------------------------------------------- */

static void test_proc_span_value(void **state)
{
    ss_envctx_ps_t ps = {{1, 2, 3, 4, 5, 6, 7, 8}, {0xf0, 0, 0, 0, 0, 0, 0, 0xff},
                         0x187a2b3c4d5e6f70ull, 4242}, back;
    char out[SS_ENVCTX_PS_ENTRY], bad[SS_ENVCTX_PS_ENTRY];
    const char *v = out + strlen(SS_ENVCTX_PS_NAME);
    size_t i;

    (void)state;
    ss_envctx_ps_format(&ps, out);
    assert_string_equal(out, "SPANSHIM_PROC_SPAN=0102030405060708-f0000000000000ff-"
                             "187a2b3c4d5e6f70-00001092");
    assert_true(ss_envctx_ps_parse(v, &back));
    assert_memory_equal(back.span_id, ps.span_id, 8);
    assert_memory_equal(back.parent_id, ps.parent_id, 8);
    assert_true(back.start_ns == ps.start_ns);
    assert_int_equal(back.ppid, ps.ppid);
    /* Anything else is not one: cut, longer, upper case, zero ids or ppid. */
    for (i = 0; i < strlen(v); i++) {
        memcpy(bad, v, strlen(v) + 1);
        bad[i] = bad[i] == '-' ? '0' : 'X';
        assert_false(ss_envctx_ps_parse(bad, &back));
    }
    snprintf(bad, sizeof(bad), "%.58s", v);
    assert_false(ss_envctx_ps_parse(bad, &back));
    snprintf(bad, sizeof(bad), "%s0", v);
    assert_false(ss_envctx_ps_parse(bad, &back));
    assert_false(ss_envctx_ps_parse("0000000000000000-f0000000000000ff-187a2b3c4d5e6f70-00001092", &back));
    assert_false(ss_envctx_ps_parse("0102030405060708-0000000000000000-187a2b3c4d5e6f70-00001092", &back));
    assert_false(ss_envctx_ps_parse("0102030405060708-f0000000000000ff-187a2b3c4d5e6f70-00000000", &back));
    assert_false(ss_envctx_ps_parse("0102030405060708-F0000000000000FF-187a2b3c4d5e6f70-00001092", &back));
}

static void test_build_replaces_the_proc_span(void **state)
{
    char *envp[] = {"A=1", "SPANSHIM_PROC_SPAN=old", "SPANSHIM_PROC_SPANX=1", NULL};
    char tp[SS_ENVCTX_TP_ENTRY], ts[SS_ENVCTX_TS_ENTRY], *out[8];

    (void)state;
    ss_envctx_entries(&served, "k=v", 3, tp, ts);
    assert_int_equal(ss_envctx_build(envp, tp, ts, "SPANSHIM_PROC_SPAN=new", out, count(envp) + 4), 5);
    assert_string_equal(out[0], "A=1");
    assert_string_equal(out[1], "SPANSHIM_PROC_SPANX=1");
    assert_ptr_equal(out[2], tp);
    assert_ptr_equal(out[3], ts);
    assert_string_equal(out[4], "SPANSHIM_PROC_SPAN=new");
    assert_null(out[5]);
    assert_int_equal(ss_envctx_build(envp, tp, ts, "SPANSHIM_PROC_SPAN=new", out, 5), -1);
}

/* A spawned child: told its span id, kept, and sent by its parent if a
 * signal ends it; one that exits is forgotten. */
static void test_killed_child_sent_by_its_parent(void **state)
{
    char *envp[] = {"A=1", NULL};
    char *argv[] = {"curl", "-s", NULL};
    uint16_t slot = serve("");
    ss_envctx_ps_t ps;
    ss_proc_env_t e;
    char *const *env;
    char id[17];
    int before = sent;

    (void)state;
    env = ss_proc_child_env(envp, &e, SS_PROC_SPAWN, "/usr/bin/curl", argv);
    assert_int_equal(count(env), 3);
    assert_string_equal(env[1], served_tp);
    assert_true(strncmp(env[2], SS_ENVCTX_PS_NAME, strlen(SS_ENVCTX_PS_NAME)) == 0);
    assert_true(ss_envctx_ps_parse(env[2] + strlen(SS_ENVCTX_PS_NAME), &ps));
    assert_int_equal(ps.ppid, getpid()); /* this process reaps it */
    assert_memory_equal(ps.parent_id, served.span_id, 8);
    ss_hex(ps.span_id, 8, id);
    ss_proc_spawned(&e, 0, 424242);
    ss_proc_env_done(&e);
    unserve(slot);
    ss_proc_reaped(424242, 0x0200); /* stopped? no: exited 2 */
    assert_int_equal(sent, before);
    ss_proc_reaped(424242, SIGKILL); /* forgotten already */
    assert_int_equal(sent, before);

    slot = serve("");
    env = ss_proc_child_env(envp, &e, SS_PROC_SPAWN, "/usr/bin/curl", argv);
    assert_true(ss_envctx_ps_parse(env[2] + strlen(SS_ENVCTX_PS_NAME), &ps));
    ss_hex(ps.span_id, 8, id);
    ss_proc_spawned(&e, 0, 424243);
    ss_proc_env_done(&e);
    unserve(slot);
    ss_proc_reaped(424243, 0x137f); /* stopped by SIGSTOP: not an end */
    assert_int_equal(sent, before);
    ss_proc_reaped(424243, SIGKILL);
    assert_int_equal(sent, before + 1);
    assert_string_equal(sent_span, id);
    assert_string_equal(sent_name, "curl");
    assert_string_equal(sent_command, "curl");
    assert_string_equal(sent_parent, "00f067aa0ba902b7");
    assert_string_equal(sent_error, "SIGKILL");
    assert_int_equal(sent_exit, 128 + SIGKILL);
    assert_int_equal(sent_pid, 424243);
    assert_int_equal(sent_status, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    ss_proc_reaped(424243, SIGKILL); /* once */
    assert_int_equal(sent, before + 1);
    /* A spawn that failed keeps nothing. */
    slot = serve("");
    env = ss_proc_child_env(envp, &e, SS_PROC_SPAWN, "/nonexistent", argv);
    ss_proc_spawned(&e, 2, 424244);
    ss_proc_env_done(&e);
    unserve(slot);
    ss_proc_reaped(424244, SIGTERM);
    assert_int_equal(sent, before + 1);
    /* system's shell, reaped by system itself. */
    slot = serve("");
    assert_int_equal(ss_proc_environ_swap(&e, SS_PROC_SPAWN), 1);
    assert_non_null(getenv("SPANSHIM_PROC_SPAN"));
    ss_proc_environ_restore(&e);
    unserve(slot);
    ss_proc_system_done(&e, SIGTERM);
    assert_int_equal(sent, before + 2);
    assert_string_equal(sent_name, "sh");
    assert_string_equal(sent_error, "SIGTERM");
    assert_int_equal(sent_exit, 128 + SIGTERM);
    assert_int_equal(sent_pid, 0); /* left out: never told */
    /* popen's shell, reaped by pclose: kept under its stream. */
    slot = serve("");
    assert_int_equal(ss_proc_environ_swap(&e, SS_PROC_SPAWN), 1);
    ss_proc_environ_restore(&e);
    unserve(slot);
    ss_proc_popened(&e, (FILE *)&e);
    ss_proc_pclosed((FILE *)&slot, SIGKILL); /* another stream */
    assert_int_equal(sent, before + 2);
    ss_proc_pclosed((FILE *)&e, SIGKILL);
    assert_int_equal(sent, before + 3);
    assert_string_equal(sent_error, "SIGKILL");
    ss_proc_pclosed((FILE *)&e, SIGKILL); /* once */
    assert_int_equal(sent, before + 3);
}

/* An image given an id meant for it (its parent's pid) takes it, with the
 * start it was given; then an exec hands the span on, sent by nobody here
 * until the exec fails, and then once. */
static void test_image_takes_its_given_span(void **state)
{
    char tp_entry[sizeof("TRACEPARENT=") + sizeof(given_tp)], ps_entry[SS_ENVCTX_PS_ENTRY];
    char *envp[] = {tp_entry, ps_entry, NULL};
    char *argv[] = {"/bin/sh", NULL}, *child[] = {"A=1", NULL};
    ss_envctx_ps_t ps = {{0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8},
                         {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}, 1000, 0}, next;
    const ss_ctx_t *me;
    ss_proc_env_t e;
    char *const *env;
    char hex[17];
    int before = sent;

    (void)state;
    snprintf(tp_entry, sizeof(tp_entry), "TRACEPARENT=%s", given_tp);
    ps.ppid = (uint32_t)getppid() + 1; /* another process's: ignored */
    ss_envctx_ps_format(&ps, ps_entry);
    ss_proc_init(1, argv, envp);
    me = ss_proc_parent(NULL, NULL);
    ss_hex(me->span_id, 8, hex);
    assert_string_not_equal(hex, "a1a2a3a4a5a6a7a8");
    ss_proc_image_ends(1, 0);
    assert_int_equal(sent, before + 1);

    ps.ppid = (uint32_t)getppid();
    ss_envctx_ps_format(&ps, ps_entry);
    ss_proc_init(1, argv, envp);
    me = ss_proc_parent(NULL, NULL);
    ss_hex(me->span_id, 8, hex);
    assert_string_equal(hex, "a1a2a3a4a5a6a7a8");
    /* exec: the next image is told to continue this span... */
    env = ss_proc_child_env(child, &e, SS_PROC_EXEC, "/usr/bin/prog", argv);
    assert_int_equal(count(env), 3);
    ss_hex(me->span_id, 8, hex);
    assert_non_null(strstr(env[1], hex)); /* TRACEPARENT names this span */
    assert_true(ss_envctx_ps_parse(env[2] + strlen(SS_ENVCTX_PS_NAME), &next));
    assert_memory_equal(next.span_id, ps.span_id, 8);
    assert_memory_equal(next.parent_id, ps.parent_id, 8); /* its parent stays */
    assert_int_equal(next.start_ns, 1000);
    assert_int_equal(next.ppid, getppid());
    ss_proc_image_execs(env);
    assert_int_equal(sent, before + 1); /* handed on */
    ss_proc_image_ends(1, 0);
    assert_int_equal(sent, before + 1);
    /* ...and if the exec fails it is this image's again. */
    ss_proc_exec_failed();
    ss_proc_env_done(&e);
    ss_proc_image_ends(1, 0);
    assert_int_equal(sent, before + 2);
    assert_string_equal(sent_span, "a1a2a3a4a5a6a7a8");
    assert_string_equal(sent_parent, "b7ad6b7169203331");
    /* An exec told nothing of it ends it there. */
    ss_proc_init(1, argv, envp);
    ss_proc_image_execs(child);
    assert_int_equal(sent, before + 3);
}

static int setup(void **state)
{
    unit_config_setup(state);
    __atomic_store_n(&ss_ready, 1, __ATOMIC_RELEASE);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_replaces_in_order),
        cmocka_unit_test(test_build_adds_and_drops_stale_state),
        cmocka_unit_test(test_build_bounds),
        cmocka_unit_test(test_nothing_outside_a_request),
        cmocka_unit_test(test_serving_gives_the_server_span),
        cmocka_unit_test(test_turned_off),
        cmocka_unit_test(test_several_served_name_none),
        cmocka_unit_test(test_large_environment),
        cmocka_unit_test(test_environ_swap),
        cmocka_unit_test(test_proc_span_value),
        cmocka_unit_test(test_build_replaces_the_proc_span),
        cmocka_unit_test(test_killed_child_sent_by_its_parent),
        cmocka_unit_test(test_invalid_context_ignored),
        cmocka_unit_test(test_image_continues_the_trace),
        cmocka_unit_test(test_image_end_sent_once),
        cmocka_unit_test(test_image_takes_its_given_span),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
