/*
 * logprobe.c - a C program that logs with syslog(3) (syslog, vsyslog; built
 * with -D_FORTIFY_SOURCE=2 they are __syslog_chk and __vsyslog_chk), under
 * a log mask, with %m, and writes lines to stderr and to a log file in
 * pieces. What it prints to stdout (errno after each call) is compared
 * traced and untraced, and is records too (C stdio on stdout).
 *
 * usage: logprobe LOGFILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static void logv(int pri, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsyslog(pri, fmt, ap);
    va_end(ap);
}

int main(int argc, char **argv)
{
    int fd;

    if (argc < 2)
        return 2;
    openlog("logprobe", LOG_PID, LOG_DAEMON);
    setlogmask(LOG_UPTO(LOG_INFO));
    errno = ENOENT;
    syslog(LOG_ERR, "cannot open %s: %m", "/nonexistent");
    printf("syslog errno %d\n", errno);
    errno = 0;
    syslog(LOG_WARNING, "disk %d%% full", 91);
    syslog(LOG_DEBUG, "masked: never a record");
    logv(LOG_NOTICE, "via vsyslog %s", "ok");
    printf("vsyslog errno %d\n", errno);
    closelog();
    (void)!write(2, "stderr: ", 8);
    (void)!write(2, "one line in two writes\nand a second\n", 36);
    fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
    printf("open %s\n", fd >= 0 ? "ok" : strerror(errno));
    printf("write %zd\n", write(fd, "[error] file line\n", 18));
    errno = 0;
    printf("write bad fd %zd errno %d\n", write(-1, "x\n", 2), errno);
    close(fd);
    printf("done\n");
    return 0;
}
