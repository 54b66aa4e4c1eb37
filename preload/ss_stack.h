/*
 * ss_stack.h - the program's call stack at a slow or failed client call,
 * as a span's code.stacktrace (SPANSHIM_STACKS, SPANSHIM_STACK_MIN_MS).
 *
 * Two steps, priced apart. The capture (libunwind's unw_backtrace: return
 * addresses only) must happen while the program's frames are there, in the
 * hook, so it is made only when the span is likely to want it: a response
 * read that returns SPANSHIM_STACK_MIN_MS or more after the request began
 * (the thread waited in that very call, with its frames below the hook), a
 * read or connect that failed, a lookup that was slow or failed. Turning
 * the addresses into names (the expensive step: symbol tables off the
 * modules' files) happens once the span has ended and is known to be
 * wanted, right before it is encoded. libunwind is loaded with dlopen,
 * RTLD_LOCAL, at the first capture: nothing of it joins the program's
 * symbol scope (its _Unwind_* and backtrace would otherwise stand in for
 * libgcc's and glibc's), and a process that never makes a slow call never
 * maps it.
 */
#ifndef SS_STACK_H
#define SS_STACK_H

#include <stddef.h>
#include <stdint.h>

#define SS_STACK_DEPTH 32          /* frames kept, innermost first */
#define SS_STACK_TEXT_MAX 4096     /* code.stacktrace, at most (whole lines) */
#define SS_STACK_MIN_MS_DEFAULT 100
#define SS_STACK_RATE 20           /* spans a second given one (ss_stack.c) */
#define SS_STACK_BURST 40          /* ... and at most this many at once */

enum { SS_STACKS_OFF = 0, SS_STACKS_SLOW, SS_STACKS_ALL };

extern int ss_stack_mode;          /* SPANSHIM_STACKS */
extern uint64_t ss_stack_min_ns;   /* SPANSHIM_STACK_MIN_MS */
/* This thread is inside unw_backtrace (its pipe2 is the validation pipe). */
extern __thread int ss_stack_unwinding __attribute__((tls_model("initial-exec")));

/* Read SPANSHIM_STACKS and SPANSHIM_STACK_MIN_MS (either NULL: unset).
 * Returns 0, or -1 if a value was not understood (the default is kept). */
int ss_stack_configure(const char *mode, const char *min_ms);

struct ss_span;

/* At a hook where s's thread waits or waited for its reply (now_ns: the
 * time, or 0 to read it when needed; failed: the call failed or the peer
 * closed): capture if wanted. */
void ss_stack_at_wait(struct ss_span *s, int failed, uint64_t now_ns);
/* The same for a span whose end is known (a lookup, a failed connect). */
void ss_stack_at_end(struct ss_span *s);

/* Return addresses of the calling thread, the shim's own frames left out,
 * innermost first, into ips (at most max). 0 if libunwind is not there. */
int ss_stack_capture(void **ips, int max);

/* s ended and is about to be encoded: its code.stacktrace, in a buffer the
 * caller frees with ss_stack_release(s), if it has one and is wanted. */
void ss_stack_attach(struct ss_span *s);
void ss_stack_release(struct ss_span *s);

/* Symbolise n addresses into out (cap bytes with its NUL): lines
 * "function+0xoff (module)", or "module+0xoff" without a symbol, '\n'
 * between them; only whole lines. Returns the length. */
size_t ss_stack_text(void *const *ips, int n, char *out, size_t cap);

/* One line into out (no '\n'), func NULL for none: its length, or 0 if it
 * does not fit in cap bytes with its NUL. Names are copied with control
 * characters and spaces turned into '?'. */
size_t ss_stack_line(char *out, size_t cap, const char *func, uintptr_t off,
                     const char *module, uintptr_t modoff);

/* In a fork child: the locks another thread may have held are free. */
void ss_stack_after_fork(void);

/* The validation pipe libunwind opens on its first unwind, moved to high
 * descriptor numbers (see ss_stack.c). */
int ss_stack_pipe2(int fds[2], int flags);
/* The program's fd table is nearly full: the pipe gives its numbers back,
 * and no stack is taken from then on. */
void ss_stack_give_up(void);

#endif
