/*
 * col_options.h - the collector's command line, parsed once into col_opt.
 *
 * Every module reads its settings from here (a sink's wanted() is a test
 * of its option); only col_options.c knows getopt. Values are checked as
 * they are parsed: a bad one is an error line and exit status 2, before
 * anything is opened or bound.
 */
#ifndef COL_OPTIONS_H
#define COL_OPTIONS_H

#include <stddef.h>
#include <sys/types.h>

#include "col_forward.h"
#include "col_replay.h"
#include "col_tail.h"
#include "col_vstore.h"

#define COL_ALLOW_MAX 16
#define COL_OTLP_LISTEN_MAX 4
#define COL_OTLP_MAX_MB 20 /* --otlp-max-mb's default, the OpenTelemetry Collector's */

typedef struct col_options {
    const char *socket_path;
    const char *jsonl;
    const char *logs_jsonl;     /* --logs-jsonl FILE: log records as OTLP JSON lines */
    const char *replay[COL_REPLAY_FILES]; /* --replay FILE...: read in as if their batches had come */
    int n_replay;
    int print;
    int quiet;
    const char *socket_group;   /* may send too; NULL: owner only */
    size_t queue_max;           /* bytes received and not yet handled */
    uid_t allow[COL_ALLOW_MAX];
    int n_allow;                /* 0: any uid that can open the socket */
    pid_t descendants_of;       /* accept this process's descendants; 0: no */
    const char *metrics_listen; /* serve /metrics here; NULL: no metrics */
    const char *otlp_listen[COL_OTLP_LISTEN_MAX]; /* OTLP/HTTP: HOST:PORT or unix:PATH */
    int n_otlp_listen;
    size_t otlp_max_body;       /* bytes of a request body, received and inflated */
    int tail;                   /* tail sampling, with tail_cfg */
    col_tail_cfg_t tail_cfg;
    col_fwd_cfg_t fwd;          /* fwd.url NULL: no forwarding */
    long stop_ms;               /* a stop is over this long after the signal */
    const char *ui_listen;      /* serve the trace viewer here; NULL: no viewer */
    col_vstore_cfg_t ui_cfg;    /* what the viewer holds at most */
} col_options_t;

extern col_options_t col_opt;

/* Parse argv into col_opt: -1 to go on, else the exit status (0 after
 * --help, 2 after an error line). */
int col_options_parse(int argc, char **argv);

#endif
