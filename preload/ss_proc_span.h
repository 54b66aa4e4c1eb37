/*
 * ss_proc_span.h - the process part of a span record: one process image
 * that continues the trace its TRACEPARENT names (preload/ss_proc.h), as
 * the encoder reads it (exporter/ex_otlp_proc.c).
 */
#ifndef SS_PROC_SPAN_H
#define SS_PROC_SPAN_H

#include <stdint.h>

#define SS_PROC_NAME_MAX 64       /* the span's name: the program's file name */
#define SS_PROC_COMMAND_MAX 256   /* process.command, cut there */

typedef struct ss_span_proc {
    char name[SS_PROC_NAME_MAX];        /* NUL-terminated */
    char command[SS_PROC_COMMAND_MAX];  /* argv[0], NUL-terminated */
    int64_t pid;
    int32_t exit_code;                  /* process.exit.code, when exited */
    uint8_t exited;                     /* 0: the image ended by exec */
} ss_span_proc_t;

#endif
