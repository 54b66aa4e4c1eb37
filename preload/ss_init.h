/*
 * ss_init.h - the shim's life in a process: start, fork, exec, exit.
 *
 * ss_ready turns on once the constructor has read the configuration; until
 * then (a hook called from an earlier constructor) every hook passes
 * straight through. ss_busy is this thread's "inside the shim" depth: a
 * hook entered while it is set (a signal handler interrupting the shim)
 * passes straight through too, so the shim never re-enters itself.
 */
#ifndef SS_INIT_H
#define SS_INIT_H

extern int ss_ready;
extern __thread int ss_busy __attribute__((tls_model("initial-exec")));

/* 1 in the child of a vfork (shared memory: touch nothing). */
int ss_in_vfork_child(void);

/* Threads of the program (not the shim's own); 1 if it cannot tell. */
int ss_program_threads(void);

/* Ship what is buffered. */
void ss_flush_now(void);

/* The process image ends (exec, _exit; why: "process_exec",
 * "process_exit"): open spans end with that error (ss_inflight.h), then
 * what is buffered is shipped. */
void ss_image_ends(const char *why);
/* The exec after ss_image_ends returned r: it failed, the spans are open
 * again. Returns r, errno as it was. */
int ss_exec_returned(int r);

#endif
