/*
 * fuzz_viewer.c - libFuzzer target for what the trace viewer reads from a
 * request: its query arguments (libmicrohttpd splits and unescapes them;
 * each key and value, any bytes but NUL, goes to col_vstore_filter_set)
 * and the trace id of /api/trace, over a store the same input fills.
 *
 * Input: QUERY NUL DATAGRAM. QUERY is split at '&' and '=' as a query
 * string is (a key without '=' has the value ""); DATAGRAM, if it decodes,
 * is added to a store with caps small enough to be reached. Then the list
 * with the filter made, the service map, and the trace the query's `id`
 * names are rendered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../exporter/collector/col_vstore.h"

static col_buf_t out;

static void add(const uint8_t *data, size_t size)
{
    col_arena_t *arena = col_arena_new();
    col_decode_err_t why;
    col_request_t *r = arena ? col_request_decode(arena, data, size, &why) : NULL;

    if (r)
        col_vstore_add(r);
    col_arena_free(arena);
}

/* Every key=value of q into f; the value of `id` into id. */
static void parse(char *q, col_vstore_filter_t *f, char *id, size_t id_cap)
{
    char *save = NULL, *kv;
    const char *why;

    for (kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        const char *v = "";

        if (eq) {
            *eq = '\0';
            v = eq + 1;
        }
        if (strcmp(kv, "id") == 0 && strlen(v) < id_cap)
            strcpy(id, v);
        why = NULL;
        if (!col_vstore_filter_set(f, kv, v, &why) && why == NULL)
            abort(); /* a refusal always says why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const uint8_t *nul = memchr(data, 0, size);
    size_t qlen = nul ? (size_t)(nul - data) : size;
    col_vstore_filter_t f;
    char *q, id[64] = "";

    if (!ready) {
        col_vstore_cfg_t cfg = {8, 64, 64 << 10};

        col_vstore_init(&cfg);
        ready = 1;
    }
    if (nul)
        add(nul + 1, size - qlen - 1);
    q = malloc(qlen + 1);
    if (q == NULL)
        return 0;
    memcpy(q, data, qlen);
    q[qlen] = '\0';
    col_vstore_filter_init(&f);
    parse(q, &f, id, sizeof(id));
    if (f.limit < 1 || f.limit > COL_VSTORE_LIST_MAX || f.status < -1 || f.status > 1 ||
        strlen(f.trace_id) > 32 || strlen(f.service) > 255)
        abort(); /* what the list is given stays within its bounds */
    col_buf_reset(&out);
    col_vstore_traces_json(&out, &f);
    col_buf_reset(&out);
    col_vstore_services_json(&out);
    col_buf_reset(&out);
    col_vstore_trace_json(&out, id);
    free(q);
    return 0;
}
