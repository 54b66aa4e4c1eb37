/*
 * ss_deep.c - lead RTLD_DEEPBIND libraries through the hooks (see ss_deep.h).
 *
 * Why rewrite GOT entries: the dynamic linker gives a DEEPBIND object a
 * lookup scope that puts itself and its dependencies before the global
 * scope; there is no other public way to stand between it and libc. Only
 * the entries the loader filled for hooked names are touched, and only
 * those bound to what the hook itself would call (ss_real_lib_sym), so the
 * object reaches the same code as before, through the hook, exactly as a
 * library linked at start does. Lazy entries (still at the PLT stub) are
 * judged by where the loader would bind them: the first definition in the
 * DEEPBIND object's own scope (dlsym on its handle).
 *
 * Relocations read: DT_JMPREL (when DT_PLTREL is DT_RELA) and DT_RELA, of
 * the JUMP_SLOT and GLOB_DAT types of x86_64 and aarch64. Elsewhere nothing
 * is patched and each object is counted as left alone.
 */
#define _GNU_SOURCE
#include "ss_deep.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ss_init.h"
#include "../exporter/ss_lock.h"
#include "ss_log.h"
#include "ss_real.h"

#if defined(__x86_64__) && defined(__LP64__)
#define SS_DEEP_JUMP_SLOT R_X86_64_JUMP_SLOT
#define SS_DEEP_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__) && defined(__LP64__)
#define SS_DEEP_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define SS_DEEP_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

/* Objects one dlopen may bring in (php's curl.so brings about forty). */
#define SS_DEEP_MAX_OBJS 256

struct ss_deep_hook {
    const char *name;
    void *hook;                   /* the shim's exported definition */
};

/* Every exported hook (the functions the shim only calls are not). */
static struct ss_deep_hook ss_deep_hooks[] = {
#define SS_HOOK(ret, name, params, args, raw) {#name, NULL},
#define SS_LIBFN(ret, name, params, args, fail)
#define SS_LIBFN_VA(ret, name, proto, params, args, fail)
#include "hooks.def"
};
#define SS_DEEP_NHOOKS (sizeof(ss_deep_hooks) / sizeof(ss_deep_hooks[0]))

struct ss_deep_obj {
    uintptr_t base;
    const ElfW(Phdr) *phdr;
    unsigned phnum;
    const char *name;
};

static ss_lock_t ss_deep_lock = SS_LOCK_INIT;
static int ss_deep_ready;         /* the hook table is sorted and resolved */
static uintptr_t ss_deep_self;    /* the shim's own base: never patched */
static struct ss_deep_obj ss_deep_objs[SS_DEEP_MAX_OBJS];

static int ss_deep_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ss_deep_hook *)a)->name, ((const struct ss_deep_hook *)b)->name);
}

/* Sort the table and find each hook in the shim itself (not the first
 * definition in the global scope: the program may define one too). */
static int ss_deep_init(void)
{
    Dl_info self;
    void *h;
    size_t i;

    if (ss_deep_ready)
        return 0;
    if (!dladdr((void *)ss_deep_init, &self) || !self.dli_fname)
        return -1;
    h = dlopen(self.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
    if (!h)
        return -1;
    qsort(ss_deep_hooks, SS_DEEP_NHOOKS, sizeof(ss_deep_hooks[0]), ss_deep_cmp);
    for (i = 0; i < SS_DEEP_NHOOKS; i++)
        ss_deep_hooks[i].hook = dlsym(h, ss_deep_hooks[i].name);
    dlclose(h);
    ss_deep_self = (uintptr_t)self.dli_fbase;
    ss_deep_ready = 1;
    return 0;
}

static const struct ss_deep_hook *ss_deep_find(const char *name)
{
    struct ss_deep_hook key = {name, NULL};

    return bsearch(&key, ss_deep_hooks, SS_DEEP_NHOOKS, sizeof(key), ss_deep_cmp);
}

static int ss_deep_count_cb(struct dl_phdr_info *info, size_t size, void *n)
{
    (void)info;
    (void)size;
    ++*(unsigned *)n;
    return 0;
}

unsigned ss_deep_count(void)
{
    unsigned n = 0;

    dl_iterate_phdr(ss_deep_count_cb, &n);
    return n;
}

struct ss_deep_walk {
    unsigned seen, before, n;
};

/* Copy out the new objects: nothing is looked up while the loader's lock
 * is held (dlsym under it could deadlock against a dlopen elsewhere). */
static int ss_deep_collect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ss_deep_walk *w = arg;

    (void)size;
    if (w->seen++ < w->before || w->n >= SS_DEEP_MAX_OBJS)
        return 0;
    ss_deep_objs[w->n].base = info->dlpi_addr;
    ss_deep_objs[w->n].phdr = info->dlpi_phdr;
    ss_deep_objs[w->n].phnum = info->dlpi_phnum;
    ss_deep_objs[w->n].name = info->dlpi_name;
    w->n++;
    return 0;
}

