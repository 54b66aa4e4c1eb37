/*
 * col_otlp_http.h - the OTLP/HTTP receiver: services on OpenTelemetry
 * SDKs send their spans to the collector as they would to any OTLP
 * endpoint (--otlp-listen HOST:PORT, 4318 by convention, or unix:PATH).
 *
 * POST /v1/traces with Content-Type application/x-protobuf or
 * application/json (OTLP/JSON: col_otlp_jsonin.h), Content-Encoding gzip
 * or none. As the OTLP specification says: the body is capped, received
 * and inflated (--otlp-max-mb, 20 MiB as the OpenTelemetry Collector's
 * receiver; 413); other content types or encodings 415, other methods 405,
 * other paths 404; a body that does not decode 400 with a google.rpc.Status
 * saying why; spans whose trace_id is not 16 bytes or span_id not 8 (or
 * all zero), or whose parent_span_id is neither empty nor 8 bytes, are
 * rejected and the rest accepted: 200 with partial_success; a full queue,
 * or bodies being received at once that already hold four caps' worth,
 * 503 with Retry-After. Every answer is in the request's content type.
 * The shims' loss bookkeeping (col_shimloss.h) is taken out of requests:
 * only a shim's datagram may say what the shims lost.
 * What is accepted goes into the queue (col_queue.h) as protobuf, JSON
 * packed first, and from there through every sink as a shim's datagram
 * does. Each request and refusal is counted (col_stats.h); refusals are
 * logged, rate-limited.
 */
#ifndef COL_OTLP_HTTP_H
#define COL_OTLP_HTTP_H

/* Listen on every --otlp-listen: 0 after an error line. */
int col_otlp_http_start(void);
/* Stop listening, after the requests in progress are answered: before
 * the queue is closed, so nothing accepted is lost. */
void col_otlp_http_stop(void);

#endif
