/*
 * col_log.c - see col_log.h.
 */
#include "col_log.h"

#include <pthread.h>
#include <time.h>

#define COL_LOG_BURST 3 /* lines a second */

int col_log_allowed(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t last_s;
    static unsigned burst;
    uint64_t now = (uint64_t)time(NULL);
    int ok;

    pthread_mutex_lock(&lock);
    if (now != last_s) {
        last_s = now;
        burst = 0;
    }
    ok = burst++ < COL_LOG_BURST;
    pthread_mutex_unlock(&lock);
    return ok;
}

uint64_t col_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
