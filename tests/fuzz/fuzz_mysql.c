/*
 * fuzz_mysql.c - libFuzzer target for the MySQL / MariaDB follower.
 *
 * Input: byte 0 chooses a chunk size; the rest is records, each a control
 * byte (bit 7: read by the client, else written; bits 0-6: length - 1)
 * and that many bytes of the conversation. The conversation is followed
 * with each record fed whole and again in chunks: the operations
 * reported, the verdict and its reason must agree. Every operation must
 * come after its command's start, in the order started, with every field
 * NUL-terminated; detection must never change its mind as bytes arrive.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/proto/ss_mysql.h"

#define MAX_OPS 256

typedef struct run {
    int rc, starts, n;
    uint64_t last_done;
    const char *why;
    uint32_t sum[MAX_OPS];
    ss_mysql_t st;
} run_t;

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n--)
        h = (h ^ *b++) * 16777619u;
    return h;
}

#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

static uint64_t on_start(void *arg)
{
    run_t *r = arg;

    return (uint64_t)++r->starts;
}

static uint32_t op_sum(const ss_db_op_t *op)
{
    uint32_t h = fnv(2166136261u, &op->tag, sizeof(op->tag));

    h = fnv(h, op->operation, strlen(op->operation));
    h = fnv(h, op->collection, strlen(op->collection));
    h = fnv(h, op->namespace_, strlen(op->namespace_));
    h = fnv(h, op->query_text, strlen(op->query_text));
    h = fnv(h, op->summary, strlen(op->summary));
    h = fnv(h, op->status_code, strlen(op->status_code));
    h = fnv(h, &op->batch_size, sizeof(op->batch_size));
    return fnv(h, &op->error, sizeof(op->error));
}

static void on_done(void *arg, const ss_db_op_t *op)
{
    run_t *r = arg;

    if (!TERMINATED(op->operation) || !TERMINATED(op->collection) ||
        !TERMINATED(op->namespace_) || !TERMINATED(op->query_text) ||
        !TERMINATED(op->summary) || !TERMINATED(op->status_code))
        abort();
    /* done after start, each tag once, in the order started */
    if (op->tag == 0 || op->tag > (uint64_t)r->starts || op->tag <= r->last_done)
        abort();
    r->last_done = op->tag;
    if (r->n < MAX_OPS)
        r->sum[r->n] = op_sum(op);
    r->n++;
}

static void follow(const uint8_t *d, size_t len, size_t step, run_t *r)
{
    ss_db_sink_t sink = {r, on_start, on_done, NULL};
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    ss_mysql_init(&r->st);
    r->rc = 1;
    while (off < len && r->rc) {
        ss_db_dir_t dir = (d[off] & 0x80) ? SS_DB_IN : SS_DB_OUT;
        size_t n = (size_t)(d[off] & 0x7f) + 1;

        off++;
        if (n > len - off)
            n = len - off;
        for (size_t k = 0; k < n && r->rc; k += step)
            r->rc = ss_mysql_feed(&r->st, dir, d + off + k, n - k < step ? n - k : step, &sink);
        off += n;
    }
    r->why = ss_mysql_why(&r->st);
    if (r->rc != (r->why == NULL))
        abort();
    if (r->n > r->starts)
        abort();
}

/* Detection: once it says yes or no, more bytes never change it. */
static void check_detect(const uint8_t *p, size_t n)
{
    for (int dir = 0; dir < 2; dir++) {
        int final = ss_mysql_detect(p, n, (ss_db_dir_t)dir);

        for (size_t k = 0; k < n; k++) {
            int v = ss_mysql_detect(p, k, (ss_db_dir_t)dir);

            if (v != -1 && v != final)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static run_t whole, cut;
    size_t step;

    if (size < 2)
        return 0;
    step = (size_t)(data[0] % 16) + 1;
    follow(data + 1, size - 1, SIZE_MAX, &whole);
    follow(data + 1, size - 1, step, &cut);
    if (whole.rc != cut.rc || whole.n != cut.n || whole.starts != cut.starts)
        abort();
    if ((whole.why == NULL) != (cut.why == NULL) || (whole.why && strcmp(whole.why, cut.why)))
        abort();
    for (int i = 0; i < whole.n && i < MAX_OPS; i++)
        if (whole.sum[i] != cut.sum[i])
            abort();
    check_detect(data + 2, size - 2 < 64 ? size - 2 : 64);
    return 0;
}
