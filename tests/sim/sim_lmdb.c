/*
 * sim_lmdb.c: the agent's LMDB under the simulation, by --wrap of LMDB's
 * own functions (mk/sim.mk).  Three things change, none of them in what
 * LMDB stores or answers:
 *
 * - Every durable commit is a crash point.
 * - One environment, one file per worker, lives across the agent's closes
 *   and crashes and across schedules.  mdb_env_close() parks it and the
 *   next mdb_env_create() takes it back, already open and mapped.  A
 *   crash ends what the dead process held (its cursors and transactions,
 *   aborted as the kernel would drop them) and the restart finds the
 *   committed data, as a reopen would.  A new schedule starts on an empty
 *   file: every table dropped.  Opening and unmapping a fresh map each
 *   time cost this simulation half its run time in page faults and TLB
 *   flushes; what a real reopen adds (choosing the newer meta page,
 *   clearing stale readers) is LMDB's promise, not the agent's.
 * - No syncs (MDB_WRITEMAP | MDB_NOSYNC): a simulated crash kills the
 *   process, not the machine, so committed data is in the page cache
 *   either way.  That power cuts lose nothing committed is LMDB's promise.
 *
 * A second environment open at once (never the agent's case) is a real
 * one, closed for real.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

#define LIVE_MAX	16	/* transactions or cursors open at once */

/* The worker's environment; parked when the agent has closed it. */
static MDB_env	*kept;
static int	 kept_parked;

/* What the agent holds open, ended for it when it crashes. */
static MDB_txn		*live_txn[LIVE_MAX];
static unsigned long	 live_seq[LIVE_MAX];	/* begin order */
static unsigned long	 nbegun;
static MDB_cursor	*live_cur[LIVE_MAX];

int	__real_mdb_env_create(MDB_env **env);
int	__real_mdb_env_open(MDB_env *env, const char *path, unsigned flags,
	    mdb_mode_t mode);
int	__real_mdb_env_set_maxdbs(MDB_env *env, MDB_dbi dbs);
int	__real_mdb_env_set_mapsize(MDB_env *env, size_t size);
void	__real_mdb_env_close(MDB_env *env);
int	__real_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags,
	    MDB_txn **txn);
int	__real_mdb_txn_commit(MDB_txn *txn);
void	__real_mdb_txn_abort(MDB_txn *txn);
int	__real_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cur);
void	__real_mdb_cursor_close(MDB_cursor *cur);

int	__wrap_mdb_env_create(MDB_env **env);
int	__wrap_mdb_env_open(MDB_env *env, const char *path, unsigned flags,
	    mdb_mode_t mode);
int	__wrap_mdb_env_set_maxdbs(MDB_env *env, MDB_dbi dbs);
int	__wrap_mdb_env_set_mapsize(MDB_env *env, size_t size);
void	__wrap_mdb_env_close(MDB_env *env);
int	__wrap_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags,
	    MDB_txn **txn);
int	__wrap_mdb_txn_commit(MDB_txn *txn);
void	__wrap_mdb_txn_abort(MDB_txn *txn);
int	__wrap_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cur);
void	__wrap_mdb_cursor_close(MDB_cursor *cur);

/* Adds p to set; its slot, or -1 when full (the run then fails). */
static int
track(void **set, void *p)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++)
		if (set[i] == NULL) {
			set[i] = p;
			return i;
		}
	sim_fail("sim_lmdb: more than %d open at once", LIVE_MAX);
	return -1;
}

static void
untrack(void **set, const void *p)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++)
		if (set[i] == p)
			set[i] = NULL;
}

/* The reused environment, while the agent holds it. */
static int
in_use(const MDB_env *env)
{
	return env == kept && !kept_parked;
}

int
__wrap_mdb_env_create(MDB_env **env)
{
	if (kept != NULL && kept_parked) {
		kept_parked = 0;
		*env = kept;
		return 0;
	}
	return __real_mdb_env_create(env);
}

int
__wrap_mdb_env_set_maxdbs(MDB_env *env, MDB_dbi dbs)
{
	return env == kept ? 0 : __real_mdb_env_set_maxdbs(env, dbs);
}

/* The kept map is already the size its file needs: only growth is real. */
int
__wrap_mdb_env_set_mapsize(MDB_env *env, size_t size)
{
	MDB_envinfo info;

	if (env == kept) {
		mdb_env_info(env, &info);
		if (size <= info.me_mapsize)
			return 0;
	}
	return __real_mdb_env_set_mapsize(env, size);
}

