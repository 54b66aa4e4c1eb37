/*
 * ss_select.h - system-wide mode: which programs the shim traces.
 *
 * With the shim in /etc/ld.so.preload every dynamically linked program on
 * the host loads it. Tracing them all is not what anyone wants, so in that
 * mode nothing is traced unless /etc/spanshim/preload.conf selects it: a
 * list of rules, one a line, the first that matches deciding,
 *
 *     # comment
 *     allow exe /usr/sbin/nginx        the executable's path (a glob)
 *     deny  exe /usr/local/bin/python*
 *     allow service shop-*             OTEL_SERVICE_NAME, or service.name
 *                                      in OTEL_RESOURCE_ATTRIBUTES
 *     allow unit php8.2-fpm.service    the systemd unit it runs in
 *
 * and a program that no rule matches is not traced (opt-in). Globs are
 * fnmatch(3)'s without FNM_PATHNAME: a * crosses slashes. A program named
 * in LD_PRELOAD (`spanshim run`, or by hand) is traced whatever the file
 * says: the file decides for the programs nobody chose one by one.
 *
 * The file is read once per process, in the constructor, with raw system
 * calls. It must be a regular file owned by root and writable by nobody
 * else, at most SS_SELECT_FILE_MAX bytes, every line a rule, a comment or
 * blank: anything else (or a file that cannot be read) is broken, and a
 * broken file traces nothing. No file at all traces nothing, quietly.
 *
 * A leaf: libc only, so `spanshim check-config` and enable-system judge a
 * file exactly as every process will.
 */
#ifndef SS_SELECT_H
#define SS_SELECT_H

#include <stddef.h>

#define SS_SELECT_CONF "/etc/spanshim/preload.conf"
#define SS_SELECT_FILE_MAX 65536
#define SS_SELECT_LINE_MAX 1024
#define SS_SELECT_WHY 256

/* What a process is, as the rules see it (NULL: not known, never matches). */
typedef struct ss_select_who {
    const char *exe;     /* the executable's absolute path */
    const char *service; /* the service name it was given */
    const char *unit;    /* its systemd unit, e.g. "nginx.service" */
} ss_select_who_t;

enum {
    SS_SELECT_BROKEN = -1, /* why says what, and on which line */
    SS_SELECT_NO = 0,
    SS_SELECT_YES = 1,
};

/* The rules in text (len bytes, not NUL-terminated) applied to who. The
 * whole text is checked even after a rule matched. who may be NULL to
 * check the text only (then NO unless broken). */
int ss_select_text(const char *text, size_t len, const ss_select_who_t *who, char *why,
                   size_t cap);

/* The file at path read and applied; NO, quietly, if there is none. */
int ss_select_file(const char *path, const ss_select_who_t *who, char *why, size_t cap);

/* Does the LD_PRELOAD value name the library at self (by its path, or
 * by its file name, as the loader would find it)? */
int ss_select_named(const char *ld_preload, const char *self);

/* The service name from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES'
 * values (either may be NULL), into out; NULL if neither gives one. */
const char *ss_select_service(const char *service_env, const char *attrs_env, char *out,
                              size_t cap);

/* The systemd unit in a /proc/self/cgroup text ("0::/system.slice/x.service"),
 * into out; NULL if it names none. */
const char *ss_select_unit(const char *cgroup, size_t len, char *out, size_t cap);

#endif
