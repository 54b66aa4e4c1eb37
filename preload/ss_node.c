/*
 * ss_node.c - load spanshim-node.js into Node.js processes.
 *
 * Node serves many requests on one thread; only its async context knows
 * which one an outgoing call belongs to. The module beside this library
 * reads it and hands it to the shim in the outgoing traceparent (see
 * ss_hint.h). Node loads it the way OpenTelemetry's Node agent is loaded:
 * `--require` ahead of what NODE_OPTIONS already holds, set here, before
 * Node reads its environment. The module takes itself out of NODE_OPTIONS
 * again, so the program and its children see the value the user set.
 */
#define _GNU_SOURCE
#include "ss_node.h"
#include "ss_config.h"
#include "ss_log.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SS_NODE_MODULE "spanshim-node.js"

/* Is this process Node.js? Its executable is named node or nodejs. */
static int ss_node_is_node(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *base;

    if (n <= 0)
        return 0;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    return strcmp(base, "node") == 0 || strcmp(base, "nodejs") == 0;
}

/* The module's path, beside this library, into out; 0 if it is not there
 * or its path cannot be quoted in NODE_OPTIONS. */
static int ss_node_module_path(char *out, size_t cap)
{
    char lib[PATH_MAX], *slash;
    Dl_info info;
    const char *p;

    if (!dladdr((void *)ss_node_module_path, &info) || info.dli_fname == NULL ||
        realpath(info.dli_fname, lib) == NULL || (slash = strrchr(lib, '/')) == NULL)
        return 0;
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/%s", lib, SS_NODE_MODULE) >= cap ||
        access(out, R_OK) != 0)
        return 0;
    for (p = out; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            return 0;
    return 1;
}

void ss_node_setup(void)
{
    char module[PATH_MAX], *opts;
    const char *old;
    size_t n;

    if (!ss_cfg.propagate || !ss_node_is_node())
        return;
    if (!ss_node_module_path(module, sizeof(module))) {
        ss_log(SS_LOG_DEBUG, "node: no %s beside the shim: parents by thread only",
               SS_NODE_MODULE);
        return;
    }
    old = getenv("NODE_OPTIONS");
    if (old && strstr(old, module))
        return;
    n = strlen(module) + (old ? strlen(old) : 0) + 16;
    if ((opts = malloc(n)) == NULL)
        return;
    snprintf(opts, n, "--require \"%s\"%s%s", module, old && *old ? " " : "",
             old ? old : "");
    setenv("NODE_OPTIONS", opts, 1);
    free(opts);
    ss_log(SS_LOG_DEBUG, "node: loading %s", module);
}