int
__wrap_mdb_env_open(MDB_env *env, const char *path, unsigned flags,
    mdb_mode_t mode)
{
	int rc;

	if (env == kept)
		return 0;	/* the worker's one file, already open */
	rc = __real_mdb_env_open(env, path, (flags & ~MDB_RDONLY) |
	    MDB_WRITEMAP | MDB_NOSYNC, mode);
	if (rc == 0 && kept == NULL)
		kept = env;
	return rc;
}

void
__wrap_mdb_env_close(MDB_env *env)
{
	if (env == kept)
		kept_parked = 1;
	else
		__real_mdb_env_close(env);
}

int
__wrap_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags,
    MDB_txn **txn)
{
	int rc = __real_mdb_txn_begin(env, parent, flags, txn);
	int slot;

	if (rc != 0 || !in_use(env))
		return rc;
	if ((slot = track((void **)live_txn, *txn)) == -1) {
		__real_mdb_txn_abort(*txn);
		return ENOMEM;
	}
	live_seq[slot] = ++nbegun;
	return 0;
}

/* txn ends: so do the cursors LMDB frees with it (a write's). */
static void
ended(MDB_txn *txn)
{
	int i;

	untrack((void **)live_txn, txn);
	for (i = 0; i < LIVE_MAX; i++)
		if (live_cur[i] != NULL && mdb_cursor_txn(live_cur[i]) == txn)
			live_cur[i] = NULL;
}

/* Every durable commit is a crash point (once the agent is running). */
int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	int rc;

	ended(txn);		/* committed or not */
	rc = __real_mdb_txn_commit(txn);
	if (rc == 0 && sim_agent_open())
		sim_crash_point("after an LMDB commit");
	return rc;
}

void
__wrap_mdb_txn_abort(MDB_txn *txn)
{
	ended(txn);
	__real_mdb_txn_abort(txn);
}

int
__wrap_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cur)
{
	int rc = __real_mdb_cursor_open(txn, dbi, cur);

	if (rc == 0 && in_use(mdb_txn_env(txn)) &&
	    track((void **)live_cur, *cur) < 0) {
		__real_mdb_cursor_close(*cur);
		return ENOMEM;
	}
	return rc;
}

void
__wrap_mdb_cursor_close(MDB_cursor *cur)
{
	untrack((void **)live_cur, cur);
	__real_mdb_cursor_close(cur);
}

/*
 * The agent died: what its process held ends, cursors first (a write
 * transaction's end frees its own), then transactions newest first, so
 * that a child ends before its parent.
 */
void
sim_lmdb_crash(void)
{
	int i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_cur[i] != NULL) {
			__real_mdb_cursor_close(live_cur[i]);
			live_cur[i] = NULL;
		}
	for (;;) {
		int newest = -1;

		for (i = 0; i < LIVE_MAX; i++)
			if (live_txn[i] != NULL && (newest == -1 ||
			    live_seq[i] > live_seq[newest]))
				newest = i;
		if (newest == -1)
			break;
		__real_mdb_txn_abort(live_txn[newest]);
		live_txn[newest] = NULL;
	}
}

/*
 * A new schedule's state: the kept file emptied, every table dropped (the
 * agent creates them again), as if the file had just been made.
 */
int
sim_lmdb_fresh(void)
{
	char names[LIVE_MAX][64];
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi main, dbi;
	MDB_val k, v;
	int rc, i, n = 0;

	if (kept == NULL)
		return 0;
	if (!kept_parked)
		return -1;
	if (__real_mdb_txn_begin(kept, NULL, 0, &txn) != 0)
		return -1;
	if (mdb_dbi_open(txn, NULL, 0, &main) != 0 ||
	    __real_mdb_cursor_open(txn, main, &cur) != 0) {
		__real_mdb_txn_abort(txn);
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 &&
	    n < LIVE_MAX; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		snprintf(names[n++], sizeof(names[0]), "%.*s", (int)k.mv_size,
		    (const char *)k.mv_data);
	__real_mdb_cursor_close(cur);
	for (i = 0; i < n; i++)
		if (mdb_dbi_open(txn, names[i], 0, &dbi) != 0 ||
		    mdb_drop(txn, dbi, 1) != 0) {
			__real_mdb_txn_abort(txn);
			return -1;
		}
	return __real_mdb_txn_commit(txn) == 0 ? 0 : -1;
}

void
sim_lmdb_close(void)
{
	if (kept != NULL && kept_parked)
		__real_mdb_env_close(kept);
	kept = NULL;
	kept_parked = 0;
}
