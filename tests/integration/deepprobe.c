/*
 * deepprobe.c - opens deeplib the ways programs do and has it make one
 * HTTP request: usage deepprobe MODE PORT, MODE one of now, lazy (by its
 * path, RTLD_DEEPBIND with RTLD_NOW or RTLD_LAZY) or bare (by its bare
 * name, found only through this program's RUNPATH, no RTLD_DEEPBIND).
 * Prints which deep_who the library sees, what its own dup returns and
 * the response's status.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Also defined in deeplib: RTLD_DEEPBIND makes the library take its own. */
const char *deep_who(void)
{
    return "program";
}

static void *open_lib(const char *argv0, const char *mode)
{
    char path[4096];
    const char *slash = strrchr(argv0, '/');

    if (strcmp(mode, "bare") == 0)
        return dlopen("libdeeplib.so", RTLD_NOW);
    snprintf(path, sizeof(path), "%.*slibdeeplib.so", slash ? (int)(slash - argv0 + 1) : 0, argv0);
    return dlopen(path, RTLD_DEEPBIND | (strcmp(mode, "lazy") == 0 ? RTLD_LAZY : RTLD_NOW));
}

int main(int argc, char **argv)
{
    const char *(*whose)(void);
    int (*get)(int, const char *), (*own_dup)(void);
    void *lib;

    if (argc != 3) {
        fprintf(stderr, "usage: deepprobe now|lazy|bare PORT\n");
        return 2;
    }
    lib = open_lib(argv[0], argv[1]);
    if (!lib) {
        fprintf(stderr, "deepprobe: %s\n", dlerror());
        return 1;
    }
    whose = (const char *(*)(void))dlsym(lib, "deeplib_whose");
    own_dup = (int (*)(void))dlsym(lib, "deeplib_dup");
    get = (int (*)(int, const char *))dlsym(lib, "deeplib_get");
    if (!whose || !own_dup || !get)
        return 1;
    printf("who=%s dup=%d status=%d\n", whose(), own_dup(), get(atoi(argv[2]), "/deep"));
    return 0;
}
