/*
 * ss_stack.c - call stacks for slow and failed client calls (see
 * ss_stack.h): when to capture, libunwind loaded on first use, the shim's
 * frames left out, names found once the span is known to be wanted.
 *
 * Names: dladdr gives the module and the nearest exported symbol; for the
 * symbols a module does not export (a program's own functions, static
 * ones), libunwind's unw_get_proc_name reads the module's .symtab off its
 * file (mapped for the lookup and unmapped again: no memory kept). Without
 * either (a stripped module) a frame is its module and the offset from the
 * module's load address, which addr2line and eu-addr2line take.
 *
 * libunwind 1.6 opens a pipe on its first unwind to test addresses before
 * it reads them (a write of one byte from the address fails with EFAULT).
 * Its pipe2 reaches the shim's hook (ss_stack_unwinding is set), which
 * moves both ends to high numbers, close-on-exec, as the export socket is
 * moved (ex_transport.c), so the program's own descriptors keep the numbers
 * they would have had; and like the export socket it gives way when the
 * program's fd table is nearly full (ss_fdlimit.h): the pipe is closed and
 * no stack is taken from then on. Where the fd limit leaves no room up
 * there, no pipe is made and no stack taken.
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "ss_stack.h"
#include "ss_log.h"
#include "ss_real.h"
#include "ss_span.h"
#include "../exporter/ss_lock.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SS_STACK_FD_MIN 610        /* where the validation pipe is moved (above the export socket's) */
#define SS_STACK_RAW (SS_STACK_DEPTH + 24) /* the shim's own frames come first */
#define SS_STR2(x) #x
#define SS_STR(x) SS_STR2(x)

int ss_stack_mode = SS_STACKS_SLOW;
uint64_t ss_stack_min_ns = SS_STACK_MIN_MS_DEFAULT * 1000000ull;
__thread int ss_stack_unwinding __attribute__((tls_model("initial-exec")));

static struct {
    int (*backtrace)(void **, int);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
    int ok;
} ss_uw;
static pthread_once_t ss_uw_once = PTHREAD_ONCE_INIT;
static uintptr_t ss_self_lo, ss_self_hi; /* the shim's mapped range */
/* Which module an address is in, cheaply: glibc's _dl_find_object (2.35
 * and later; looked up at load time, so an older glibc still loads the
 * shim, then without the cache of names) takes no lock and walks no
 * symbols, where dladdr searches the module's symbols (50,000 instructions
 * in libc's). */
static int (*ss_find_object)(void *, struct dl_find_object *);
/* The validation pipe's ends as made (ss_stack_pipe2), to tell whether the
 * program has since closed them and reused the numbers. */
static int ss_pipe_fd[2] = {-1, -1};
/* The pipe gave way (the program's fd table nearly full, or no room for it
 * up high): no capture from then on, since libunwind would go on using the
 * numbers it remembers, which are the program's again. */
static int ss_stack_gone;
static int ss_capturing;             /* captures under way, any thread */
static dev_t ss_pipe_dev[2];
static ino_t ss_pipe_ino[2];

int ss_stack_configure(const char *mode, const char *min_ms)
{
    int rc = 0;

    if (mode && *mode) {
        if (strcasecmp(mode, "off") == 0)
            ss_stack_mode = SS_STACKS_OFF;
        else if (strcasecmp(mode, "slow") == 0)
            ss_stack_mode = SS_STACKS_SLOW;
        else if (strcasecmp(mode, "all") == 0)
            ss_stack_mode = SS_STACKS_ALL;
        else
            rc = -1;
    }
    if (min_ms && *min_ms) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(min_ms, &end, 10);
        if (errno || *end || min_ms[0] == '-' || v > 86400000ull)
            rc = -1;
        else
            ss_stack_min_ns = v * 1000000ull;
    }
    return rc;
}

/* ---- libunwind, on first use ------------------------------------------ */

static int ss_self_range(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t me = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;
    int i;

    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

        if (ph->p_type != PT_LOAD)
            continue;
        if (info->dlpi_addr + ph->p_vaddr < lo)
            lo = info->dlpi_addr + ph->p_vaddr;
        if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
            hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    if (me < lo || me >= hi)
        return 0;
    ss_self_lo = lo;
    ss_self_hi = hi;
    return 1;
}

/* Room for the pipe at SS_STACK_FD_MIN and above? */
static int ss_pipe_room(void)
{
    struct rlimit rl;

    return getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
           rl.rlim_cur >= (rlim_t)SS_STACK_FD_MIN + 64;
}

