/*
 * col_options.c - the collector's command line (see col_options.h).
 */
#define _GNU_SOURCE
#include "col_options.h"
#include "col_otlp.h"
#include "col_wire.h"

#include <getopt.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COL_STOP_MS 5000 /* --stop-timeout's default */

col_options_t col_opt;

/* --stop-timeout SECONDS: not negative, at most a day. */
static int col_stop_option(const char *v)
{
    char *end;
    double s = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || !(s >= 0 && s <= 86400)) {
        fprintf(stderr, "spanshim-collector: --stop-timeout needs seconds: %s\n", v);
        return 0;
    }
    col_opt.stop_ms = (long)(s * 1000);
    return 1;
}

/* The trace viewer's options without a letter (--ui-max-*). */
enum {
    COL_OPT_UI = 0x100,
    COL_OPT_UI_TRACES,
    COL_OPT_UI_SPANS,
    COL_OPT_UI_MB,
    COL_OPT_REPLAY,
    COL_OPT_FWD_IN_FLIGHT,
    COL_OPT_LOGS_JSONL,
};

/* A --ui-max-* value: a whole number from 1 up to a bound far past any
 * machine's memory for it. */
static int col_ui_option(int c, const char *v)
{
    static const struct {
        const char *name;
        unsigned long long max;
    } opt[] = {{"--ui-max-traces", 1000000}, {"--ui-max-spans", 100000000}, {"--ui-max-mb", 1 << 20}};
    const int i = c - COL_OPT_UI_TRACES;
    unsigned long long n;
    char *end;

    n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (n < 1 || *end != '\0' || n > opt[i].max) {
        fprintf(stderr, "spanshim-collector: %s wants a whole number from 1 to %llu, not %s\n",
                opt[i].name, opt[i].max, v);
        return 0;
    }
    if (c == COL_OPT_UI_TRACES)
        col_opt.ui_cfg.max_traces = (size_t)n;
    else if (c == COL_OPT_UI_SPANS)
        col_opt.ui_cfg.max_spans = (size_t)n;
    else
        col_opt.ui_cfg.max_bytes = (size_t)n << 20;
    return 1;
}

/* --otlp-listen HOST:PORT or unix:PATH, repeatable. */
static int col_otlp_listen_option(const char *v)
{
    if (col_opt.n_otlp_listen == COL_OTLP_LISTEN_MAX) {
        fprintf(stderr, "spanshim-collector: at most %d --otlp-listen\n", COL_OTLP_LISTEN_MAX);
        return 0;
    }
    if (strncmp(v, "unix:", 5) == 0 ? v[5] == '\0' : strchr(v, ':') == NULL) {
        fprintf(stderr, "spanshim-collector: --otlp-listen wants HOST:PORT or unix:PATH, not %s\n",
                v);
        return 0;
    }
    col_opt.otlp_listen[col_opt.n_otlp_listen++] = v;
    return 1;
}

/* --otlp-max-mb N: 1 to 1024 MiB. */
static int col_otlp_max_option(const char *v)
{
    char *end;
    long mb = strtol(v, &end, 10);

    if (*v == '\0' || *end != '\0' || mb < 1 || mb > 1024) {
        fprintf(stderr, "spanshim-collector: --otlp-max-mb needs 1 to 1024 MiB: %s\n", v);
        return 0;
    }
    col_opt.otlp_max_body = (size_t)mb << 20;
    return 1;
}

/* A --tail-* value: a number, not negative (the ratio at most 1). */
static int col_tail_option(int c, const char *v)
{
    char *end;
    double x = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || x < 0 || (c == 'R' && x > 1) ||
        (c != 'R' && x != (double)(long)x)) {
        fprintf(stderr, "spanshim-collector: bad value for a --tail option: %s\n", v);
        return 0;
    }
    switch (c) {
    case 'W':
        col_opt.tail_cfg.wait_ms = (long)x;
        break;
    case 'L':
        col_opt.tail_cfg.latency_ms = (long)x;
        break;
    case 'R':
        col_opt.tail_cfg.ratio = x;
        break;
    case 'N':
        col_opt.tail_cfg.max_traces = (size_t)x;
        break;
    case 'M':
        if (x > (double)(SIZE_MAX >> 21)) {
            fprintf(stderr, "spanshim-collector: --tail-max-mb too large: %s\n", v);
            return 0;
        }
        col_opt.tail_cfg.max_bytes = (size_t)x << 20;
        break;
    default:
        col_opt.tail_cfg.max_spans = (size_t)x;
    }
    return 1;
}

