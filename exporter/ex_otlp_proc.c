/*
 * ex_otlp_proc.c - the process part of a span's encoding (ex_otlp_int.h):
 * a process image that continued the trace its TRACEPARENT named.
 *
 * OpenTelemetry has process attributes (process.pid, process.command,
 * process.exit.code) but no span conventions for a process. The span is
 * named after the program's file ("sh", "backup.sh", "curl"), as a shell's
 * trace of a pipeline would be read. A non-zero exit code is error.type
 * (as text, as HTTP's status code is) and status ERROR; a child a signal
 * ended, sent by its parent (preload/ss_proc.h), has the signal's name
 * there and 128 + its number as the exit code.
 */
#define _GNU_SOURCE
#include "ex_otlp_int.h"

static void ex_proc_decide(const ss_span_t *s, ex_facts_t *f)
{
    f->name = s->proc.name[0] ? ex_cstr(s->proc.name) : EX_LIT("process");
}

static uint8_t *ex_proc_attrs(uint8_t *p, const ss_span_t *s, const ex_facts_t *f)
{
    (void)f;
    p = ex_kv_str(p, EX_LIT("process.command"), ex_cstr(s->proc.command));
    if (s->proc.pid) /* 0: system's shell, whose pid was never told */
        p = ex_kv_int(p, EX_LIT("process.pid"), s->proc.pid);
    if (s->proc.exited)
        p = ex_kv_int(p, EX_LIT("process.exit.code"), s->proc.exit_code);
    return p;
}

/* The name, the command, two integers. */
#define EX_PROC_WORST (SS_PROC_NAME_MAX + SS_PROC_COMMAND_MAX + 3 * 50)
_Static_assert(EX_SPAN_COMMON_WORST + EX_PROC_WORST <= EX_SPAN_MAX, "a process span fits EX_SPAN_MAX");

const ex_span_enc_t ex_otlp_proc_enc = {EX_PROC_WORST, 0, ex_proc_decide, ex_proc_attrs};
