/*
 * spanshim.h - what the `spanshim` command's files share.
 */
#ifndef SPANSHIM_CMD_H
#define SPANSHIM_CMD_H

#include <stddef.h>

/* The directory this executable is in. */
void sr_self_dir(char *out, size_t cap);

/* libspanshim.so as `spanshim run` preloads it: $SPANSHIM_LIB, then
 * ../lib and ../lib/<multiarch> from dir, then dir itself. 0 if none. */
int sr_find_lib(const char *dir, char *out, size_t cap);

/* spanshim enable-system | disable-system | check-config (spanshim_system.c). */
int sr_system(int argc, char **argv);

#endif