/* --allow-uid UID[,UID...] (user names too), repeatable. */
static int col_parse_uids(char *list)
{
    char *save = NULL, *u;

    for (u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        struct passwd *pw = getpwnam(u);
        char *end;
        long v = strtol(u, &end, 10);

        if (col_opt.n_allow == COL_ALLOW_MAX) {
            fprintf(stderr, "spanshim-collector: at most %d --allow-uid values\n", COL_ALLOW_MAX);
            return 0;
        }
        if (pw)
            col_opt.allow[col_opt.n_allow++] = pw->pw_uid;
        else if (*u && *end == '\0' && v >= 0)
            col_opt.allow[col_opt.n_allow++] = (uid_t)v;
        else {
            fprintf(stderr, "spanshim-collector: no user %s\n", u);
            return 0;
        }
    }
    return 1;
}

/* --allow-descendants-of PID: a process that exists now. */
static int col_parse_root(const char *v)
{
    char *end, path[64];
    long pid = strtol(v, &end, 10);

    snprintf(path, sizeof(path), "/proc/%ld", pid);
    if (*v == '\0' || *end != '\0' || pid <= 0 || pid > INT32_MAX || access(path, F_OK) < 0) {
        fprintf(stderr, "spanshim-collector: --allow-descendants-of needs the pid of a running "
                        "process, not %s\n", v);
        return 0;
    }
    col_opt.descendants_of = (pid_t)pid;
    return 1;
}

