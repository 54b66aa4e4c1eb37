/*
 * fuzz_redis.c - libFuzzer target for the Redis follower.
 *
 * The input is a conversation: each chunk is a header byte (high bit: the
 * direction, low bits: length - 1) and its bytes. Fed whole chunks and fed
 * byte by byte it must report the same operations and stop at the same
 * place; no operation completes without a start before it, tags complete
 * in the order given, and every field is NUL-terminated within its size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_redis.h"

typedef struct run {
    uint64_t starts, dones, last_tag, hash;
} run_t;

static uint64_t on_start(void *arg)
{
    run_t *r = arg;

    return ++r->starts;
}

static void mix(run_t *r, const char *f, size_t cap)
{
    const char *end = memchr(f, '\0', cap);

    if (!end)
        abort();
    for (; f < end; f++)
        r->hash = (r->hash ^ (uint8_t)*f) * 1099511628211ULL;
    r->hash = (r->hash ^ 0xff) * 1099511628211ULL;
}

static void on_done(void *arg, const ss_db_op_t *op)
{
    run_t *r = arg;

    if (++r->dones > r->starts || op->tag <= r->last_tag || op->tag > r->starts)
        abort();
    r->last_tag = op->tag;
    mix(r, op->operation, sizeof(op->operation));
    mix(r, op->collection, sizeof(op->collection));
    mix(r, op->namespace_, sizeof(op->namespace_));
    mix(r, op->query_text, sizeof(op->query_text));
    mix(r, op->summary, sizeof(op->summary));
    mix(r, op->status_code, sizeof(op->status_code));
    r->hash = (r->hash ^ op->batch_size ^ ((uint64_t)op->error << 40)) * 1099511628211ULL;
}

/* Feed the conversation; step 0: each chunk whole, else step bytes at a time. */
static size_t feed(const uint8_t *data, size_t size, size_t step, run_t *r, ss_redis_t *s)
{
    ss_db_sink_t sink = {r, on_start, on_done, NULL};
    size_t i = 0;

    memset(r, 0, sizeof(*r));
    ss_redis_init(s);
    while (i < size) {
        ss_db_dir_t dir = data[i] & 0x80 ? SS_DB_IN : SS_DB_OUT;
        size_t n = (size_t)(data[i] & 0x7f) + 1;
        i++;
        if (n > size - i)
            n = size - i;
        for (size_t k = 0; k < n;) {
            size_t m = step && step < n - k ? step : n - k;
            if (!ss_redis_feed(s, dir, data + i + k, m, &sink))
                return i + k + m;  /* where it let go: the same either way */
            k += m;
        }
        i += n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ss_redis_t a, b;
    run_t ra, rb;
    size_t stop_a = feed(data, size, 0, &ra, &a);
    size_t stop_b = feed(data, size, 1, &rb, &b);

    if (ra.hash != rb.hash || ra.dones != rb.dones || ra.starts != rb.starts)
        abort();
    if ((stop_a == 0) != (stop_b == 0) || strcmp(ss_redis_why(&a), ss_redis_why(&b)) != 0)
        abort();
    if (stop_b && stop_b > stop_a)
        abort();
    if (ss_redis_untraced(&a) != ss_redis_untraced(&b))
        abort();
    return 0;
}
