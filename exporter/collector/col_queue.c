/*
 * col_queue.c - the bounded queue between receivers and the main thread
 * (see col_queue.h). One lock, and an eventfd that is readable while items
 * wait (set by the put that finds the queue empty, cleared by the take):
 * the main thread waits on it beside the datagram socket. Items are taken
 * all at once, so the main thread holds the lock once per wake-up, not per
 * item.
 *
 * Items of up to COL_SLAB bytes (every shim datagram) are slabs of that
 * size, and a slab the main thread is done with goes back on a short free
 * list for the next put instead of to malloc: allocated in the receiving
 * thread's arena and freed from the main thread, each datagram's copy made
 * that arena grow and shrink (an mprotect call for most datagrams, and
 * fresh pages to fault in). At most COL_SLABS_KEPT wait there.
 */
#include "col_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_mutex_t col_q_lock = PTHREAD_MUTEX_INITIALIZER;
static int col_q_fd = -1; /* readable while items wait, or once closed */
static col_item_t *col_q_head, **col_q_tail = &col_q_head;
static size_t col_q_bytes, col_q_max;
static int col_q_closed;

#define COL_SLAB (64 * 1024)
#define COL_SLABS_KEPT 32
static pthread_mutex_t col_free_lock = PTHREAD_MUTEX_INITIALIZER;
static col_item_t *col_free;
static unsigned col_nfree;

static col_item_t *col_item_alloc(size_t bytes)
{
    col_item_t *it = NULL;

    if (bytes > COL_SLAB)
        return malloc(bytes);
    pthread_mutex_lock(&col_free_lock);
    if (col_free) {
        it = col_free;
        col_free = it->next;
        col_nfree--;
    }
    pthread_mutex_unlock(&col_free_lock);
    return it ? it : malloc(COL_SLAB);
}

void col_queue_done(col_item_t *it)
{
    if (sizeof(col_item_t) + it->len <= COL_SLAB) {
        pthread_mutex_lock(&col_free_lock);
        if (col_nfree < COL_SLABS_KEPT) {
            it->next = col_free;
            col_free = it;
            col_nfree++;
            it = NULL;
        }
        pthread_mutex_unlock(&col_free_lock);
    }
    free(it);
}

/* Make the queue's eventfd readable (the lock held). */
static void col_q_ring(void)
{
    uint64_t one = 1;

    (void)!write(col_q_fd, &one, sizeof(one));
}

int col_queue_init(size_t max_bytes)
{
    col_q_max = max_bytes;
    col_q_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return col_q_fd >= 0;
}

int col_queue_fd(void)
{
    return col_q_fd;
}

int col_queue_put(const uint8_t *data, size_t len, col_from_t from, pid_t pid, uid_t uid)
{
    size_t bytes = sizeof(col_item_t) + len;
    col_item_t *it;

    if (__atomic_load_n(&col_q_bytes, __ATOMIC_RELAXED) + bytes > col_q_max)
        return 0; /* full: no copy made */
    it = col_item_alloc(bytes);
    if (it == NULL)
        return 0;
    it->next = NULL;
    it->len = len;
    it->from = from;
    it->pid = pid;
    it->uid = uid;
    memcpy(it->data, data, len);
    pthread_mutex_lock(&col_q_lock);
    if (col_q_bytes + bytes > col_q_max) {
        pthread_mutex_unlock(&col_q_lock);
        col_queue_done(it);
        return 0;
    }
    if (col_q_head == NULL)
        col_q_ring();
    *col_q_tail = it;
    col_q_tail = &it->next;
    __atomic_store_n(&col_q_bytes, col_q_bytes + bytes, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&col_q_lock);
    return 1;
}

size_t col_queue_bytes(void)
{
    return __atomic_load_n(&col_q_bytes, __ATOMIC_RELAXED);
}

col_item_t *col_queue_take(int *closed)
{
    col_item_t *all;
    uint64_t n;

    pthread_mutex_lock(&col_q_lock);
    all = col_q_head;
    col_q_head = NULL;
    col_q_tail = &col_q_head;
    __atomic_store_n(&col_q_bytes, 0, __ATOMIC_RELAXED);
    *closed = col_q_closed;
    if (!col_q_closed)
        (void)!read(col_q_fd, &n, sizeof(n)); /* empty now: not readable till the next put */
    pthread_mutex_unlock(&col_q_lock);
    return all;
}

void col_queue_close(void)
{
    pthread_mutex_lock(&col_q_lock);
    col_q_closed = 1;
    col_q_ring();
    pthread_mutex_unlock(&col_q_lock);
}
