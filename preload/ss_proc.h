/*
 * ss_proc.h - context across exec: what a process this one starts is
 * told, and what this process makes of what it was told.
 *
 * Downward: a process started while a thread serves a request (fork and
 * exec, posix_spawn, system, popen: a CGI script, a shell pipeline, a
 * worker) gets TRACEPARENT and TRACESTATE in its environment, naming that
 * request's SERVER span (ss_envctx.h builds the copy). A thread serving
 * several requests at once names none (the rule of ss_serving.h); a
 * thread serving none names this process's own span, if it has one.
 *
 * Upward: an image whose environment holds a valid TRACEPARENT at start
 * continues that trace with a span of its own, INTERNAL, named after the
 * program's file, child of the span the variable names: the parent of the
 * requests it makes outside any it serves. The span ends when the image
 * does: at exit() or return from main (on_exit: the status), at _exit,
 * or at exec (no exit code: the next image's span is its child). A
 * non-zero exit is status ERROR with error.type the code. A fork child
 * shares its parent's span (only the parent ends it). A fatal signal ends
 * the process before any of this runs: its span is not sent.
 */
#ifndef SS_PROC_H
#define SS_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "ss_envctx.h"
#include "ss_tctx.h"

#define SS_PROC_ENV_STACK 512   /* environment entries copied on the stack */

/* Where a child's environment is built: on the caller's stack, or for a
 * larger environment in pages of its own (never in a vfork child). */
typedef struct ss_proc_env {
    char *vec[SS_PROC_ENV_STACK];
    char tp[SS_ENVCTX_TP_ENTRY];
    char ts[SS_ENVCTX_TS_ENTRY];
    char **map;                  /* mmap'ed, or NULL */
    size_t map_len;
    char **saved_environ;        /* ss_proc_environ_swap's */
    int swapped;
} ss_proc_env_t;

/* At start (the constructor, after ss_config_load): TRACEPARENT and
 * TRACESTATE from the environment the image started with. */
void ss_proc_init(int argc, char **argv, char **envp);

/* This image's context for requests made outside any it serves: its
 * process span (or, with OTEL_SDK_DISABLED, the context it was given, as
 * is); NULL when it was given none. ts/ts_len (may be NULL): its tracestate. */
const ss_ctx_t *ss_proc_parent(const char **ts, uint16_t *ts_len);

/* The environment to start a child with instead of envp: envp itself when
 * there is nothing to say (no request, turned off), else a copy in e.
 * Async-signal-safe. Call ss_proc_env_done(e) once the call returned. */
char *const *ss_proc_child_env(char *const envp[], ss_proc_env_t *e);
void ss_proc_env_done(ss_proc_env_t *e);

/* system() and popen() start their shell with environ: it is swapped for
 * the copy during the call, when the program runs a single thread (no
 * other thread can be reading or changing it meanwhile). Returns 1 if
 * swapped; then ss_proc_environ_restore(e) after the call. */
int ss_proc_environ_swap(ss_proc_env_t *e);
void ss_proc_environ_restore(ss_proc_env_t *e);

/* The image ends: by exit (exited 1, its status) or by exec (exited 0).
 * Ends this image's process span if it made one. Not in a vfork child. */
void ss_proc_image_ends(int exited, int status);

#endif
