/*
 * ss_log.h - the shim's own log lines and counters.
 *
 * Logging goes to stderr through the real write(), never through a hook
 * (from the flush thread, to the program's stderr: ss_owntable.h),
 * and only at the level SPANSHIM_LOG asks for (error by default, so a
 * traced program's stderr is untouched unless something is wrong).
 * Counters are plain atomics, readable at exit with SPANSHIM_LOG=debug.
 */
#ifndef SS_LOG_H
#define SS_LOG_H

#include <stdint.h>

enum { SS_LOG_OFF, SS_LOG_ERROR, SS_LOG_WARN, SS_LOG_INFO, SS_LOG_DEBUG };

/* X-macro of every counter: name, what it counts. */
#define SS_COUNTERS(X)                                                        \
    X(spans_recorded, "spans finished and sampled")                           \
    X(spans_exported, "spans sent to the collector")                          \
    X(spans_dropped_nocollector, "spans dropped: no collector listening")     \
    X(spans_dropped_full, "spans dropped: collector socket full")             \
    X(spans_dropped_untrusted, "spans dropped: collector socket not trusted") \
    X(spans_dropped_fdlimit, "spans dropped: the fd table nearly full")       \
    X(spans_dropped_off, "spans dropped: SPANSHIM_SOCKET unusable")           \
    X(spans_dropped_encode, "spans dropped: too large to encode")             \
    X(spans_dropped_memory, "spans dropped: connection state cap reached")    \
    X(spans_lost_busy_at_exit, "open spans lost at exit: their connection was in use") \
    X(spans_inherited, "spans a fork child inherited, left to the parent")    \
    X(responses_left_to_child, "server spans closed unanswered after a fork") \
    X(batches_sent, "datagrams sent")                                         \
    X(conns_http, "connections seen speaking HTTP")                           \
    X(conns_opaque, "connections passed through: no protocol recognised")     \
    X(conns_db, "connections seen speaking a database protocol")              \
    X(conns_let_go, "connections let go: their protocol could not follow on") \
    X(headers_injected, "traceparent headers added")                          \
    X(headers_replaced, "copied traceparent headers replaced")                \
    X(headers_own, "requests left with the program's own traceparent")        \
    X(hints_resolved, "Node module hints that named a request being served")  \
    X(hints_unresolved, "Node module hints for a request no longer served")   \
    X(parents_ambiguous, "requests sent while several were served: no parent") \
    X(held_lost, "request heads whose held-back bytes never went out")        \
    X(http_errors, "malformed HTTP after a valid start")                    \
    X(conns_h2, "connections seen speaking HTTP/2")                           \
    X(h2_untraced, "HTTP/2 connections let go: no HPACK decoder")             \
    X(h2_not_injected, "HTTP/2 requests whose header frame was too large")   \
    X(uwsgi_not_injected, "uwsgi requests sent as they were: no room, cut")  \
    X(ajp_not_injected, "AJP requests sent without the context: no room")   \
    X(libs_deepbind, "libraries opened RTLD_DEEPBIND led through the hooks")  \
    X(libs_deepbind_failed, "RTLD_DEEPBIND libraries left as they were")     \
    X(conns_fastcgi, "connections seen speaking FastCGI")                    \
    X(fcgi_not_injected, "FastCGI requests sent without the context: no room") \
    X(exec_context_passed, "processes started with TRACEPARENT in their environment") \
    X(exec_context_skipped, "processes started without it: no room, or a threaded system/popen") \
    X(env_context_invalid, "TRACEPARENT or SPANSHIM_PROC_SPAN at start not valid: ignored") \
    X(children_killed, "children a signal ended whose process span this process sent") \
    X(children_evicted, "children forgotten to make room: a signal ending them sends no span") \
    X(stacks_skipped, "slow or failed calls sent without code.stacktrace: over 20 a second") \
    X(logs_captured, "log lines captured as records")                        \
    X(logs_exported, "log records sent to the collector")                    \
    X(logs_dropped_nocollector, "log records dropped: no collector listening") \
    X(logs_dropped_full, "log records dropped: collector socket full")       \
    X(logs_dropped_untrusted, "log records dropped: collector socket not trusted") \
    X(logs_dropped_fdlimit, "log records dropped: the fd table nearly full") \
    X(logs_dropped_off, "log records dropped: SPANSHIM_SOCKET unusable")     \
    X(logs_dropped_encode, "log records dropped: could not be encoded")      \
    X(logs_dropped_busy, "log lines not captured: their stream was in use (a signal handler)") \
    X(logs_truncated, "log lines longer than 8 KiB, sent cut")               \
    X(logs_outside_span, "log lines written outside any span: no record (SPANSHIM_LOGS=span)") \
    X(logs_enriched, "log lines given trace_id, span_id and trace_flags (SPANSHIM_LOG_ENRICH)") \
    X(logs_enrich_missed, "log lines in a span left without: their '}' or '\\r' came in an earlier write") \
    X(logs_enrich_owed, "short writes that cut a line's fields: the rest went first in the next") \
    X(logs_enrich_lost, "fields a short write cut that the program never wrote on after")

typedef struct ss_counters {
#define SS_COUNTER_FIELD(name, what) uint64_t name;
    SS_COUNTERS(SS_COUNTER_FIELD)
#undef SS_COUNTER_FIELD
} ss_counters_t;

extern ss_counters_t ss_count;
extern int ss_log_level;

#define SS_COUNT(name) __atomic_add_fetch(&ss_count.name, 1, __ATOMIC_RELAXED)
#define SS_COUNT_N(name, n) __atomic_add_fetch(&ss_count.name, (n), __ATOMIC_RELAXED)

void ss_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ss_log_counters(void);

#endif