static void ss_uw_load(void)
{
    void *lib;

    if (!ss_pipe_room()) {
        /* libunwind's pipe would take numbers the program counts on. */
        ss_log(SS_LOG_INFO, "the fd limit is under %d: spans carry no code.stacktrace",
               SS_STACK_FD_MIN + 64);
        return;
    }
    lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        ss_log(SS_LOG_WARN, "libunwind.so.8 is not installed: spans carry no code.stacktrace");
        return;
    }
    ss_uw.backtrace = (int (*)(void **, int))dlsym(lib, "unw_backtrace");
    ss_uw.init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(lib, SS_STR(unw_init_local));
    ss_uw.get_proc_name = (int (*)(unw_cursor_t *, char *, size_t, unw_word_t *))dlsym(
        lib, SS_STR(unw_get_proc_name));
    if (ss_uw.backtrace == NULL) {
        ss_log(SS_LOG_WARN, "libunwind.so.8 has no unw_backtrace: spans carry no code.stacktrace");
        return;
    }
    dl_iterate_phdr(ss_self_range, (void *)(uintptr_t)&ss_uw_load);
    ss_find_object = (int (*)(void *, struct dl_find_object *))dlsym(RTLD_DEFAULT, "_dl_find_object");
    ss_uw.ok = 1;
}

/* fstat of the pipe's ends, made as the shim's other calls on them are
 * (ss_real_*: straight to the kernel, past any interceptor preloaded ahead
 * of the shim), so a sanitizer that never saw the pipe made does not take
 * a look at it for a race. */
static int ss_pipe_stat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

/* Would libunwind's pipe reads and writes reach one of the program's own
 * descriptors? A number that is closed is fine (libunwind opens another
 * pipe, through ss_stack_pipe2); one the program has reused is not: then
 * there is no capture. */
static int ss_pipe_taken(void)
{
    struct stat st;
    int i, fd;

    for (i = 0; i < 2; i++) {
        fd = __atomic_load_n(&ss_pipe_fd[i], __ATOMIC_ACQUIRE);
        if (fd >= 0 && ss_pipe_stat(fd, &st) == 0 &&
            (st.st_dev != ss_pipe_dev[i] || st.st_ino != ss_pipe_ino[i]))
            return 1;
    }
    return 0;
}

int ss_stack_capture(void **ips, int max)
{
    void *raw[SS_STACK_RAW];
    int n, i, k = 0, err = errno;

    pthread_once(&ss_uw_once, ss_uw_load);
    if (!ss_uw.ok)
        return 0;
    __atomic_add_fetch(&ss_capturing, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ss_stack_gone, __ATOMIC_SEQ_CST) || ss_pipe_taken()) {
        __atomic_sub_fetch(&ss_capturing, 1, __ATOMIC_SEQ_CST);
        errno = err;
        return 0;
    }
    /* libunwind's validation loops while errno is EINTR: start from 0. */
    errno = 0;
    ss_stack_unwinding = 1;
    n = ss_uw.backtrace(raw, SS_STACK_RAW);
    ss_stack_unwinding = 0;
    __atomic_sub_fetch(&ss_capturing, 1, __ATOMIC_SEQ_CST);
    errno = err;
    for (i = 0; i < n && k < max; i++) {
        uintptr_t ip = (uintptr_t)raw[i];

        if (ip >= ss_self_lo && ip < ss_self_hi)
            continue; /* the shim's own */
        ips[k++] = raw[i];
    }
    return k;
}

int ss_stack_pipe2(int fds[2], int flags)
{
    int p[2], i;

    fds[0] = fds[1] = -1; /* on failure too: libunwind then writes to no fd */
    if (__atomic_load_n(&ss_stack_gone, __ATOMIC_SEQ_CST) || !ss_pipe_room()) {
        __atomic_store_n(&ss_stack_gone, 1, __ATOMIC_SEQ_CST);
        errno = EMFILE;
        return -1;
    }
    if (ss_real_pipe2(p, flags | O_CLOEXEC) < 0)
        return -1;
    for (i = 0; i < 2; i++) {
        int hi = ss_real_fcntl(p[i], F_DUPFD_CLOEXEC, (void *)(intptr_t)SS_STACK_FD_MIN);

        ss_real_close(p[i]);
        p[i] = hi;
    }
    if (p[0] < 0 || p[1] < 0) { /* no room up there after all */
        for (i = 0; i < 2; i++)
            if (p[i] >= 0)
                ss_real_close(p[i]);
        __atomic_store_n(&ss_stack_gone, 1, __ATOMIC_SEQ_CST);
        errno = EMFILE;
        return -1;
    }
    for (i = 0; i < 2; i++) {
        struct stat st;

        fds[i] = p[i];
        if (ss_pipe_stat(p[i], &st) == 0) {
            ss_pipe_dev[i] = st.st_dev;
            ss_pipe_ino[i] = st.st_ino;
            __atomic_store_n(&ss_pipe_fd[i], p[i], __ATOMIC_RELEASE);
        }
    }
    return 0;
}

