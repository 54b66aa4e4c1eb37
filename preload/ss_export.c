/*
 * ss_export.c - the exporter's host, filled in from preload (see
 * ss_export.h and exporter/ex_host.h).
 *
 * The log line is ss_log itself, the socket calls are the real-function
 * table's (never the hooks), the configuration is ss_cfg's, and the counters
 * are ss_count's fields, so every counter keeps its name and its place in
 * the exit report.
 */
#define _GNU_SOURCE
#include "ss_export.h"
#include "ss_config.h"
#include "ss_inflight.h"
#include "ss_log.h"
#include "ss_owntable.h"
#include "ss_real.h"
#include "../exporter/ex_batch.h"
#include "../exporter/ex_host.h"
#include "../exporter/ex_transport.h"

_Static_assert((int)EX_LOG_ERROR == SS_LOG_ERROR && (int)EX_LOG_WARN == SS_LOG_WARN &&
                   (int)EX_LOG_INFO == SS_LOG_INFO && (int)EX_LOG_DEBUG == SS_LOG_DEBUG,
               "the exporter logs at ss_log's levels");

void ss_export_init(int argc, char **argv)
{
    const ex_host_t host = {
        .log = ss_log,
        .socket = ss_real_socket,
        .connect = ss_real_connect,
        .sendmsg = ss_real_sendmsg,
        .close = ss_real_close,
        .fcntl = ss_real_fcntl,
        .socket_path = ss_cfg.socket_path,
        .runtime_dir = ss_cfg.runtime_dir,
        .collector_uids = &ss_cfg.collector_uids,
        .export_off = ss_cfg.export_off,
        .command_args = ss_cfg.command_args,
        .tick = ss_cfg.inflight_ms ? ss_inflight_tick : NULL,
        /* A quarter of the first interval, within the flush thread's 50 ms to 1 s. */
        .tick_ms = ss_cfg.inflight_ms / 4 < EX_FLUSH_MS / 4 ? EX_FLUSH_MS / 4
                   : ss_cfg.inflight_ms / 4 > 1000 ? 1000 : ss_cfg.inflight_ms / 4,
        .leave_fd_table = ss_owntable_leave,
        .spans = {
            [EX_TX_SENT] = &ss_count.spans_exported,
            [EX_TX_BUSY] = &ss_count.spans_dropped_full,
            [EX_TX_NOCOLLECTOR] = &ss_count.spans_dropped_nocollector,
            [EX_TX_UNTRUSTED] = &ss_count.spans_dropped_untrusted,
            [EX_TX_FDLIMIT] = &ss_count.spans_dropped_fdlimit,
            [EX_TX_OFF] = &ss_count.spans_dropped_off,
        },
        .batches_sent = &ss_count.batches_sent,
        .spans_unencodable = &ss_count.spans_dropped_encode,
        .spans_capped = &ss_count.spans_dropped_memory,
        .spans_busy_at_exit = &ss_count.spans_lost_busy_at_exit,
        .logs = {
            [EX_TX_SENT] = &ss_count.logs_exported,
            [EX_TX_BUSY] = &ss_count.logs_dropped_full,
            [EX_TX_NOCOLLECTOR] = &ss_count.logs_dropped_nocollector,
            [EX_TX_UNTRUSTED] = &ss_count.logs_dropped_untrusted,
            [EX_TX_FDLIMIT] = &ss_count.logs_dropped_fdlimit,
            [EX_TX_OFF] = &ss_count.logs_dropped_off,
        },
        .logs_unencodable = &ss_count.logs_dropped_encode,
        .logs_busy = &ss_count.logs_dropped_busy,
    };

    ex_batch_init(&host, argc, argv);
}

void ss_export_fd_closed(int fd)
{
    ex_transport_fd_closed(fd);
}

void ss_export_fds_closed(unsigned first, unsigned last)
{
    ex_transport_fds_closed(first, last);
}
