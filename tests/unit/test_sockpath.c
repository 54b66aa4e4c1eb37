/*
 * test_sockpath.c - the collector socket's default places and trust check
 * (exporter/ex_sockpath.c), on paths made in a temporary directory.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../exporter/ex_sockpath.h"

static char base[64];

static int make_base(void **state)
{
    (void)state;
    snprintf(base, sizeof(base), "/tmp/spanshim-unit.XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int remove_base(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    return system(cmd) == 0 ? 0 : -1;
}

/* base/name, in one of a few buffers (so two can be arguments at once). */
static const char *in_base(const char *name)
{
    static char path[4][EX_SOCKPATH_MAX];
    static unsigned next;
    char *p = path[next++ % 4];

    snprintf(p, EX_SOCKPATH_MAX, "%s/%s", base, name);
    return p;
}

/* A socket bound at path (left open: the file is what is checked). */
static void bind_at(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void test_unusable(void **state)
{
    char longest[EX_SOCKPATH_MAX + 1];

    (void)state;
    assert_null(ex_sockpath_unusable("/run/spanshim/spanshim.sock"));
    assert_non_null(ex_sockpath_unusable(""));
    assert_non_null(ex_sockpath_unusable(NULL));
    assert_string_equal(ex_sockpath_unusable("spanshim.sock"), "it is not an absolute path");
    assert_non_null(ex_sockpath_unusable("/tmp/"));
    memset(longest, 'x', sizeof(longest) - 1);
    longest[0] = '/';
    longest[EX_SOCKPATH_MAX - 1] = '\0'; /* 107 bytes: fits */
    assert_null(ex_sockpath_unusable(longest));
    longest[EX_SOCKPATH_MAX - 1] = 'x';
    longest[EX_SOCKPATH_MAX] = '\0';
    assert_non_null(ex_sockpath_unusable(longest));
}

static void test_trust_parse(void **state)
{
    ex_trust_t t;
    char many[128] = "";
    int i;

    (void)state;
    assert_int_equal(ex_trust_parse(&t, NULL), 1);
    assert_int_equal(t.n, 0);
    assert_int_equal(ex_trust_parse(&t, ""), 1);
    assert_int_equal(t.n, 0);
    assert_int_equal(ex_trust_parse(&t, "1000,65534"), 1);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.uid[0], 1000);
    assert_int_equal(t.uid[1], 65534);
    assert_int_equal(ex_trust_parse(&t, "12,www-data,13"), 0); /* numbers only */
    assert_int_equal(t.n, 2);
    assert_int_equal(ex_trust_parse(&t, "1,,2"), 0);
    assert_int_equal(ex_trust_parse(&t, "4294967295"), 0); /* (uid_t)-1 */
    assert_int_equal(ex_trust_parse(&t, "99999999999999999999"), 0);
    assert_int_equal(t.n, 0);
    for (i = 0; i <= EX_TRUST_MAX; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "", i + 1);
    assert_int_equal(ex_trust_parse(&t, many), 0);
    assert_int_equal(t.n, EX_TRUST_MAX);
}

static void test_trust_uid(void **state)
{
    ex_trust_t t;
    uid_t other = getuid() == 4242 ? 4243 : 4242;

    (void)state;
    assert_true(ex_trust_uid(NULL, 0));
    assert_true(ex_trust_uid(NULL, getuid()));
    assert_true(ex_trust_uid(NULL, geteuid()));
    assert_false(ex_trust_uid(NULL, other));
    ex_trust_parse(&t, "7,4242,4243");
    assert_true(ex_trust_uid(&t, other));
}

static void test_defaults(void **state)
{
    char out[EX_SOCKPATH_DEFAULTS][EX_SOCKPATH_MAX], want[EX_SOCKPATH_MAX], xdg[EX_SOCKPATH_MAX];

    (void)state;
    snprintf(xdg, sizeof(xdg), "%s", in_base("xdg"));
    assert_int_equal(ex_sockpath_defaults(NULL, 1000, out), 2);
    assert_string_equal(out[0], "/tmp/spanshim-1000/spanshim.sock");
    assert_string_equal(out[1], "/run/spanshim/spanshim.sock");
    assert_int_equal(ex_sockpath_defaults("relative/dir", 1000, out), 2);
    assert_int_equal(mkdir(xdg, 0700), 0);
    assert_int_equal(ex_sockpath_defaults(xdg, getuid(), out), 3);
    snprintf(want, sizeof(want), "%s", in_base("xdg/spanshim.sock"));
    assert_string_equal(out[0], want);
    assert_int_equal(ex_sockpath_defaults(xdg, getuid() + 1, out), 2); /* not that user's */
    chmod(xdg, 0750);
    assert_int_equal(ex_sockpath_defaults(xdg, getuid(), out), 2); /* others may enter */
    assert_int_equal(ex_sockpath_defaults(in_base("missing"), getuid(), out), 2);
}