void ss_stack_give_up(void)
{
    struct stat st;
    int i;

    if (__atomic_exchange_n(&ss_stack_gone, 1, __ATOMIC_SEQ_CST))
        return;
    while (__atomic_load_n(&ss_capturing, __ATOMIC_SEQ_CST)) /* a few microseconds */
        sched_yield();
    for (i = 0; i < 2; i++) {
        int fd = __atomic_exchange_n(&ss_pipe_fd[i], -1, __ATOMIC_SEQ_CST);

        if (fd >= 0 && ss_pipe_stat(fd, &st) == 0 && st.st_dev == ss_pipe_dev[i] &&
            st.st_ino == ss_pipe_ino[i]) {
            ss_real_close(fd);
            if (i == 1)
                ss_log(SS_LOG_DEBUG, "the stacks' pipe gives way too: no code.stacktrace "
                                     "from now on");
        }
    }
}

/* ---- when -------------------------------------------------------------- */

/* How many spans a second get a code.stacktrace: a program that retries a
 * refused connection in a loop fails thousands of times a second, each
 * time with the same stack, and 2 KiB more per span would be most of what
 * it exports (and could overflow the backlog of a collector briefly
 * behind). A bucket of SS_STACK_BURST, refilled at SS_STACK_RATE a second;
 * spans past it are sent without one and counted (stacks_skipped). Not
 * for SPANSHIM_STACKS=all, which asks for every one. */
static ss_lock_t ss_budget_lock = SS_LOCK_INIT;
static uint64_t ss_budget_ns;        /* when the bucket was last refilled */
static unsigned ss_budget = SS_STACK_BURST;

static int ss_stack_budget(int spend)
{
    uint64_t now = ss_now_ns();
    int ok;

    const uint64_t every = 1000000000ull / SS_STACK_RATE;

    ss_lock(&ss_budget_lock);
    if (now >= ss_budget_ns + every) {
        uint64_t add = (now - ss_budget_ns) / every;

        if (add >= SS_STACK_BURST || ss_budget + add >= SS_STACK_BURST) {
            ss_budget = SS_STACK_BURST;
            ss_budget_ns = now; /* full: time since counts from now */
        } else {
            ss_budget += (unsigned)add;
            ss_budget_ns += add * every; /* the part of an interval left counts */
        }
    }
    ok = ss_budget > 0;
    if (ok && spend)
        ss_budget--;
    ss_unlock(&ss_budget_lock);
    return ok;
}

static void ss_stack_take(ss_span_t *s)
{
    int err = errno;

    if (ss_stack_mode != SS_STACKS_ALL && !ss_stack_budget(0)) {
        s->stack_n = SS_STACK_NONE; /* none left this second: not worth a capture */
        SS_COUNT(stacks_skipped);
        return;
    }
    s->stack_n = (uint8_t)ss_stack_capture(s->stack, SS_STACK_DEPTH);
    if (s->stack_n == 0)
        s->stack_n = SS_STACK_NONE; /* tried: not again */
    errno = err;
}

void ss_stack_at_wait(ss_span_t *s, int failed, uint64_t now_ns)
{
    if (s->stack_n || ss_stack_mode == SS_STACKS_OFF || s->kind != SS_KIND_CLIENT ||
        s->start_ns == 0)
        return;
    if (ss_stack_mode == SS_STACKS_ALL || failed ||
        (now_ns ? now_ns : ss_now_ns()) - s->start_ns >= ss_stack_min_ns)
        ss_stack_take(s);
}

void ss_stack_at_end(ss_span_t *s)
{
    if (s->stack_n || ss_stack_mode == SS_STACKS_OFF || s->kind != SS_KIND_CLIENT)
        return;
    if (ss_stack_mode == SS_STACKS_ALL || s->error_type[0] ||
        (s->end_ns ? s->end_ns : ss_now_ns()) - s->start_ns >= ss_stack_min_ns)
        ss_stack_take(s);
}

