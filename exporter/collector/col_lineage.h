/*
 * col_lineage.h - is a datagram's sender the traced program, or a process
 * it started, whatever uid that process runs as?
 *
 * `spanshim run` traces a program and all its descendants, and servers
 * started as root hand their work to processes that became another user
 * (nginx's and apache's workers as nobody or www-data). Its private
 * collector therefore lets every uid reach its socket and decides per
 * datagram from the sender's pid, which the kernel gives (SO_PASSCRED):
 * the sender is accepted if its parent links in /proc lead to the root
 * process (`spanshim run` itself), or if it runs as the collector's own
 * uid. Any other local user's datagram is refused.
 *
 * A pid is reused once its process is gone, so a verdict is kept for the
 * pid together with the process's start time, and a sender whose pid now
 * names a process of another uid than the kernel reported counts as gone.
 * A sender gone before its datagram is read (a short-lived curl run by a
 * daemon) cannot be walked: it is accepted only if its uid is one a
 * verified descendant had or a live process of the tree has, or the
 * collector's own. So no uid the traced program never became can write,
 * and a process of one it did become only if it exits before it is
 * looked at. (A gone sender of a uid no process of the tree has, as a
 * root daemon's one curl run as nobody, is refused and logged.)
 *
 * Called from the collector's receiving thread only; no locks. Every walk
 * is bounded (COL_LINEAGE_DEPTH parents), and so are both tables.
 */
#ifndef COL_LINEAGE_H
#define COL_LINEAGE_H

#include <sys/types.h>

#define COL_LINEAGE_DEPTH 128 /* parent links followed at most */
#define COL_LINEAGE_CACHE 512 /* verdicts kept, by pid */
#define COL_LINEAGE_UIDS 32   /* uids of verified descendants remembered */
#define COL_LINEAGE_SCAN 4096 /* processes of the tree searched for uids */
#define COL_LINEAGE_SCAN_MS 100 /* between two searches at least */

typedef enum {
    COL_LINEAGE_OWN_UID,    /* runs as the collector's uid */
    COL_LINEAGE_DESCENDANT, /* the root process or one of its descendants */
    COL_LINEAGE_KNOWN_UID,  /* gone, with a uid a descendant had */
    COL_LINEAGE_OUTSIDE,    /* not a descendant: refused */
    COL_LINEAGE_UNKNOWN,    /* gone, with a uid no descendant had: refused */
} col_lineage_t;

/* Accept root's descendants and own_uid; /proc is read under proc (the
 * unit test gives a directory of its own). */
void col_lineage_init(pid_t root, uid_t own_uid, const char *proc);

/* The verdict on a datagram the kernel says pid, running as uid, sent. */
col_lineage_t col_lineage_check(pid_t pid, uid_t uid);

static inline int col_lineage_accepted(col_lineage_t v)
{
    return v == COL_LINEAGE_OWN_UID || v == COL_LINEAGE_DESCENDANT || v == COL_LINEAGE_KNOWN_UID;
}

#endif
