/*
 * ss_sample.h - head sampling, as OTEL_TRACES_SAMPLER defines it.
 *
 * A decision is a pure function of the sampler, the trace id and the parent,
 * so every sampler is unit-tested without a process around it.
 */
#ifndef SS_SAMPLE_H
#define SS_SAMPLE_H

#include <stdint.h>

typedef enum {
    SS_SAMPLER_ALWAYS_ON,
    SS_SAMPLER_ALWAYS_OFF,
    SS_SAMPLER_RATIO,
    SS_SAMPLER_PB_ALWAYS_ON,
    SS_SAMPLER_PB_ALWAYS_OFF,
    SS_SAMPLER_PB_RATIO,
} ss_sampler_kind_t;

typedef struct ss_sampler {
    ss_sampler_kind_t kind;
    double ratio;
} ss_sampler_t;

/* Read OTEL_TRACES_SAMPLER / _ARG values (either may be NULL or empty).
 * Unknown names and bad ratios fall back to the defaults; the return value
 * is 0 when both were understood, -1 when something was ignored. */
int ss_sampler_parse(ss_sampler_t *s, const char *name, const char *arg);

/* Decide for a span: has_parent and parent_sampled describe its parent. */
int ss_sample(const ss_sampler_t *s, const uint8_t trace_id[16], int has_parent,
              int parent_sampled);

/* The same, the default sampler (parentbased_always_on: the parent's
 * decision, else yes) decided where it is asked: every span asks. */
static inline int ss_sample_now(const ss_sampler_t *s, const uint8_t trace_id[16],
                                int has_parent, int parent_sampled)
{
    if (s->kind == SS_SAMPLER_PB_ALWAYS_ON)
        return has_parent ? parent_sampled : 1;
    return ss_sample(s, trace_id, has_parent, parent_sampled);
}

#endif