/* Is [a, a+len) inside one of the object's segments (with flag, if any)? */
static int ss_deep_in(const struct ss_deep_obj *o, uintptr_t a, size_t len, unsigned flag)
{
    unsigned i;

    for (i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *p = &o->phdr[i];
        uintptr_t lo = o->base + p->p_vaddr;

        if (p->p_type == PT_LOAD && (p->p_flags & flag) == flag && a >= lo &&
            a - lo <= p->p_memsz && p->p_memsz - (a - lo) >= len)
            return 1;
    }
    return 0;
}

/* Is a in a page the loader made read-only after relocating (RELRO)? The
 * loader protects whole pages only, rounding both ends down. */
static int ss_deep_relro(const struct ss_deep_obj *o, uintptr_t a, uintptr_t page)
{
    unsigned i;

    for (i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *p = &o->phdr[i];
        uintptr_t lo = (o->base + p->p_vaddr) & ~(page - 1);
        uintptr_t hi = (o->base + p->p_vaddr + p->p_memsz) & ~(page - 1);

        if (p->p_type == PT_GNU_RELRO && a >= lo && a < hi)
            return 1;
    }
    return 0;
}

/* Point one GOT entry at a hook; a RELRO page is made writable for the
 * store and read-only again after. */
static int ss_deep_store(const struct ss_deep_obj *o, void **slot, void *hook)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)slot;
    void *start = (void *)(a & ~(page - 1));

    if (!ss_deep_relro(o, a, page)) {
        if (!ss_deep_in(o, a, sizeof(*slot), PF_W))
            return -1;
        __atomic_store_n(slot, hook, __ATOMIC_RELAXED);
        return 0;
    }
    if (mprotect(start, page, PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n(slot, hook, __ATOMIC_RELAXED);
    return mprotect(start, page, PROT_READ) == 0 ? 0 : -1;
}

/* A d_ptr: the loader rebases most of them in place, not all, everywhere. */
static uintptr_t ss_deep_addr(const struct ss_deep_obj *o, uintptr_t p)
{
    return p >= o->base ? p : o->base + p;
}

struct ss_deep_dyn {
    const ElfW(Sym) *sym;
    const char *str;
    size_t strsz;
    const ElfW(Rela) *rela, *jmprel;
    size_t relasz, jmprelsz;
};

static int ss_deep_read_dyn(const struct ss_deep_obj *o, struct ss_deep_dyn *d)
{
    const ElfW(Dyn) *dyn = NULL;
    int pltrel = DT_RELA;
    unsigned i;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < o->phnum; i++)
        if (o->phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(o->base + o->phdr[i].p_vaddr);
    if (!dyn)
        return -1;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = ss_deep_addr(o, dyn->d_un.d_ptr);

        switch (dyn->d_tag) {
        case DT_SYMTAB: d->sym = (const ElfW(Sym) *)p; break;
        case DT_STRTAB: d->str = (const char *)p; break;
        case DT_STRSZ: d->strsz = dyn->d_un.d_val; break;
        case DT_RELA: d->rela = (const ElfW(Rela) *)p; break;
        case DT_RELASZ: d->relasz = dyn->d_un.d_val; break;
        case DT_JMPREL: d->jmprel = (const ElfW(Rela) *)p; break;
        case DT_PLTRELSZ: d->jmprelsz = dyn->d_un.d_val; break;
        case DT_PLTREL: pltrel = (int)dyn->d_un.d_val; break;
        }
    }
    if (pltrel != DT_RELA)
        d->jmprel = NULL;
    if (!d->sym || !d->str || !ss_deep_in(o, (uintptr_t)d->str, d->strsz, 0) ||
        (d->rela && !ss_deep_in(o, (uintptr_t)d->rela, d->relasz, 0)) ||
        (d->jmprel && !ss_deep_in(o, (uintptr_t)d->jmprel, d->jmprelsz, 0)))
        return -1;
    return 0;
}

/* Where does this entry lead? A value inside the object itself is a lazy
 * PLT stub (or the object's own definition): ask the DEEPBIND scope. */
