/*
 * stage.h: files that appear all at once or not at all (stage.c).  Each is
 * first written whole to a temporary file in its directory (mode and owner
 * set, synced), then renamed into place by stage_commit(); the ones never
 * committed are removed by stage_drop_all(), also from a signal handler.
 */
#ifndef STAGE_H
#define STAGE_H

#include <sys/types.h>

#include <stddef.h>

#define STAGE_SLOTS	16	/* files staged at once */
#define STAGE_PATH_MAX	1100	/* a staged file's path */

/*
 * Writes len bytes of data to a new temporary file in directory dir (a
 * path ending in '/') as slot k, replacing what slot k held: mode mode,
 * owner uid:gid unless uid is (uid_t)-1, synced.  Returns 0, or -1 with
 * why (whysz) and nothing left behind.
 */
int	stage_write(size_t k, const char *dir, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, char *why, size_t whysz);

/* The temporary path of slot k, "" when it holds nothing. */
const char *stage_path(size_t k);

/*
 * Renames slot k's file to dest.  Returns 0 (the slot is then empty), or
 * -1 with why.
 */
int	stage_commit(size_t k, const char *dest, char *why, size_t whysz);

/* Removes every staged file not committed; async-signal-safe. */
void	stage_drop_all(void);

/* fsyncs directory dir (after the renames).  Returns 0, or -1 with why. */
int	stage_sync_dir(const char *dir, char *why, size_t whysz);

#endif
