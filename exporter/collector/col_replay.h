/*
 * col_replay.h - saved .jsonl files (spans, log records) read into the
 * collector as if their batches had just come (--replay FILE, repeatable;
 * see col_replay.c).
 */
#ifndef COL_REPLAY_H
#define COL_REPLAY_H

#define COL_REPLAY_LINE_MAX (64 << 20) /* bytes of one line, at most */
#define COL_REPLAY_FILES 8             /* --replay files, at most */

/* Start reading --replay's files, in order, on a thread of its own
 * (nothing without --replay): 0 after an error line (a file that cannot be
 * opened: none is read). */
int col_replay_start(void);
/* Whether every file has been read (or stopped at a stop); 1 without
 * --replay. */
int col_replay_finished(void);
void col_replay_join(void);

#endif
