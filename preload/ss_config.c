/*
 * ss_config.c - read the environment (see ss_config.h).
 */
#define _GNU_SOURCE
#include "ss_config.h"
#include "ss_logcap.h"
#include "ss_stack.h"
#include "ss_log.h"
#include "ss_inflight.h"
#include "../exporter/ex_redact.h"
#include <errno.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

ss_config_t ss_cfg;

int ss_config_bool(const char *v)
{
    return v != NULL && strcasecmp(v, "true") == 0;
}

static int ss_config_level(const char *v)
{
    static const char *names[] = {"off", "error", "warn", "info", "debug"};
    size_t i;

    if (v == NULL || *v == '\0')
        return SS_LOG_ERROR;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(v, names[i]) == 0)
            return (int)i;
    return SS_LOG_ERROR;
}

/* tracecontext is on unless OTEL_PROPAGATORS is set without it. */
static int ss_config_propagate(const char *v)
{
    char buf[256], *tok, *save = NULL;

    if (v == NULL || *v == '\0')
        return 1;
    strncpy(buf, v, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (strcasecmp(tok, "tracecontext") == 0)
            return 1;
    return 0;
}

/* SPANSHIM_SOCKET, or what the default places need; who else to trust. */
static void ss_config_socket(void)
{
    const char *v = getenv("SPANSHIM_SOCKET"), *why;

    if (v && *v && (why = ex_sockpath_unusable(v)) != NULL) {
        ss_log(SS_LOG_ERROR, "SPANSHIM_SOCKET=%.120s cannot be used (%s); spans are not sent",
               v, why);
        ss_cfg.export_off = 1;
    } else if (v && *v) {
        strcpy(ss_cfg.socket_path, v);
    }
    v = getenv("XDG_RUNTIME_DIR");
    if (v && strlen(v) < sizeof(ss_cfg.runtime_dir))
        strcpy(ss_cfg.runtime_dir, v);
    if (!ex_trust_parse(&ss_cfg.collector_uids, getenv("SPANSHIM_COLLECTOR_UID")))
        ss_log(SS_LOG_WARN, "SPANSHIM_COLLECTOR_UID takes numeric uids separated by commas "
                            "(at most %d); the rest is ignored", EX_TRUST_MAX);
}

/* SPANSHIM_INFLIGHT_MS: a whole number of milliseconds, 0 turning it off. */
static void ss_config_inflight(void)
{
    const char *v = getenv("SPANSHIM_INFLIGHT_MS");
    char *end;
    unsigned long ms;

    ss_cfg.inflight_ms = SS_INFLIGHT_DEFAULT_MS;
    if (v == NULL || *v == '\0')
        return;
    errno = 0;
    ms = strtoul(v, &end, 10);
    if (errno || *end != '\0' || *v == '-' || ms > SS_INFLIGHT_CAP_MS) {
        ss_log(SS_LOG_WARN, "SPANSHIM_INFLIGHT_MS takes milliseconds from 0 (off) to %u; "
                            "using %u", SS_INFLIGHT_CAP_MS, SS_INFLIGHT_DEFAULT_MS);
        return;
    }
    ss_cfg.inflight_ms = (unsigned)ms;
}

void ss_config_load(void)
{
    ss_log_level = ss_config_level(getenv("SPANSHIM_LOG"));
    ss_cfg.disabled = ss_config_bool(getenv("OTEL_SDK_DISABLED"));
    ss_cfg.propagate = ss_config_propagate(getenv("OTEL_PROPAGATORS"));
    ss_cfg.command_args = ss_config_bool(getenv("SPANSHIM_COMMAND_ARGS"));
    ss_cfg.exec_propagation_off = ss_config_bool(getenv("SPANSHIM_EXEC_PROPAGATION_DISABLED"));
    if (ss_sampler_parse(&ss_cfg.sampler, getenv("OTEL_TRACES_SAMPLER"),
                         getenv("OTEL_TRACES_SAMPLER_ARG")) < 0)
        ss_log(SS_LOG_WARN, "OTEL_TRACES_SAMPLER/_ARG not understood, using %s",
               "the default for what was not");
    if (ex_redact_configure(getenv("SPANSHIM_REDACT_QUERY_KEYS")) < 0)
        ss_log(SS_LOG_WARN, "SPANSHIM_REDACT_QUERY_KEYS has more than %d keys or one over %d bytes;"
               " using the default list", EX_REDACT_KEYS_MAX, EX_REDACT_KEY_MAX);
    if (ss_stack_configure(getenv("SPANSHIM_STACKS"), getenv("SPANSHIM_STACK_MIN_MS")) < 0)
        ss_log(SS_LOG_WARN, "SPANSHIM_STACKS takes off, slow or all, SPANSHIM_STACK_MIN_MS "
                            "milliseconds; using the default for what was not understood");
    if (ss_logcap_configure(ss_cfg.disabled ? "off" : getenv("SPANSHIM_LOGS"),
                            getenv("SPANSHIM_LOG_FILES")) < 0)
        ss_log(SS_LOG_WARN, "SPANSHIM_LOGS takes off, span or all; SPANSHIM_LOG_FILES at most %d "
                            "globs separated by commas; using the default for what was not",
               SS_LOGCAP_GLOBS);
    if (ss_logcap_configure_enrich(ss_cfg.disabled ? "off" : getenv("SPANSHIM_LOG_ENRICH")) < 0)
        ss_log(SS_LOG_WARN, "SPANSHIM_LOG_ENRICH takes off or on; it is off");
    ss_config_socket();
    ss_config_inflight();
}
