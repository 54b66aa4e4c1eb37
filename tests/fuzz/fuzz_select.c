/*
 * fuzz_select.c - libFuzzer target for system-wide mode's rules
 * (preload/ss_select.h): a preload.conf, and the pieces a process is
 * known by (its /proc/self/cgroup, OTEL_RESOURCE_ATTRIBUTES).
 *
 * Input: the text of a file. Checked:
 *   - the answer is BROKEN, NO or YES, and whether the text is broken does
 *     not depend on the process it is asked for;
 *   - a broken answer says why, NUL-terminated, within its buffer;
 *   - the unit found in the text as a cgroup file is a part of it ending
 *     in ".service", the service name from it as attributes a part of it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/ss_select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ss_select_who_t who = {"/usr/sbin/nginx", "shop", "nginx.service"};
    char why[SS_SELECT_WHY], why2[SS_SELECT_WHY], unit[256], service[256], *attrs;
    const char *text = (const char *)data, *u, *sv;
    int r, r2;

    memset(why, 0x55, sizeof(why));
    r = ss_select_text(text, size, &who, why, sizeof(why));
    r2 = ss_select_text(text, size, NULL, why2, sizeof(why2));
    if (r < SS_SELECT_BROKEN || r > SS_SELECT_YES || r2 < SS_SELECT_BROKEN || r2 > SS_SELECT_NO)
        abort();
    if ((r == SS_SELECT_BROKEN) != (r2 == SS_SELECT_BROKEN))
        abort();
    if (r == SS_SELECT_BROKEN && (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0'))
        abort();
    u = ss_select_unit(text, size, unit, sizeof(unit));
    if (u && (strlen(u) <= 8 || strcmp(u + strlen(u) - 8, ".service") != 0 ||
              memmem(text, size, u, strlen(u)) == NULL))
        abort();
    attrs = malloc(size + 1);
    if (attrs == NULL)
        return 0;
    memcpy(attrs, data, size);
    attrs[size] = '\0';
    sv = ss_select_service(NULL, attrs, service, sizeof(service));
    if (sv && (sv[0] == '\0' || (strlen(sv) < sizeof(service) - 1 &&
                                 strstr(attrs, sv) == NULL)))
        abort();
    free(attrs);
    return 0;
}