static void *ss_deep_target(const struct ss_deep_obj *o, void *root, void *v, const char *name)
{
    if (ss_deep_in(o, (uintptr_t)v, 1, 0))
        return dlsym(root, name);
    return v;
}

#ifdef SS_DEEP_JUMP_SLOT
/* One relocation: 1 if it leads to its hook now, 0 if it is not one to
 * touch, -1 if it could not be changed. */
static int ss_deep_entry(const struct ss_deep_obj *o, void *root, const struct ss_deep_dyn *d,
                         const ElfW(Rela) *r)
{
    unsigned type = ELF64_R_TYPE(r->r_info);
    const ElfW(Sym) *s = &d->sym[ELF64_R_SYM(r->r_info)];
    void **slot = (void **)(o->base + r->r_offset);
    const struct ss_deep_hook *h;
    void *v;

    if ((type != SS_DEEP_JUMP_SLOT && type != SS_DEEP_GLOB_DAT) || s->st_name >= d->strsz ||
        (h = ss_deep_find(d->str + s->st_name)) == NULL || h->hook == NULL ||
        !ss_deep_in(o, (uintptr_t)slot, sizeof(*slot), 0))
        return 0;
    v = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (v == h->hook || ss_deep_target(o, root, v, h->name) != ss_real_lib_sym(h->name))
        return 0;
    return ss_deep_store(o, slot, h->hook) == 0 ? 1 : -1;
}

/* Redirect the entries of one relocation table; -1 if one could not be. */
static int ss_deep_relocs(const struct ss_deep_obj *o, void *root, const struct ss_deep_dyn *d,
                          const ElfW(Rela) *r, size_t size, unsigned *done)
{
    size_t i, n = r ? size / sizeof(*r) : 0;
    int err = 0;

    for (i = 0; i < n; i++) {
        int k = ss_deep_entry(o, root, d, &r[i]);

        if (k < 0)
            err = -1;
        else
            *done += (unsigned)k;
    }
    return err;
}
#else
static int ss_deep_relocs(const struct ss_deep_obj *o, void *root, const struct ss_deep_dyn *d,
                          const ElfW(Rela) *r, size_t size, unsigned *done)
{
    (void)o, (void)root, (void)d, (void)r, (void)size, (void)done;
    return -1; /* relocation types not known here: left as it was */
}
#endif

/* Never the shim, the C library or the dynamic linker: their bindings are
 * what the hooks stand on. (None is ever new; this is a guard.) */
static int ss_deep_exempt(const struct ss_deep_obj *o)
{
    Dl_info libc;

    if (o->base == ss_deep_self || o->base == (uintptr_t)getauxval(AT_BASE))
        return 1;
    return dladdr((void *)ss_real_lib_sym("connect"), &libc) &&
           o->base == (uintptr_t)libc.dli_fbase;
}

static void ss_deep_object(const struct ss_deep_obj *o, void *root)
{
    struct ss_deep_dyn d;
    unsigned done = 0;
    int err;

    if (ss_deep_exempt(o))
        return;
    err = ss_deep_read_dyn(o, &d);
    if (err == 0) {
        err |= ss_deep_relocs(o, root, &d, d.jmprel, d.jmprelsz, &done);
        err |= ss_deep_relocs(o, root, &d, d.rela, d.relasz, &done);
    }
    if (err)
        SS_COUNT(libs_deepbind_failed);
    else if (done)
        SS_COUNT(libs_deepbind);
    ss_log(SS_LOG_DEBUG, "RTLD_DEEPBIND %s: %u calls led through the hooks%s", o->name, done,
           err ? ", some could not be (left as they were)" : "");
}

void ss_deep_after_fork(void)
{
    ss_deep_lock = (ss_lock_t)SS_LOCK_INIT;
}

void ss_deep_patch(unsigned before, void *handle)
{
    struct ss_deep_walk w = {0, before, 0};
    unsigned i;

    ss_busy++;
    ss_lock(&ss_deep_lock);
    if (ss_deep_init() == 0) {
        dl_iterate_phdr(ss_deep_collect_cb, &w);
        for (i = 0; i < w.n; i++)
            ss_deep_object(&ss_deep_objs[i], handle);
        if (w.n == SS_DEEP_MAX_OBJS)
            ss_log(SS_LOG_DEBUG, "RTLD_DEEPBIND: only the first %d new objects were looked at",
                   SS_DEEP_MAX_OBJS);
    } else {
        SS_COUNT(libs_deepbind_failed);
    }
    ss_unlock(&ss_deep_lock);
    (void)dlerror(); /* a failed lookup of ours is not the program's error */
    ss_busy--;
}
