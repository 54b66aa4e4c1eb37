/*
 * col_replay.h - a saved .jsonl file read into the collector as if its
 * batches had just come (--replay FILE; see col_replay.c).
 */
#ifndef COL_REPLAY_H
#define COL_REPLAY_H

#define COL_REPLAY_LINE_MAX (64 << 20) /* bytes of one line, at most */

/* Start reading --replay's file on a thread of its own (nothing without
 * --replay): 0 after an error line. */
int col_replay_start(void);
/* Whether the whole file has been read (or stopped at a stop); 1 without
 * --replay. */
int col_replay_finished(void);
void col_replay_join(void);

#endif
