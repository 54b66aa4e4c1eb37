/*
 * test_select.c - system-wide mode's rules (preload/ss_select.c): which
 * program a preload.conf selects, what makes one broken, how the file is
 * trusted, and the pieces a process is known by.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../preload/ss_select.h"

static const ss_select_who_t nginx = {"/usr/sbin/nginx", NULL, "nginx.service"};
static const ss_select_who_t shop = {"/usr/bin/python3.11", "shop-api", NULL};

static int decide(const char *text, const ss_select_who_t *who)
{
    char why[SS_SELECT_WHY] = "";
    int r = ss_select_text(text, strlen(text), who, why, sizeof(why));

    if (r == SS_SELECT_BROKEN)
        print_message("broken: %s\n", why);
    return r;
}

static void nothing_is_traced_without_a_rule(void **state)
{
    (void)state;
    assert_int_equal(decide("", &nginx), SS_SELECT_NO);
    assert_int_equal(decide("# allow exe *\n\n   \n", &nginx), SS_SELECT_NO);
    assert_int_equal(decide("allow exe /usr/bin/*\n", &nginx), SS_SELECT_NO);
}

static void each_kind_of_rule_selects(void **state)
{
    (void)state;
    assert_int_equal(decide("allow exe /usr/sbin/nginx\n", &nginx), SS_SELECT_YES);
    assert_int_equal(decide("allow exe /usr/*\n", &nginx), SS_SELECT_YES); /* * crosses / */
    assert_int_equal(decide("allow unit nginx.service", &nginx), SS_SELECT_YES);
    assert_int_equal(decide("allow service shop-*\n", &shop), SS_SELECT_YES);
    assert_int_equal(decide("allow service shop-*\n", &nginx), SS_SELECT_NO); /* none known */
    assert_int_equal(decide("\tallow\t exe\t/usr/bin/python3*\r\n", &shop), SS_SELECT_YES);
}

static void the_first_rule_that_matches_decides(void **state)
{
    (void)state;
    assert_int_equal(decide("deny exe /usr/sbin/*\nallow exe *\n", &nginx), SS_SELECT_NO);
    assert_int_equal(decide("deny exe /usr/sbin/*\nallow exe *\n", &shop), SS_SELECT_YES);
    assert_int_equal(decide("allow unit nginx.service\ndeny exe *\n", &nginx), SS_SELECT_YES);
}

static void a_broken_line_anywhere_breaks_the_file(void **state)
{
    char why[SS_SELECT_WHY];
    char longline[SS_SELECT_LINE_MAX + 40];
    const char *bad[] = {
        "allow exe *\ntrace exe *\n",     /* after the rule that matched, still broken */
        "allow\n", "allow exe\n", "allow path /x\n", "allow exe /a /b\n", "permit exe *\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decide(bad[i], &nginx), SS_SELECT_BROKEN);
    assert_int_equal(ss_select_text("allow exe *\n\0", 13, &nginx, why, sizeof(why)),
                     SS_SELECT_BROKEN);
    assert_non_null(strstr(why, "line 2"));
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "allow exe /", 11);
    assert_int_equal(ss_select_text(longline, sizeof(longline), &nginx, why, sizeof(why)),
                     SS_SELECT_BROKEN);
    assert_non_null(strstr(why, "longer"));
    /* the check alone, no process */
    assert_int_equal(ss_select_text("allow exe *\n", 12, NULL, why, sizeof(why)), SS_SELECT_NO);
}

static void the_file_must_be_roots_and_small(void **state)
{
    char dir[] = "/tmp/spanshim-select.XXXXXX", path[128], why[SS_SELECT_WHY];
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/preload.conf", dir);
    /* none: not traced, and not broken */
    assert_int_equal(ss_select_file(path, &nginx, why, sizeof(why)), SS_SELECT_NO);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("allow exe /usr/sbin/nginx\n", f);
    fclose(f);
    chmod(path, 0644);
    if (getuid() == 0) {
        assert_int_equal(ss_select_file(path, &nginx, why, sizeof(why)), SS_SELECT_YES);
        chmod(path, 0664); /* a group may write it: not trusted */
        assert_int_equal(ss_select_file(path, &nginx, why, sizeof(why)), SS_SELECT_BROKEN);
        assert_non_null(strstr(why, "root"));
        chmod(path, 0644);
        f = fopen(path, "a");
        for (int i = 0; i < SS_SELECT_FILE_MAX / 18 + 1; i++)
            fputs("# padding padding\n", f);
        fclose(f);
        assert_int_equal(ss_select_file(path, &nginx, why, sizeof(why)), SS_SELECT_BROKEN);
        assert_non_null(strstr(why, "over"));
    } else {
        /* owned by this user, not root: refused */
        assert_int_equal(ss_select_file(path, &nginx, why, sizeof(why)), SS_SELECT_BROKEN);
        assert_non_null(strstr(why, "root"));
    }
    unlink(path);
    /* a directory is not a file */
    assert_int_equal(ss_select_file(dir, &nginx, why, sizeof(why)), SS_SELECT_BROKEN);
    rmdir(dir);
}

static void named_in_ld_preload(void **state)
{
    const char *self = "/usr/lib/x86_64-linux-gnu/libspanshim.so";

    (void)state;
    assert_true(ss_select_named(self, self));
    assert_true(ss_select_named("/lib/libother.so libspanshim.so", self));
    assert_true(ss_select_named("/lib/a.so:/usr/lib/x86_64-linux-gnu/libspanshim.so", self));
    assert_false(ss_select_named(NULL, self));
    assert_false(ss_select_named("", self));
    assert_false(ss_select_named("/opt/old/libspanshim.so", self)); /* another copy */
    assert_false(ss_select_named("libspanshim.so.1", self));
}

static void service_and_unit(void **state)
{
    char out[64];
    const char *cg2 = "0::/system.slice/nginx.service\n";
    const char *user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/shop.service\n";
    const char *v1 = "12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n";

    (void)state;
    assert_string_equal(ss_select_service("api", "service.name=x", out, sizeof(out)), "api");
    assert_string_equal(ss_select_service(NULL, "a=b,service.name=shop,c=d", out, sizeof(out)),
                        "shop");
    assert_string_equal(ss_select_service("", "service.name=shop", out, sizeof(out)), "shop");
    assert_null(ss_select_service(NULL, "service.namespace=x,service.name=", out, sizeof(out)));
    assert_null(ss_select_service(NULL, NULL, out, sizeof(out)));
    assert_string_equal(ss_select_unit(cg2, strlen(cg2), out, sizeof(out)), "nginx.service");
    assert_string_equal(ss_select_unit(user, strlen(user), out, sizeof(out)), "shop.service");
    assert_string_equal(ss_select_unit(v1, strlen(v1), out, sizeof(out)), "cron.service");
    assert_null(ss_select_unit("0::/\n", 4, out, sizeof(out)));
    assert_null(ss_select_unit("0::/init.scope\n", 15, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_is_traced_without_a_rule),
        cmocka_unit_test(each_kind_of_rule_selects),
        cmocka_unit_test(the_first_rule_that_matches_decides),
        cmocka_unit_test(a_broken_line_anywhere_breaks_the_file),
        cmocka_unit_test(the_file_must_be_roots_and_small),
        cmocka_unit_test(named_in_ld_preload),
        cmocka_unit_test(service_and_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
