/*
 * ss_id.c - id generation (see ss_id.h).
 */
#define _GNU_SOURCE
#include "ss_id.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static unsigned ss_id_generation;        /* bumped in every fork child */

static __thread struct {
    uint64_t s;
    unsigned generation;
    int seeded;
} ss_rng __attribute__((tls_model("initial-exec")));

static uint64_t ss_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static __attribute__((noinline)) void ss_id_seed(void)
{
    uint64_t seed = 0;
    struct timespec ts;
    uint64_t mix;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed ^= (uint64_t)ts.tv_nsec;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    mix = seed ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ss_rng;
    ss_rng.s = seed ^ ss_splitmix(&mix);
    ss_rng.generation = __atomic_load_n(&ss_id_generation, __ATOMIC_RELAXED);
    ss_rng.seeded = 1;
}

/* One step of the thread's generator, seeded already: wyrand (a Weyl
 * sequence, each value mixed by one 64x64->128 multiplication folded in
 * half), which passes the statistical test suites (BigCrush, PractRand)
 * that ids need, at a few instructions a word. */
static inline __attribute__((always_inline)) uint64_t ss_id_step(uint64_t *s)
{
    unsigned __int128 t;

    *s += 0xa0761d6478bd642fULL;
    t = (unsigned __int128)*s * (*s ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* The thread's generator, seeded (again in a fork child) if need be. */
static inline __attribute__((always_inline)) uint64_t *ss_id_state(void)
{
    if (!ss_rng.seeded || ss_rng.generation != __atomic_load_n(&ss_id_generation, __ATOMIC_RELAXED))
        ss_id_seed();
    return &ss_rng.s;
}

/* n (8 or 16) random bytes from s, a word at a time; all zero is not a
 * valid id, so that draw (odds 2^-64 per word) is made again. Inlined, so
 * n is a constant. */
static inline __attribute__((always_inline)) void ss_id_draw(uint64_t *s, uint8_t *out, size_t n)
{
    uint64_t w[2];

    do {
        w[0] = ss_id_step(s);
        w[1] = n > 8 ? ss_id_step(s) : 0;
    } while ((w[0] | w[1]) == 0);
    memcpy(out, w, n);
}

void ss_id_span(uint8_t out[8])
{
    ss_id_draw(ss_id_state(), out, 8);
}

/* The state is worked on in a local copy: stores through the byte
 * pointers could alias it and would make every step reload it. */
void ss_id_trace_span(uint8_t trace[16], uint8_t span[8])
{
    uint64_t *st = ss_id_state(), s = *st;

    ss_id_draw(&s, trace, 16);
    ss_id_draw(&s, span, 8);
    *st = s;
}

void ss_id_after_fork(void)
{
    __atomic_add_fetch(&ss_id_generation, 1, __ATOMIC_RELAXED);
}
