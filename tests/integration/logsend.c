/*
 * logsend.c - sends log records to a collector's socket the way the shim
 * does: each record encoded by the shim's own encoder (ex_otlp_log), the
 * resource by ex_otlp_resource, the envelope by ex_otlp_envelope, after
 * the frame EX_FRAME_LOGS, as one datagram on the Unix socket.
 *
 * usage: logsend SOCKET SERVICE [--each] [--out FILE] < RECORDS
 *   One record a line, fields separated by tabs:
 *     TRACE_ID SPAN_ID SEVERITY SEVERITY_TEXT BODY [TIME_NS]
 *   ids in hex ("-": the line was written outside any span), SEVERITY a
 *   SeverityNumber (0: not said), "-" for no severity text; TIME_NS the
 *   record's time (default: now). Every record goes in one datagram, or
 *   each in its own with --each. --out FILE also writes the last
 *   datagram's request (the bytes after the frame) to FILE.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../exporter/ex_otlp.h"

#define MAX_RECORDS 64

static uint8_t gram[EX_FRAME_LEN + EX_ENVELOPE_MAX + MAX_RECORDS * EX_LOG_MAX];
static uint8_t body[MAX_RECORDS * EX_LOG_MAX];
static uint8_t res[EX_RESOURCE_MAX];
static size_t res_len, body_len;
static int fd;
static const char *out;

static int unhex(const char *s, uint8_t *b, size_t n)
{
    size_t i;

    if (strlen(s) != 2 * n)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return 0;
        b[i] = (uint8_t)v;
    }
    return 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void flush_gram(void)
{
    size_t env;

    if (body_len == 0)
        return;
    memcpy(gram, EX_FRAME_LOGS, EX_FRAME_LEN);
    env = ex_otlp_envelope(res, res_len, body_len, gram + EX_FRAME_LEN, sizeof(gram) - EX_FRAME_LEN);
    if (env == 0) {
        fprintf(stderr, "logsend: no room for the envelope\n");
        exit(1);
    }
    memcpy(gram + EX_FRAME_LEN + env, body, body_len);
    if (send(fd, gram, EX_FRAME_LEN + env + body_len, 0) < 0) {
        perror("logsend: send");
        exit(1);
    }
    if (out) {
        FILE *f = fopen(out, "wb");

        if (f == NULL || fwrite(gram + EX_FRAME_LEN, 1, env + body_len, f) != env + body_len) {
            perror("logsend: --out");
            exit(1);
        }
        fclose(f);
    }
    body_len = 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ex_process_t p = {0};
    char line[16384], host[256] = "localhost";
    int each = 0, i, n = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: logsend SOCKET SERVICE [--each] [--out FILE] < RECORDS\n");
        return 2;
    }
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--each") == 0)
            each = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            return 2;
    }
    gethostname(host, sizeof(host) - 1);
    p.pid = getpid();
    p.service_name = argv[2];
    p.exe_name = "logsend";
    p.exe_path = "/usr/bin/logsend";
    p.command = "logsend";
    p.host_name = host;
    if ((res_len = ex_otlp_resource(&p, res, sizeof(res))) == 0) {
        fprintf(stderr, "logsend: no room for the resource\n");
        return 1;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("logsend: connect");
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        char *f[6] = {0}, *save = NULL, *t;
        ss_logrec_t r = {0};
        size_t k;
        int nf = 0;

        line[strcspn(line, "\n")] = '\0';
        for (t = strtok_r(line, "\t", &save); t && nf < 6; t = strtok_r(NULL, "\t", &save))
            f[nf++] = t;
        if (nf < 5) {
            fprintf(stderr, "logsend: a line needs 5 fields\n");
            return 2;
        }
        if (strcmp(f[0], "-") != 0) {
            if (!unhex(f[0], r.ctx.trace_id, 16) || !unhex(f[1], r.ctx.span_id, 8)) {
                fprintf(stderr, "logsend: bad ids\n");
                return 2;
            }
            r.ctx.valid = 1;
            r.ctx.flags = 1;
        }
        r.severity = (uint8_t)atoi(f[2]);
        if (strcmp(f[3], "-") != 0) {
            r.severity_text = f[3];
            r.severity_text_len = (uint8_t)strlen(f[3]);
        }
        r.body = f[4];
        r.body_len = (uint32_t)strlen(f[4]);
        r.source = SS_LOG_STDERR;
        r.time_ns = nf > 5 ? strtoull(f[5], NULL, 10) : now_ns();
        r.observed_ns = r.time_ns + 1000;
        if (n == MAX_RECORDS || (k = ex_otlp_log(&r, body + body_len, sizeof(body) - body_len)) == 0) {
            fprintf(stderr, "logsend: a record does not fit\n");
            return 1;
        }
        body_len += k;
        n++;
        if (each) {
            flush_gram();
            n = 0;
        }
    }
    flush_gram();
    close(fd);
    return 0;
}
