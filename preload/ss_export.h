/*
 * ss_export.h - the exporter as preload hosts it.
 *
 * Dependencies point one way: hooks -> preload -> exporter (the lock,
 * exporter/ss_lock.h, at the bottom). The exporter reaches nothing of preload/ but the span
 * records: what it needs of its host (the log line, the real socket calls,
 * the configuration, the counters) it is handed here at start
 * (exporter/ex_host.h). And the hooks reach the exporter only through
 * preload: the fd events its socket must know of are forwarded from here.
 */
#ifndef SS_EXPORT_H
#define SS_EXPORT_H

/* Start the exporter (the constructor, after ss_config_load); argv may be NULL. */
void ss_export_init(int argc, char **argv);

/* The program closed fd, or is about to put another file on its number:
 * if the export socket was there, the exporter forgets it. */
void ss_export_fd_closed(int fd);
void ss_export_fds_closed(unsigned first, unsigned last);

#endif
