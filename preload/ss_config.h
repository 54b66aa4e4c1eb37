/*
 * ss_config.h - what the environment asks of the shim, read once at start.
 *
 * The standard OTEL_* variables (see the reference on semantic
 * conventions) and spanshim's own SPANSHIM_* ones. Bad values are warned
 * about once and ignored; empty means unset. An unusable SPANSHIM_SOCKET
 * turns export off (an error, once): spans never go to another path.
 */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include "ss_sample.h"
#include "../exporter/ex_sockpath.h"

typedef struct ss_config {
    int disabled;            /* OTEL_SDK_DISABLED=true: record nothing */
    int propagate;           /* OTEL_PROPAGATORS includes tracecontext */
    int command_args;        /* SPANSHIM_COMMAND_ARGS=true */
    int exec_propagation_off; /* SPANSHIM_EXEC_PROPAGATION_DISABLED=true: children get no TRACEPARENT */
    ss_sampler_t sampler;
    char socket_path[EX_SOCKPATH_MAX]; /* SPANSHIM_SOCKET; empty: the default places */
    char runtime_dir[EX_SOCKPATH_MAX]; /* XDG_RUNTIME_DIR, one of those places */
    int export_off;          /* SPANSHIM_SOCKET unusable: nothing is sent */
    ex_trust_t collector_uids; /* SPANSHIM_COLLECTOR_UID */
    unsigned inflight_ms;    /* SPANSHIM_INFLIGHT_MS: report open spans after; 0: never */
} ss_config_t;

extern ss_config_t ss_cfg;

/* Fill ss_cfg from the environment (getenv is only safe at start). */
void ss_config_load(void);

/* OTel boolean: only a case-insensitive "true" is true. */
int ss_config_bool(const char *v);

#endif
