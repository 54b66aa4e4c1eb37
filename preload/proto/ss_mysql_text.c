/*
 * ss_mysql_text.c - the two things the MySQL follower reads in SQL text
 * itself (see ss_mysql_text.h): how many statements a COM_QUERY holds,
 * and the database a lone `USE` switches to. Quotes and comments are
 * skipped as MySQL reads them; nothing is copied but the database name.
 */
#include "ss_mysql_text.h"

#include <string.h>
#include <strings.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

uint32_t ss_mysql_statements(const char *q, size_t n)
{
    uint32_t count = 1;
    int pending = 0;

    for (size_t i = 0; i < n; i++) {
        char c = q[i];

        if (c == '\'' || c == '"' || c == '`') {
            for (i++; i < n && q[i] != c; i++)
                if (q[i] == '\\' && c != '`')
                    i++;
        } else if (c == '#' || (c == '-' && i + 2 < n && q[i + 1] == '-' && is_space(q[i + 2]))) {
            while (i < n && q[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && q[i + 1] == '*') {
            for (i += 2; i + 1 < n && !(q[i] == '*' && q[i + 1] == '/'); i++)
                ;
            i++;
        } else if (c == ';') {
            pending = 1;
        } else if (pending && !is_space(c)) {
            count++;
            pending = 0;
        }
    }
    return count;
}

int ss_mysql_use_db(const char *q, size_t n, char *out, size_t cap)
{
    size_t i = 0, start, end;

    while (i < n && is_space(q[i]))
        i++;
    if (n - i < 4 || strncasecmp(q + i, "use", 3) != 0 || !(is_space(q[i + 3]) || q[i + 3] == '`'))
        return 0;
    for (i += 3; i < n && is_space(q[i]); i++)
        ;
    if (i < n && q[i] == '`') {
        start = ++i;
        while (i < n && q[i] != '`')
            i++;
        if (i == n)
            return 0;
        end = i++;
    } else {
        start = i;
        while (i < n && (q[i] == '_' || q[i] == '$' || (q[i] >= '0' && q[i] <= '9') ||
                         ((q[i] | 0x20) >= 'a' && (q[i] | 0x20) <= 'z') || (q[i] & 0x80)))
            i++;
        end = i;
    }
    while (i < n && (is_space(q[i]) || q[i] == ';'))
        i++;
    if (i != n || end == start)
        return 0;
    if (end - start >= cap)
        end = start + cap - 1;
    memcpy(out, q + start, end - start);
    out[end - start] = '\0';
    return 1;
}