/* ---- names ------------------------------------------------------------- */

static size_t ss_put_name(char *out, size_t cap, size_t o, const char *name)
{
    for (; *name && o + 1 < cap; name++) {
        unsigned char ch = (unsigned char)*name;

        out[o++] = (ch <= ' ' || ch == 0x7f) ? '?' : (char)ch;
    }
    return *name ? cap : o; /* cap: did not fit */
}

size_t ss_stack_line(char *out, size_t cap, const char *func, uintptr_t off,
                     const char *module, uintptr_t modoff)
{
    char num[24];
    size_t o = 0;
    int w;

    if (cap == 0)
        return 0;
    if (!module || !*module)
        module = "?";
    if (func && *func) {
        if ((o = ss_put_name(out, cap, o, func)) >= cap)
            goto nofit;
        w = snprintf(num, sizeof(num), "+0x%lx (", (unsigned long)off);
        if (o + (size_t)w >= cap)
            goto nofit;
        memcpy(out + o, num, (size_t)w);
        o += (size_t)w;
        if ((o = ss_put_name(out, cap, o, module)) >= cap || o + 1 >= cap)
            goto nofit;
        out[o++] = ')';
    } else {
        if ((o = ss_put_name(out, cap, o, module)) >= cap)
            goto nofit;
        w = snprintf(num, sizeof(num), "+0x%lx", (unsigned long)modoff);
        if (o + (size_t)w >= cap)
            goto nofit;
        memcpy(out + o, num, (size_t)w);
        o += (size_t)w;
    }
    out[o] = '\0';
    return o;
nofit:
    out[0] = '\0';
    return 0;
}

static const char *ss_basename(const char *path)
{
    const char *b = strrchr(path, '/');

    return b ? b + 1 : path;
}

/* The function around pc from the module's symbol table (static symbols
 * included), through libunwind. */
static int ss_proc_name(uintptr_t pc, char *buf, size_t cap, uintptr_t *off)
{
    unw_context_t uc;
    unw_cursor_t cur;
    unw_word_t o = 0;

    if (ss_uw.init_local == NULL || ss_uw.get_proc_name == NULL)
        return -1;
    memset(&uc, 0, sizeof(uc));
#if defined(__x86_64__)
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
    uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)&uc;
#else
    (void)pc; /* elsewhere: dladdr's names only */
    return -1;
#endif
    if (ss_uw.init_local(&cur, &uc) < 0 || ss_uw.get_proc_name(&cur, buf, cap, &o) < 0)
        return -1;
    *off = (uintptr_t)o;
    return 0;
}

/* Lines named from a symbol table, kept: a program's slow calls come from
 * the same few places, and an interpreter's frames are the same whatever
 * the script, so each is read off its module's file about once. Keyed by
 * the address and the module it is in (its load address and the loader's
 * name for it), so a module loaded where an unloaded one was is looked up
 * anew. Two-way, bounded: SS_NAMED slots of one line each, in pairs. */
#define SS_NAMED 256
#define SS_NAMED_LINE 128
typedef struct ss_named {
    uintptr_t ip, base;
    const char *fname;
    char line[SS_NAMED_LINE];
} ss_named_t;
static ss_named_t ss_named[SS_NAMED];
static ss_lock_t ss_named_lock = SS_LOCK_INIT;

/* An address's two slots, side by side: two of one stack's frames whose
 * addresses share a slot do not take it from each other at every naming. */
static ss_named_t *ss_named_slot(uintptr_t ip)
{
    return &ss_named[((ip ^ (ip >> 9)) % (SS_NAMED / 2)) * 2];
}

static size_t ss_named_get(uintptr_t ip, uintptr_t base, const char *fname, char *line)
{
    ss_named_t *e = ss_named_slot(ip);
    size_t len = 0;

    ss_lock(&ss_named_lock);
    for (int i = 0; i < 2; i++, e++)
        if (e->ip == ip && e->base == base && e->fname == fname) {
            len = strlen(e->line);
            memcpy(line, e->line, len + 1);
            break;
        }
    ss_unlock(&ss_named_lock);
    return len;
}

