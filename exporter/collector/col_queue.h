/*
 * col_queue.h - OTLP requests received and not yet handled, oldest first.
 *
 * Receivers (the OTLP/HTTP server's threads, --replay's, and the datagram
 * socket's thread while it stands in for the main thread: col_dgram.h) do
 * nothing but put what they receive here; the main thread takes it all,
 * decodes it and hands it to the sinks (col_sink.h). The queue is bounded
 * in bytes (--queue-mb): a request that does not fit is refused, and the
 * receiver says so its own way (a datagram is counted as dropped, an HTTP
 * request is answered 503 with Retry-After).
 */
#ifndef COL_QUEUE_H
#define COL_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    COL_FROM_DGRAM = 0, /* a shim's datagram on the Unix socket */
    COL_FROM_OTLP_HTTP, /* an OTLP/HTTP POST /v1/traces */
    COL_FROM_REPLAY,    /* a line of --replay's file */
} col_from_t;

typedef struct col_item {
    struct col_item *next;
    size_t len;
    col_from_t from;
    pid_t pid; /* the sender, as the kernel says (0 when not known) */
    uid_t uid;
    uint8_t data[]; /* an ExportTraceServiceRequest, protobuf */
} col_item_t;

/* Set the cap before any put: 0 if the queue's eventfd cannot be made. */
int col_queue_init(size_t max_bytes);
/* Readable while items wait (or once the queue is closed): for poll. */
int col_queue_fd(void);
/* Copy data in: 1, or 0 when the queue is full (or out of memory). */
int col_queue_put(const uint8_t *data, size_t len, col_from_t from, pid_t pid, uid_t uid);
/* Bytes queued now (a receiver may refuse early when it is near the cap). */
size_t col_queue_bytes(void);
/* All the items, oldest first (NULL if none), without waiting.
 * *closed: col_queue_close() was called and everything is taken. */
col_item_t *col_queue_take(int *closed);
/* The main thread is done with an item taken (instead of free()). */
void col_queue_done(col_item_t *it);
/* No more puts will come (the receivers have stopped). */
void col_queue_close(void);

#endif
