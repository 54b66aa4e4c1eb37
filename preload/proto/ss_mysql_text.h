/*
 * ss_mysql_text.h - what the MySQL follower reads in a COM_QUERY's text
 * beyond ss_sql_describe's attributes: the statement count that makes a
 * multi-statement query a batch, and `USE db` changing db.namespace.
 */
#ifndef SS_MYSQL_TEXT_H
#define SS_MYSQL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The statements in q: each `;` outside quotes and comments with
 * something but space after it starts one more. */
uint32_t ss_mysql_statements(const char *q, size_t n);

/* 1 when q is `USE db` alone (backquoted or bare, a `;` after it
 * allowed): db copied into out, cut to cap - 1 bytes. */
int ss_mysql_use_db(const char *q, size_t n, char *out, size_t cap);

#endif
