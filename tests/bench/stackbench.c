/*
 * stackbench.c - what one code.stacktrace costs, apart from any request:
 * the capture (libunwind's unw_backtrace, the shim's frames dropped) and
 * the naming of its frames (dladdr and the modules' symbol tables), from a
 * stack ten frames deep below main. Linked with the shim's core, which here
 * stands in for libspanshim.so (its own frames are this program's).
 *
 *   stackbench capture N    N captures
 *   stackbench text N       N namings of a stack of 8 frames: libc's two
 *                           below main, 3 of this program's functions
 *                           (named from its .symtab), 3 exported by libc
 *   stackbench time         nanoseconds per capture, per first naming (every
 *                           name looked up) and per naming again (cached)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../preload/ss_stack.h"

static void *ips[SS_STACK_DEPTH];
static char text[SS_STACK_TEXT_MAX];
static int nips;

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run(const char *mode, long n);
static void deep(int d, const char *mode, long n);

/* The frames to name: those captured (libc's, below main) and, as a
 * program's own would be, functions of this program (named from its
 * .symtab) and of libc (exported: dladdr names them). */
static void frames(void)
{
    void *more[] = {(char *)run + 8, (char *)deep + 8, (char *)frames + 8, (char *)printf + 8,
                    (char *)malloc + 8, (char *)qsort + 8};
    size_t i;

    nips = ss_stack_capture(ips, SS_STACK_DEPTH);
    for (i = 0; i < sizeof(more) / sizeof(more[0]) && nips < SS_STACK_DEPTH; i++)
        ips[nips++] = more[i];
}

static void run(const char *mode, long n)
{
    long i;

    if (strcmp(mode, "capture") == 0) {
        for (i = 0; i < n; i++)
            nips = ss_stack_capture(ips, SS_STACK_DEPTH);
    } else if (strcmp(mode, "text") == 0) {
        frames();
        for (i = 0; i < n; i++)
            ss_stack_text(ips, nips, text, sizeof(text));
    } else {
        double t0, tc, tf, t1, t2;

        ss_stack_capture(ips, SS_STACK_DEPTH); /* libunwind loaded */
        t0 = now_ns();
        for (i = 0; i < 20000; i++)
            ss_stack_capture(ips, SS_STACK_DEPTH);
        tc = now_ns();
        frames();
        tf = now_ns();
        ss_stack_text(ips, nips, text, sizeof(text)); /* names looked up */
        t1 = now_ns();
        for (i = 0; i < 200; i++)
            ss_stack_text(ips, nips, text, sizeof(text));
        t2 = now_ns();
        printf("{\"frames_named\": %d, \"capture_ns\": %.0f, \"text_first_ns\": %.0f, "
               "\"text_again_ns\": %.0f}\n",
               nips, (tc - t0) / 20000, t1 - tf, (t2 - t1) / 200);
    }
}

/* Ten frames the compiler keeps, then the work. */
__attribute__((noinline)) static void deep(int d, const char *mode, long n)
{
    if (d == 0)
        run(mode, n);
    else
        deep(d - 1, mode, n);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "time") != 0 && argc < 3)) {
        fprintf(stderr, "usage: stackbench capture|text N | time\n");
        return 2;
    }
    deep(10, argv[1], argc > 2 ? atol(argv[2]) : 0);
    return 0;
}