static void test_private_dir(void **state)
{
    char dir[EX_SOCKPATH_MAX], why[256], theirs[EX_SOCKPATH_MAX];
    struct stat st;
    uid_t me = getuid(), other = me + 1;

    (void)state;
    assert_int_equal(ex_sockpath_private_dir(base, me, dir, sizeof(dir), why, sizeof(why)), 1);
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(ex_sockpath_private_dir(base, me, dir, sizeof(dir), why, sizeof(why)), 1);
    chmod(dir, 0755);
    assert_int_equal(ex_sockpath_private_dir(base, me, dir, sizeof(dir), why, sizeof(why)), 0);
    assert_non_null(strstr(why, "can be entered by others"));
    /* Made by someone else (here: this user) for the other uid. */
    snprintf(theirs, sizeof(theirs), "%s/spanshim-%u", base, (unsigned)other);
    assert_int_equal(mkdir(theirs, 0700), 0);
    assert_int_equal(ex_sockpath_private_dir(base, other, dir, sizeof(dir), why, sizeof(why)), 0);
    assert_non_null(strstr(why, "is owned by uid"));
    rmdir(theirs);
    assert_int_equal(symlink("/", theirs), 0);
    assert_int_equal(ex_sockpath_private_dir(base, other, dir, sizeof(dir), why, sizeof(why)), 0);
    assert_non_null(strstr(why, "is not a directory"));
}

static void test_check(void **state)
{
    char why[256], link_dir[EX_SOCKPATH_MAX], via_link[EX_SOCKPATH_MAX];
    dev_t dev = 0;
    ino_t ino = 0;
    struct stat st;
    FILE *f;

    (void)state;
    assert_int_equal(mkdir(in_base("d"), 0755), 0);
    assert_int_equal(ex_sockpath_check(in_base("d/none.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_ABSENT);
    assert_int_equal(ex_sockpath_check(in_base("nodir/s.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_ABSENT);
    bind_at(in_base("d/s.sock"));
    assert_int_equal(ex_sockpath_check(in_base("d/s.sock"), NULL, &dev, &ino, why,
                                       sizeof(why)), EX_SOCK_TRUSTED);
    assert_int_equal(lstat(in_base("d/s.sock"), &st), 0);
    assert_true(st.st_dev == dev && st.st_ino == ino);
    f = fopen(in_base("d/file.sock"), "w");
    fclose(f);
    assert_int_equal(ex_sockpath_check(in_base("d/file.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_REFUSED);
    assert_string_equal(why, "it is not a socket");
    assert_int_equal(symlink(in_base("d/s.sock"), in_base("d/link.sock")), 0);
    assert_int_equal(ex_sockpath_check(in_base("d/link.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_REFUSED);
    assert_string_equal(why, "it is a symbolic link");
    snprintf(link_dir, sizeof(link_dir), "%s", in_base("dlink"));
    assert_int_equal(symlink(in_base("d"), link_dir), 0);
    snprintf(via_link, sizeof(via_link), "%s", in_base("dlink/s.sock"));
    assert_int_equal(ex_sockpath_check(via_link, NULL, NULL, NULL, why, sizeof(why)),
                     EX_SOCK_TRUSTED);
    chmod(in_base("d"), 0777);
    assert_int_equal(ex_sockpath_check(in_base("d/s.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_REFUSED);
    assert_non_null(strstr(why, "is writable by others and not sticky"));
    chmod(in_base("d"), 01777); /* sticky, as /tmp: the socket is ours */
    assert_int_equal(ex_sockpath_check(in_base("d/s.sock"), NULL, NULL, NULL, why,
                                       sizeof(why)), EX_SOCK_TRUSTED);
    assert_int_equal(ex_sockpath_dir_safe(in_base("d"), NULL, why, sizeof(why)), 1);
    chmod(in_base("d"), 0775);
    assert_int_equal(ex_sockpath_dir_safe(in_base("d"), NULL, why, sizeof(why)), 0);
    assert_int_equal(ex_sockpath_check("relative.sock", NULL, NULL, NULL, why, sizeof(why)),
                     EX_SOCK_REFUSED);
}

static void test_find(void **state)
{
    char out[EX_SOCKPATH_MAX], why[256], want[EX_SOCKPATH_MAX];
    char xdg[EX_SOCKPATH_MAX];

    (void)state;
    snprintf(xdg, sizeof(xdg), "%s", in_base("run"));
    assert_int_equal(mkdir(xdg, 0700), 0);
    /* An explicit path is the only one tried. */
    assert_int_equal(ex_sockpath_find(in_base("run/none.sock"), xdg, NULL, out, NULL, NULL, why,
                                      sizeof(why)), EX_SOCK_ABSENT);
    assert_string_equal(out, in_base("run/none.sock"));
    snprintf(want, sizeof(want), "%s", in_base("run/spanshim.sock"));
    bind_at(want);
    assert_int_equal(ex_sockpath_find(NULL, xdg, NULL, out, NULL, NULL, why, sizeof(why)),
                     EX_SOCK_TRUSTED);
    assert_string_equal(out, want);
    assert_int_equal(ex_sockpath_find("", xdg, NULL, out, NULL, NULL, why, sizeof(why)),
                     EX_SOCK_TRUSTED);
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unusable),   cmocka_unit_test(test_trust_parse),
        cmocka_unit_test(test_trust_uid),  cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_private_dir), cmocka_unit_test(test_check),
        cmocka_unit_test(test_find),
    };

    return cmocka_run_group_tests(tests, make_base, remove_base);
}
