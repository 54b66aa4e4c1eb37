/*
 * col_socket.h - the collector's socket: where, bound how, removed when.
 *
 * It is bound under a temporary name, given its permissions (owner-only,
 * or owner and --socket-group, or anyone's when the collector checks each
 * sender itself: --allow-descendants-of) and moved into place, so it never exists
 * at its path with others. It never replaces or removes a file that is
 * not its own socket: a path that holds anything but a socket, a socket
 * of another uid, or a live collector is refused; only a stale socket of
 * its own uid is taken over. The directory must pass the senders' trust
 * check (ex_sockpath.h), or no sender would use the socket.
 */
#ifndef COL_SOCKET_H
#define COL_SOCKET_H

/* The path to bind: --socket, else $SPANSHIM_SOCKET, else the default
 * (its directory made). NULL, after an error line, if there is none to
 * use; *usage is then 1 when the value given was unusable. */
const char *col_socket_path(const char *option, int *usage);

/* The bound socket, or -1 after an error line; anyone: mode 0666. */
int col_socket_bind(const char *path, const char *group, int anyone);

/* A Unix stream socket (the OTLP/HTTP receiver's), listening, placed by
 * the same rules: owner-only, or owner and group. -1 after an error line. */
int col_socket_listen(const char *path, const char *group);

/* At exit: unlink each path that is still the socket bound there. */
void col_socket_remove(void);

#endif
