/*
 * ss_config.h - what the environment asks of the shim, read once at start.
 *
 * The standard OTEL_* variables (see the reference on semantic
 * conventions) and spanshim's own SPANSHIM_* ones. Bad values are warned
 * about once and ignored; empty means unset.
 */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include "ss_sample.h"

#define SS_DEFAULT_SOCKET "/tmp/spanshim.sock"

typedef struct ss_config {
    int disabled;            /* OTEL_SDK_DISABLED=true: record nothing */
    int propagate;           /* OTEL_PROPAGATORS includes tracecontext */
    int command_args;        /* SPANSHIM_COMMAND_ARGS=true */
    ss_sampler_t sampler;
    char socket_path[108];   /* SPANSHIM_SOCKET */
} ss_config_t;

extern ss_config_t ss_cfg;

/* Fill ss_cfg from the environment (getenv is only safe at start). */
void ss_config_load(void);

/* OTel boolean: only a case-insensitive "true" is true. */
int ss_config_bool(const char *v);

#endif
