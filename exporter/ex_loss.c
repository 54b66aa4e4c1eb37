/*
 * ex_loss.c - lost spans said once, and counted at exit (see ex_loss.h).
 *
 * Both lines go through the host's log (the real write() to stderr) at
 * EX_LOG_ERROR, the default level; SPANSHIM_LOG=off silences them.
 */
#define _GNU_SOURCE
#include "ex_loss.h"
#include "ex_host.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

static int ex_said_here;              /* until the first fork */
static int *ex_said = &ex_said_here;  /* then on a page the children share */
static unsigned long long ex_lost[EX_TX_OFF + 1];

static const char *const ex_lost_why[EX_TX_OFF + 1] = {
    [EX_TX_BUSY] = "the collector's socket full",
    [EX_TX_NOCOLLECTOR] = "no collector reached",
    [EX_TX_UNTRUSTED] = "its socket not trusted",
    [EX_TX_FDLIMIT] = "the fd table nearly full",
    [EX_TX_OFF] = "SPANSHIM_SOCKET unusable",
};

void ex_loss_note(ex_tx_t res, unsigned n)
{
    int *said = __atomic_load_n(&ex_said, __ATOMIC_ACQUIRE);

    if (res == EX_TX_SENT || res > EX_TX_OFF || n == 0)
        return;
    __atomic_add_fetch(&ex_lost[res], n, __ATOMIC_RELAXED);
    /* An unusable SPANSHIM_SOCKET was said when it was read. */
    if (res != EX_TX_OFF && !__atomic_exchange_n(said, 1, __ATOMIC_RELAXED))
        ex_host.log(EX_LOG_ERROR, "%s; spans are dropped (said once, counted at exit)",
               ex_transport_why());
}

void ex_loss_report(void)
{
    char parts[256];
    unsigned long long total = 0;
    int len = 0, r;

    parts[0] = '\0';
    for (r = 0; r <= EX_TX_OFF; r++) {
        if (ex_lost[r] == 0)
            continue;
        total += ex_lost[r];
        if (len < (int)sizeof(parts))
            len += snprintf(parts + len, sizeof(parts) - (size_t)len, "%s%llu with %s",
                            len ? ", " : "", ex_lost[r], ex_lost_why[r]);
    }
    if (total)
        ex_host.log(EX_LOG_ERROR, "%llu span%s lost (%s)", total, total == 1 ? "" : "s", parts);
}

void ex_loss_before_fork(void)
{
    int saved = errno;
    void *page;

    if (__atomic_load_n(&ex_said, __ATOMIC_ACQUIRE) != &ex_said_here)
        return;
    page = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) {
        *(int *)page = __atomic_load_n(&ex_said_here, __ATOMIC_RELAXED);
        __atomic_store_n(&ex_said, (int *)page, __ATOMIC_RELEASE);
    }
    errno = saved;
}

void ex_loss_after_fork(void)
{
    int r;

    for (r = 0; r <= EX_TX_OFF; r++)
        ex_lost[r] = 0; /* the parent tells its own */
}
