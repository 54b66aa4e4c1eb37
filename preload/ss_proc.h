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
 * requests it makes outside any it serves. The span ends when the process
 * does: at exit() or return from main (on_exit: the status) or at _exit.
 * A non-zero exit is status ERROR with error.type the code. A fork child
 * shares its parent's span (only the parent ends it).
 *
 * One span per process, across exec: an image that execs tells the next
 * one to continue its span (SPANSHIM_PROC_SPAN with its own id, ss_envctx.h)
 * and sends nothing; the next image takes the id, the parent and the start
 * and ends the span with its own name, command and exit code. If the exec
 * fails the span is this image's again; if the next image is not told
 * (the program gave exec an environment of its own with the shim's
 * variables left out, or propagation is off and its environ lacks them),
 * the span ends at the exec as it used to, without an exit code.
 *
 * A fatal signal ends the process before any of this runs, so the process
 * that starts a child with a context chooses the child's span id itself
 * (SPANSHIM_PROC_SPAN, bound to it by its pid) and keeps what that span
 * would say (ss_reap.h): its wait, waitpid, wait3, wait4 or waitid hook,
 * or system's, reaping the child with a status that says a signal ended
 * it, sends the span: status ERROR, error.type the signal's name
 * ("SIGKILL"), process.exit.code 128 + the signal's number (as a shell
 * says it), from the start the child was given to the reap, with the name
 * and command of the program the parent started (after an exec chain, the
 * first image's: the parent never learns the last one's). It goes in the
 * parent's batch, under the parent's resource. A child that exits is
 * forgotten (it sent its own). popen's shell is kept under its stream and
 * reported by pclose. Not sent: a child whose parent never waits or
 * ignores SIGCHLD (the kernel reaps it), a popen child reaped by another
 * wait than its pclose, a child evicted from a full table (counted).
 */
#ifndef SS_PROC_H
#define SS_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ss_envctx.h"
#include "ss_reap.h"
#include "ss_tctx.h"

#define SS_PROC_ENV_STACK 512   /* environment entries copied on the stack */

/* Where a child's environment is built: on the caller's stack, or for a
 * larger environment in pages of its own (never in a vfork child). */
typedef struct ss_proc_env {
    char *vec[SS_PROC_ENV_STACK];
    char tp[SS_ENVCTX_TP_ENTRY];
    char ts[SS_ENVCTX_TS_ENTRY];
    char ps[SS_ENVCTX_PS_ENTRY];
    int assigned;                /* reap holds the child's span, pid not yet set */
    ss_reap_entry_t reap;
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

/* How a child is started: by exec in this process (after fork or vfork,
 * or this image replacing itself), by a spawn (posix_spawn, system, popen)
 * that this process reaps, or where nobody here will learn how it ended
 * (no span id is chosen for it). */
enum { SS_PROC_EXEC = 0, SS_PROC_SPAWN, SS_PROC_UNREAPED };

/* The environment to start a child with instead of envp: envp itself when
 * there is nothing to say (no request, turned off), else a copy in e.
 * path and argv: what the program starts (the span's name and command).
 * An exec in the image that owns the process span passes that span on;
 * one in a fork or vfork child, which starts a process of its own, is
 * kept in the table for the parent at once; a spawn's after the call,
 * by ss_proc_spawned. Async-signal-safe. Call ss_proc_env_done(e) once
 * the call returned. */
char *const *ss_proc_child_env(char *const envp[], ss_proc_env_t *e, int how, const char *path,
                               char *const argv[]);
void ss_proc_env_done(ss_proc_env_t *e);
/* The spawn returned r (0: started) and *pid: its child is kept. */
void ss_proc_spawned(ss_proc_env_t *e, int r, pid_t pid);
/* system's shell was reaped with status: if a signal ended it, its span. */
void ss_proc_system_done(ss_proc_env_t *e, int status);
/* popen returned f (NULL: it failed): its shell is kept under f, whose
 * pid is glibc's secret; pclose(f) returned status: if a signal ended the
 * shell, its span. */
void ss_proc_popened(ss_proc_env_t *e, FILE *f);
void ss_proc_pclosed(FILE *f, int status);

/* A wait call reaped child pid with status (wait's form; WIFSTOPPED and
 * WIFCONTINUED are no end): its span, if a signal ended it and it was
 * kept; errno is left as it was. */
void ss_proc_reaped(pid_t pid, int status);

/* system() and popen() start their shell with environ: it is swapped for
 * the copy during the call, when the program runs a single thread (no
 * other thread can be reading or changing it meanwhile). Returns 1 if
 * swapped; then ss_proc_environ_restore(e) after the call. */
int ss_proc_environ_swap(ss_proc_env_t *e, int how);
void ss_proc_environ_restore(ss_proc_env_t *e);

/* The image ends by exit (status): ends this image's process span if it
 * has one. Not in a vfork child. */
void ss_proc_image_ends(int exited, int status);
/* The image is about to exec with env: its span is handed on if env tells
 * the next image to continue it, else it ends here. ss_proc_exec_failed
 * after an exec that returned: the span is this image's again. */
void ss_proc_image_execs(char *const env[]);
void ss_proc_exec_failed(void);

#endif