static void col_usage(FILE *f)
{
    fprintf(f, "usage: spanshim-collector [--socket PATH] [--jsonl FILE] [--print] [OPTIONS]\n"
               "  --socket PATH  Unix datagram socket to receive on (default $SPANSHIM_SOCKET,\n"
               "                 else for root /run/spanshim/spanshim.sock, for others\n"
               "                 $XDG_RUNTIME_DIR/spanshim.sock or /tmp/spanshim-UID/spanshim.sock);\n"
               "                 never replaces a file that is not its own stale socket\n"
               "  --jsonl FILE   append each batch as one OTLP JSON line (a batch the file\n"
               "                 cannot take whole, as on a full disk, is cut back out of it,\n"
               "                 dropped and counted; the next one tries again)\n"
               "  --logs-jsonl FILE\n"
               "                 append each batch of log records (the shims' logs datagrams,\n"
               "                 OTLP/HTTP's /v1/logs) as one OTLP JSON line, by --jsonl's rules\n"
               "  --print        print each trace as a tree once it is complete (names\n"
               "                 escaped; at most 1000 spans a trace, 10000 held)\n"
               "  --socket-group GROUP\n"
               "                 members of GROUP may send too (the socket is owner-only)\n"
               "  --allow-uid UID[,UID...]\n"
               "                 accept datagrams only from these users (repeatable)\n"
               "  --allow-descendants-of PID\n"
               "                 any uid may reach the socket, but only datagrams from PID,\n"
               "                 its descendants (whatever user they became) and this\n"
               "                 collector's uid are accepted (how `spanshim run` starts it)\n"
               "  --queue-mb N   hold at most N MiB of datagrams not yet handled (256)\n"
               "  --metrics-listen HOST:PORT\n"
               "                 serve span metrics, the service graph and counters at\n"
               "                 http://HOST:PORT/metrics (Prometheus text)\n"
               "  --otlp-listen HOST:PORT | unix:PATH\n"
               "                 receive OTLP/HTTP from SDKs: POST /v1/traces and /v1/logs,\n"
               "                 protobuf or JSON,\n"
               "                 gzip or not (4318 is OTLP/HTTP's port; a Unix socket is\n"
               "                 owner-only, or --socket-group's too); repeatable, at most " COL_STR(COL_OTLP_LISTEN_MAX) "\n"
               "  --otlp-max-mb N\n"
               "                 refuse (413) OTLP/HTTP bodies over N MiB, received or inflated\n"
               "                 (" COL_STR(COL_OTLP_MAX_MB) ")\n"
               "  --tail-sampling\n"
               "                 hold each trace until --tail-wait MS (5000) after its last span,\n"
               "                 then keep it if a span is an error or slower than\n"
               "                 --tail-latency MS (1000), else with probability --tail-ratio R\n"
               "                 (0.1); at most --tail-max-traces N (50000), --tail-max-spans N\n"
               "                 (1000000) and --tail-max-mb N MiB of decoded batches (256)\n"
               "                 held, the oldest decided early past any of them\n"
               "  --replay FILE  read FILE's OTLP/JSON lines (--jsonl's spans, --logs-jsonl's log\n"
               "                 records) in, as if each batch had just come (how `spanshim view\n"
               "                 FILE...` shows saved files); repeatable, at most " COL_STR(COL_REPLAY_FILES) ", read in\n"
               "                 turn; a line that is not OTLP/JSON is counted, logged and skipped\n"
               "  --ui HOST:PORT serve the trace viewer at http://HOST:PORT/ (port 0: a free one;\n"
               "                 the URL is printed): a page and its JSON API over the most\n"
               "                 recent traces, at most --ui-max-traces N (" COL_STR(COL_VSTORE_TRACES) "),\n"
               "                 --ui-max-spans N (" COL_STR(COL_VSTORE_SPANS) ") and --ui-max-mb N MiB (" COL_STR(COL_VSTORE_MB) ") held, the\n"
               "                 oldest let go past any of them; " COL_STR(COL_VSTORE_TRACE_SPANS) " spans a trace. It answers\n"
               "                 requests naming it by IP address, localhost or HOST only\n"
               "  --otlp-endpoint URL\n"
               "                 forward spans as OTLP/HTTP protobuf to URL/v1/traces and log\n"
               "                 records to URL/v1/logs (also OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT,\n"
               "                 OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, _HEADERS, _TIMEOUT,\n"
               "                 _COMPRESSION=gzip, _CERTIFICATE)\n"
               "  --otlp-unix-socket PATH\n"
               "                 reach the OTLP endpoint through this Unix socket\n"
               "  --otlp-forward-in-flight\n"
               "                 forward the reports of spans still open too (the endpoint then\n"
               "                 holds two spans with one id: the report, then the whole span);\n"
               "                 by default only whole spans are forwarded\n"
               "  --stop-timeout SECONDS\n"
               "                 after SIGTERM or SIGINT, exit within this time (5) whatever\n"
               "                 is queued: what is still unhandled or unsent then is counted\n"
               "  --quiet        no totals line at exit\n"
               "Datagrams nested more than " COL_STR(COL_WIRE_DEPTH_MAX) " messages deep or that "
               "would take more than\n" COL_STR(COL_ARENA_MAX_MB) " MiB decoded are refused, "
               "counted and logged, as is anything not OTLP.\n");
}

