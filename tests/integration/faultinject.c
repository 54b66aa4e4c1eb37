/*
 * faultinject.c - a preload library that makes socket I/O misbehave the way
 * real networks and kernels do: short counts, EINTR, EAGAIN (on
 * non-blocking sockets), and, on request, a connection reset. Preloaded
 * after the shim, it is what the shim's real calls reach.
 *
 *   FAULT_SEED   seed of the per-process generator (default 1)
 *   FAULT_RATE   percent of calls that misbehave (default 30)
 *   FAULT_RESET  N: the Nth read from a TCP socket fails with ECONNRESET
 *   FAULT_NO_THREADS  1: pthread_create fails with EAGAIN (preload this
 *                library before the shim for that one)
 *   FAULT_RECVMMSG  N: the first N recvmmsg calls fail with ENOBUFS (for
 *                the collector: a socket readable yet not to be read)
 *   FAULT_EXIT_AFTER_WRITE  N: the Nth write to a TCP socket that the
 *                kernel takes (sendfile's too) calls exit(0) before it returns: a signal
 *                handler's exit() that interrupts the program inside the
 *                shim's hook, the bytes gone out and their count unseen
 *
 * Test code only: it is built for the tests and never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned long long fi_state;
static int fi_rate = -1, fi_reset, fi_reads;

static int fi_init(void)
{
    if (fi_rate < 0) {
        const char *s = getenv("FAULT_SEED"), *r = getenv("FAULT_RATE"), *x = getenv("FAULT_RESET");

        fi_state = s ? strtoull(s, NULL, 10) * 2654435761ULL + 1 : 1;
        fi_rate = r ? atoi(r) : 30;
        fi_reset = x ? atoi(x) : 0;
    }
    return fi_rate;
}

static unsigned fi_next(void)
{
    fi_state = fi_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(fi_state >> 33);
}

static int fi_tcp(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int type = 0;
    socklen_t tl = sizeof(type);

    return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
           (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
           getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
}

/* 0: call for real with *n bytes; -1: fail with errno set. */
static int fi_decide(int fd, size_t *n, int reading)
{
    unsigned r;
    int nonblock;

    fi_init();
    if (!fi_tcp(fd))
        return 0;
    if (reading && fi_reset && ++fi_reads == fi_reset) {
        shutdown(fd, SHUT_RDWR);
        errno = ECONNRESET;
        return -1;
    }
    r = fi_next();
    if ((int)(r % 100) >= fi_rate)
        return 0;
    nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    switch (r / 100 % 3) {
    case 0:
        if (*n > 1)
            *n = 1 + (r / 300) % (*n - 1); /* a short count */
        return 0;
    case 1:
        errno = EINTR;
        return -1;
    default:
        if (!nonblock) {
            errno = EINTR;
            return -1;
        }
        errno = EAGAIN;
        return -1;
    }
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* A write's result, after FAULT_EXIT_AFTER_WRITE had its say. */
static ssize_t fi_wrote(int fd, ssize_t r)
{
    static int writes;
    const char *x = getenv("FAULT_EXIT_AFTER_WRITE");

    if (r > 0 && x && fi_tcp(fd) && ++writes == atoi(x))
        exit(0);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (fi_decide(fd, &n, 0) < 0)
        return -1;
    return fi_wrote(fd, REAL(write)(fd, buf, n));
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    if (fi_decide(fd, &n, 0) < 0)
        return -1;
    return fi_wrote(fd, REAL(send)(fd, buf, n, flags));
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
               socklen_t alen)
{
    if (fi_decide(fd, &n, 0) < 0)
        return -1;
    return fi_wrote(fd, REAL(sendto)(fd, buf, n, flags, addr, alen));
}

ssize_t read(int fd, void *buf, size_t n)
{
    if (fi_decide(fd, &n, 1) < 0)
        return -1;
    return REAL(read)(fd, buf, n);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (fi_decide(fd, &n, 1) < 0)
        return -1;
    return REAL(recv)(fd, buf, n, flags);
}

/* Vectors: a short count keeps a prefix of the iovecs. */
static int fi_cut(const struct iovec *iov, int cnt, struct iovec *out, size_t n)
{
    int i, k = 0;

    for (i = 0; i < cnt && n; i++, k++) {
        out[k] = iov[i];
        if (out[k].iov_len > n)
            out[k].iov_len = n;
        n -= out[k].iov_len;
    }
    return k;
}

static size_t fi_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    int i;

    for (i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    struct iovec cut[1024];
    size_t n = fi_total(iov, cnt), was = n;

    if (cnt > 1024 || fi_decide(fd, &n, 0) < 0)
        return cnt > 1024 ? REAL(writev)(fd, iov, cnt) : -1;
    return fi_wrote(fd, n == was ? REAL(writev)(fd, iov, cnt)
                                : REAL(writev)(fd, cut, fi_cut(iov, cnt, cut, n)));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct iovec cut[1024];
    struct msghdr m = *msg;
    size_t n = fi_total(msg->msg_iov, (int)msg->msg_iovlen), was = n;

    if (msg->msg_iovlen > 1024)
        return REAL(sendmsg)(fd, msg, flags);
    if (fi_decide(fd, &n, 0) < 0)
        return -1;
    if (n != was) {
        m.msg_iov = cut;
        m.msg_iovlen = (size_t)fi_cut(msg->msg_iov, (int)msg->msg_iovlen, cut, n);
    }
    return fi_wrote(fd, REAL(sendmsg)(fd, &m, flags));
}

ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    return fi_wrote(out, REAL(sendfile)(out, in, off, n));
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
    return fi_wrote(out, REAL(sendfile64)(out, in, off, n));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    size_t n = fi_total(msg->msg_iov, (int)msg->msg_iovlen);

    if (fi_decide(fd, &n, 1) < 0)
        return -1;
    return REAL(recvmsg)(fd, msg, flags);
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
    static int failed;
    const char *k = getenv("FAULT_RECVMMSG");

    if (k && __atomic_fetch_add(&failed, 1, __ATOMIC_RELAXED) < atoi(k)) {
        errno = ENOBUFS;
        return -1;
    }
    return REAL(recvmmsg)(fd, v, n, flags, t);
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    const char *no = getenv("FAULT_NO_THREADS");

    if (no && *no == '1')
        return EAGAIN;
    return REAL(pthread_create)(t, a, fn, arg);
}
