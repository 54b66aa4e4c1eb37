/*
 * ss_sample.c - the six standard samplers.
 *
 * traceidratio compares the last 8 bytes of the trace id (big-endian, top
 * bit dropped) with ratio * 2^63, as the OpenTelemetry SDKs do, so that
 * every process sampling the same trace at the same ratio agrees.
 */
#include "ss_sample.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    ss_sampler_kind_t kind;
} ss_sampler_names[] = {
    {"always_on", SS_SAMPLER_ALWAYS_ON},
    {"always_off", SS_SAMPLER_ALWAYS_OFF},
    {"traceidratio", SS_SAMPLER_RATIO},
    {"parentbased_always_on", SS_SAMPLER_PB_ALWAYS_ON},
    {"parentbased_always_off", SS_SAMPLER_PB_ALWAYS_OFF},
    {"parentbased_traceidratio", SS_SAMPLER_PB_RATIO},
};

int ss_sampler_parse(ss_sampler_t *s, const char *name, const char *arg)
{
    int rc = 0;
    size_t i;

    s->kind = SS_SAMPLER_PB_ALWAYS_ON;
    s->ratio = 1.0;
    if (name && *name) {
        for (i = 0; i < sizeof(ss_sampler_names) / sizeof(ss_sampler_names[0]); i++)
            if (strcasecmp(name, ss_sampler_names[i].name) == 0)
                break;
        if (i == sizeof(ss_sampler_names) / sizeof(ss_sampler_names[0]))
            rc = -1;
        else
            s->kind = ss_sampler_names[i].kind;
    }
    if (arg && *arg && (s->kind == SS_SAMPLER_RATIO || s->kind == SS_SAMPLER_PB_RATIO)) {
        char *end;
        double r = strtod(arg, &end);

        if (*end != '\0' || !(r >= 0.0 && r <= 1.0))
            rc = -1;
        else
            s->ratio = r;
    }
    return rc;
}

static int ss_sample_ratio(double ratio, const uint8_t id[16])
{
    uint64_t x = 0, bound;
    int i;

    if (ratio >= 1.0)
        return 1;
    if (ratio <= 0.0)
        return 0;
    for (i = 8; i < 16; i++)
        x = x << 8 | id[i];
    bound = (uint64_t)(ratio * 9223372036854775808.0); /* ratio * 2^63 */
    return (x >> 1) < bound;
}

int ss_sample(const ss_sampler_t *s, const uint8_t trace_id[16], int has_parent,
              int parent_sampled)
{
    switch (s->kind) {
    case SS_SAMPLER_ALWAYS_ON:
        return 1;
    case SS_SAMPLER_ALWAYS_OFF:
        return 0;
    case SS_SAMPLER_RATIO:
        return ss_sample_ratio(s->ratio, trace_id);
    case SS_SAMPLER_PB_ALWAYS_ON:
        return has_parent ? parent_sampled : 1;
    case SS_SAMPLER_PB_ALWAYS_OFF:
        return has_parent ? parent_sampled : 0;
    case SS_SAMPLER_PB_RATIO:
        return has_parent ? parent_sampled : ss_sample_ratio(s->ratio, trace_id);
    }
    return 1;
}