int col_options_parse(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"jsonl", required_argument, NULL, 'j'},
        {"print", no_argument, NULL, 'p'},        {"quiet", no_argument, NULL, 'q'},
        {"otlp-endpoint", required_argument, NULL, 'e'},
        {"otlp-unix-socket", required_argument, NULL, 'u'},
        {"socket-group", required_argument, NULL, 'g'},
        {"allow-uid", required_argument, NULL, 'a'},
        {"allow-descendants-of", required_argument, NULL, 'D'},
        {"queue-mb", required_argument, NULL, 'Q'},
        {"metrics-listen", required_argument, NULL, 'm'},
        {"otlp-listen", required_argument, NULL, 'H'},
        {"otlp-max-mb", required_argument, NULL, 'B'},
        {"tail-sampling", no_argument, NULL, 'T'},
        {"tail-wait", required_argument, NULL, 'W'},
        {"tail-latency", required_argument, NULL, 'L'},
        {"tail-ratio", required_argument, NULL, 'R'},
        {"tail-max-traces", required_argument, NULL, 'N'},
        {"tail-max-spans", required_argument, NULL, 'S'},
        {"tail-max-mb", required_argument, NULL, 'M'},
        {"stop-timeout", required_argument, NULL, 'O'},
        {"ui", required_argument, NULL, COL_OPT_UI},
        {"replay", required_argument, NULL, COL_OPT_REPLAY},
        {"otlp-forward-in-flight", no_argument, NULL, COL_OPT_FWD_IN_FLIGHT},
        {"logs-jsonl", required_argument, NULL, COL_OPT_LOGS_JSONL},
        {"ui-max-traces", required_argument, NULL, COL_OPT_UI_TRACES},
        {"ui-max-spans", required_argument, NULL, COL_OPT_UI_SPANS},
        {"ui-max-mb", required_argument, NULL, COL_OPT_UI_MB},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *endpoint = NULL, *unix_socket = NULL;
    int fwd_in_flight = 0;
    int c;

    col_opt.queue_max = (size_t)256 << 20;
    col_opt.stop_ms = COL_STOP_MS;
    col_opt.otlp_max_body = (size_t)COL_OTLP_MAX_MB << 20;
    col_opt.tail_cfg.wait_ms = 5000;
    col_opt.tail_cfg.latency_ms = 1000;
    col_opt.tail_cfg.ratio = 0.1;
    col_opt.tail_cfg.max_traces = 50000;
    col_opt.tail_cfg.max_spans = 1000000;
    col_opt.tail_cfg.max_bytes = (size_t)256 << 20;
    col_opt.ui_cfg.max_traces = COL_VSTORE_TRACES;
    col_opt.ui_cfg.max_spans = COL_VSTORE_SPANS;
    col_opt.ui_cfg.max_bytes = (size_t)COL_VSTORE_MB << 20;
    while ((c = getopt_long(argc, argv, "s:j:pqh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            col_opt.socket_path = optarg;
            break;
        case 'j':
            col_opt.jsonl = optarg;
            break;
        case 'p':
            col_opt.print = 1;
            break;
        case 'q':
            col_opt.quiet = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'u':
            unix_socket = optarg;
            break;
        case 'g':
            col_opt.socket_group = optarg;
            break;
        case 'm':
            col_opt.metrics_listen = optarg;
            break;
        case 'H':
            if (!col_otlp_listen_option(optarg))
                return 2;
            break;
        case 'B':
            if (!col_otlp_max_option(optarg))
                return 2;
            break;
        case 'T':
            col_opt.tail = 1;
            break;
        case 'W':
        case 'L':
        case 'R':
        case 'N':
        case 'M':
        case 'S':
            if (!col_tail_option(c, optarg))
                return 2;
            break;
        case 'O':
            if (!col_stop_option(optarg))
                return 2;
            break;
        case 'Q':
            col_opt.queue_max = (size_t)strtoul(optarg, NULL, 10) << 20;
            if (col_opt.queue_max == 0) {
                fprintf(stderr, "spanshim-collector: --queue-mb needs a number of MiB\n");
                return 2;
            }
            break;
        case 'a':
            if (!col_parse_uids(optarg))
                return 2;
            break;
        case 'D':
            if (!col_parse_root(optarg))
                return 2;
            break;
        case COL_OPT_LOGS_JSONL:
            col_opt.logs_jsonl = optarg;
            break;
        case COL_OPT_REPLAY:
            if (col_opt.n_replay == COL_REPLAY_FILES) {
                fprintf(stderr, "spanshim-collector: at most %d --replay\n", COL_REPLAY_FILES);
                return 2;
            }
            col_opt.replay[col_opt.n_replay++] = optarg;
            break;
        case COL_OPT_UI:
            col_opt.ui_listen = optarg;
            break;
        case COL_OPT_FWD_IN_FLIGHT:
            fwd_in_flight = 1;
            break;
        case COL_OPT_UI_TRACES:
        case COL_OPT_UI_SPANS:
        case COL_OPT_UI_MB:
            if (!col_ui_option(c, optarg))
                return 2;
            break;
        case 'h':
            col_usage(stdout);
            return 0;
        default:
            col_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        col_usage(stderr);
        return 2;
    }
    if (!col_fwd_configure(&col_opt.fwd, endpoint))
        return 2;
    col_opt.fwd.unix_socket = unix_socket;
    col_opt.fwd.in_flight = fwd_in_flight;
    return -1;
}
