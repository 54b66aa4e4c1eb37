/*
 * ss_select.c - the rules of /etc/spanshim/preload.conf (see ss_select.h).
 *
 * One pass over the text, line by line, no allocation: a line is cut into
 * its three words in a buffer on the stack, so a pattern can be handed to
 * fnmatch. The file is read with raw system calls: in the shim this runs
 * in the constructor, before any hook may be taken, and in every process
 * of the host, so it must be cheap and must not depend on anything else.
 */
#define _GNU_SOURCE
#include "ss_select.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ss_select_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The next word of line (NUL-terminated in place), or NULL at its end. */
static char *ss_select_word(char **p)
{
    char *s = *p, *w;

    while (ss_select_space(*s))
        s++;
    if (*s == '\0')
        return NULL;
    w = s;
    while (*s && !ss_select_space(*s))
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

/* One line: -1 broken (why), 0 no rule matched, 1 allow, 2 deny matched. */
static int ss_select_line(char *line, unsigned no, const ss_select_who_t *who, char *why,
                          size_t cap)
{
    char *p = line, *verb, *kind, *pat;
    const char *subject;

    verb = ss_select_word(&p);
    if (verb == NULL || verb[0] == '#')
        return 0;
    kind = ss_select_word(&p);
    pat = ss_select_word(&p);
    if (strcmp(verb, "allow") != 0 && strcmp(verb, "deny") != 0) {
        snprintf(why, cap, "line %u: a rule starts with allow or deny, not \"%.40s\"", no, verb);
        return -1;
    }
    if (kind == NULL || pat == NULL) {
        snprintf(why, cap, "line %u: %s needs exe, service or unit and a pattern", no, verb);
        return -1;
    }
    if (ss_select_word(&p) != NULL) {
        snprintf(why, cap, "line %u: one pattern a rule (no spaces in it)", no);
        return -1;
    }
    if (strcmp(kind, "exe") == 0)
        subject = who ? who->exe : NULL;
    else if (strcmp(kind, "service") == 0)
        subject = who ? who->service : NULL;
    else if (strcmp(kind, "unit") == 0)
        subject = who ? who->unit : NULL;
    else {
        snprintf(why, cap, "line %u: %s what? exe, service or unit, not \"%.40s\"", no, verb,
                 kind);
        return -1;
    }
    if (subject == NULL || fnmatch(pat, subject, 0) != 0)
        return 0;
    return verb[0] == 'a' ? 1 : 2;
}

int ss_select_text(const char *text, size_t len, const ss_select_who_t *who, char *why,
                   size_t cap)
{
    char line[SS_SELECT_LINE_MAX + 1];
    size_t at = 0;
    unsigned no = 0;
    int decided = 0;

    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        int r;

        no++;
        if (n > SS_SELECT_LINE_MAX) {
            snprintf(why, cap, "line %u: longer than %d bytes", no, SS_SELECT_LINE_MAX);
            return SS_SELECT_BROKEN;
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        if (memchr(line, '\0', n) != NULL) {
            snprintf(why, cap, "line %u: a NUL byte", no);
            return SS_SELECT_BROKEN;
        }
        at += n + (nl != NULL);
        r = ss_select_line(line, no, decided ? NULL : who, why, cap);
        if (r < 0)
            return SS_SELECT_BROKEN;
        if (r > 0 && !decided)
            decided = r;
    }
    return decided == 1 ? SS_SELECT_YES : SS_SELECT_NO;
}

int ss_select_file(const char *path, const ss_select_who_t *who, char *why, size_t cap)
{
    static char text[SS_SELECT_FILE_MAX + 1];
    struct stat st;
    size_t got = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return SS_SELECT_NO;
        snprintf(why, cap, "%s cannot be read: %s", path, strerror(errno));
        return SS_SELECT_BROKEN;
    }
    if (syscall(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "%s is not a regular file", path);
        goto broken;
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(why, cap, "%s must be root's and writable by root only", path);
        goto broken;
    }
    for (;;) {
        long n = syscall(SYS_read, fd, text + got, sizeof(text) - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, cap, "%s cannot be read: %s", path, strerror(errno));
            goto broken;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > SS_SELECT_FILE_MAX) {
            snprintf(why, cap, "%s is over %d bytes", path, SS_SELECT_FILE_MAX);
            goto broken;
        }
    }
    syscall(SYS_close, fd);
    return ss_select_text(text, got, who, why, cap);
broken:
    syscall(SYS_close, fd);
    return SS_SELECT_BROKEN;
}

int ss_select_named(const char *ld_preload, const char *self)
{
    const char *base = strrchr(self, '/');
    const char *p = ld_preload;

    base = base ? base + 1 : self;
    if (p == NULL)
        return 0;
    while (*p) {
        size_t n;
        const char *slash;

        while (*p == ' ' || *p == ':' || *p == '\t')
            p++;
        n = strcspn(p, " :\t");
        if (n == 0)
            break;
        /* a path must be ours; a bare name is looked up, and found us */
        slash = memchr(p, '/', n);
        if (slash ? n == strlen(self) && memcmp(p, self, n) == 0
                  : n == strlen(base) && memcmp(p, base, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

const char *ss_select_service(const char *service_env, const char *attrs_env, char *out,
                              size_t cap)
{
    const char *p = attrs_env;

    if (service_env && *service_env) {
        snprintf(out, cap, "%s", service_env);
        return out;
    }
    while (p && *p) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);

        if (eq && (size_t)(eq - p) == strlen("service.name") &&
            memcmp(p, "service.name", (size_t)(eq - p)) == 0 && eq + 1 < p + n) {
            snprintf(out, cap, "%.*s", (int)(p + n - eq - 1), eq + 1);
            return out;
        }
        p += n + (p[n] == ',');
    }
    return NULL;
}

const char *ss_select_unit(const char *cgroup, size_t len, char *out, size_t cap)
{
    const char *found = NULL, *end = cgroup + len, *p = cgroup;
    size_t found_len = 0;

    /* the last path component ending in .service, on any line */
    while (p < end) {
        const char *q = p;

        while (q < end && *q != '/' && *q != '\n')
            q++;
        if ((size_t)(q - p) > strlen(".service") &&
            memcmp(q - strlen(".service"), ".service", strlen(".service")) == 0 &&
            memchr(p, ':', (size_t)(q - p)) == NULL && memchr(p, '\0', (size_t)(q - p)) == NULL) {
            found = p;
            found_len = (size_t)(q - p);
        }
        p = q + 1;
    }
    if (found == NULL || found_len >= cap)
        return NULL;
    memcpy(out, found, found_len);
    out[found_len] = '\0';
    return out;
}