static void ss_named_put(uintptr_t ip, uintptr_t base, const char *fname, const char *line,
                         size_t len)
{
    ss_named_t *e = ss_named_slot(ip);

    if (len >= SS_NAMED_LINE)
        return;
    ss_lock(&ss_named_lock);
    if (e->ip != 0 && e->ip != ip)
        e++; /* the first is another's: the second is this one's from now */
    e->ip = ip;
    e->base = base;
    e->fname = fname;
    memcpy(e->line, line, len + 1);
    ss_unlock(&ss_named_lock);
}

static int ss_module_of(uintptr_t pc, uintptr_t *base, const char **fname)
{
    struct dl_find_object fo;
    const struct link_map *lm;

    if (ss_find_object == NULL || ss_find_object((void *)pc, &fo) != 0 ||
        (lm = fo.dlfo_link_map) == NULL)
        return 0;
    *base = (uintptr_t)lm->l_addr;
    *fname = lm->l_name;
    return 1;
}

/* One frame's line, named afresh: dladdr for the module and an exported
 * symbol; the symbol table (the module's file mapped, searched, unmapped)
 * only for a frame dladdr could not name. */
static size_t ss_name_frame(uintptr_t ip, char *line, size_t cap)
{
    char name[512];
    uintptr_t pc = ip - 1, off = 0, poff = 0, base = 0;
    const char *module = NULL, *func = NULL;
    Dl_info di;

    if (dladdr((void *)pc, &di)) {
        base = (uintptr_t)di.dli_fbase;
        module = di.dli_fname && di.dli_fname[0] ? ss_basename(di.dli_fname)
                                                 : program_invocation_short_name;
        if (di.dli_sname && di.dli_saddr) {
            func = di.dli_sname;
            off = ip - (uintptr_t)di.dli_saddr;
        }
    }
    if (func == NULL && module && ss_proc_name(pc, name, sizeof(name), &poff) == 0) {
        func = name;
        off = poff + 1;
    }
    return ss_stack_line(line, cap, func, off, module, ip - base);
}

size_t ss_stack_text(void *const *ips, int n, char *out, size_t cap)
{
    char line[640];
    size_t o = 0;
    int i;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        /* Return addresses: the call is the byte before. */
        uintptr_t ip = (uintptr_t)ips[i], base = 0;
        const char *fname = NULL;
        int keyed = ss_module_of(ip - 1, &base, &fname);
        size_t len = keyed ? ss_named_get(ip, base, fname, line) : 0;

        if (len == 0) {
            len = ss_name_frame(ip, line, sizeof(line));
            if (keyed && len)
                ss_named_put(ip, base, fname, line, len);
        }
        if (len == 0 || o + (o ? 1 : 0) + len + 1 > cap)
            break; /* whole lines only */
        if (o)
            out[o++] = '\n';
        memcpy(out + o, line, len + 1);
        o += len;
    }
    return o;
}

static void ss_stack_attach_text(ss_span_t *s)
{
    char *text;

    if (s->stack_n == 0 || s->stack_n == SS_STACK_NONE || ss_stack_mode == SS_STACKS_OFF)
        return;
    if (ss_stack_mode == SS_STACKS_SLOW && !s->error_type[0] &&
        s->end_ns - s->start_ns < ss_stack_min_ns)
        return;
    if (ss_stack_mode != SS_STACKS_ALL && !ss_stack_budget(1)) {
        SS_COUNT(stacks_skipped);
        return;
    }
    if ((text = malloc(SS_STACK_TEXT_MAX)) == NULL)
        return;
    if (ss_stack_text(s->stack, s->stack_n, text, SS_STACK_TEXT_MAX) == 0) {
        free(text);
        return;
    }
    s->stacktrace = text;
}

void ss_stack_attach(ss_span_t *s)
{
    int err = errno;

    ss_stack_attach_text(s);
    errno = err; /* the program's, whatever naming did */
}

void ss_stack_after_fork(void)
{
    /* A thread that held the cache's lock at the fork may have left a slot
     * half written: then the cache starts empty (else it is left alone, so
     * a forking server's children do not copy its pages). libunwind's own
     * locks are its affair. */
    if (__atomic_load_n(&ss_named_lock.v, __ATOMIC_RELAXED) != 0)
        memset(ss_named, 0, sizeof(ss_named));
    ss_lock_reset(&ss_named_lock);
    ss_lock_reset(&ss_budget_lock);
}

void ss_stack_release(ss_span_t *s)
{
    free((void *)s->stacktrace);
    s->stacktrace = NULL;
}
