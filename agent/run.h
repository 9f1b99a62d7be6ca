/*
 * run.h: what a running engine holds, and the services the files of the
 * cycle share (run.c): per-store health and backoff, meta values in their
 * own transaction, and observing levels into links.
 *
 * The layers, top to bottom (each includes only headers below it):
 *
 *   engine.c   the cycle: polling, reconciliation, catalog steps (engine.h)
 *   metrics.c  the metrics file after each cycle (metrics.h; its pure half,
 *              the counts and histogram held below, sits under run.h)
 *   alert_send.c  alerts and pings after each cycle (alert_send.h; its
 *              pure half, alert.c, sits under run.h)
 *   bulk.c     bulk operations of big stores (bulk.h)
 *   catalog.c  store catalogs into links (catalog.h)
 *   writes.c   the write protocol (writes.h)
 *   run.c      this file's services (run.h)
 *   client.c, state.c, meta.c, sync.c, timing.c ...
 */
#ifndef RUN_H
#define RUN_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "conf.h"
#include "linkloc.h"
#include "meta.h"
#include "metrics.h"
#include "state.h"
#include "sync.h"

#define BACKOFF_BASE_MS		1000
#define BACKOFF_CAP_MS		300000	/* 5 min */
#define LEVEL_PAGE		250	/* levels applied per transaction */

/*
 * What one step of the cycle did for a store.  The step functions return
 * it: engine.c poll_store(), reconcile_step(), pass_page(),
 * catalog_step(); catalog.c catalog_refresh(); bulk.c bulk_catalog(),
 * bulk_levels(); writes.c writes_resolve().
 */
enum step {
	STEP_DONE,		/* done, or nothing was due */
	STEP_STORE_FAILED,	/* the store failed and is backed off
				   (run_store_failed()); the cycle goes on */
	STEP_IN_PAGES,		/* bulk_catalog(): not for bulk operations
				   (small, or refusing them): read in pages */
	STEP_PENDING,		/* writes_resolve(): a batch is still
				   unresolved: nothing else touches the store */
	STEP_STATE_FAILED	/* LMDB failed: the cycle stops, invsync exits */
};

/*
 * What one store did since the engine started (a reload starts over), for
 * the metrics file (metrics.h): its level polls and write batches by
 * result, and how long its applied changes took from being seen to being
 * written.  The seen time of a change owed to the store is kept from its
 * observation (run.c) to the plan that batches it (writes.c).
 */
struct store_tally {
	uint64_t		polls[METRICS_RESULTS];
	uint64_t		writes[METRICS_RESULTS];
	int64_t			owed_since;	/* wall ms: a change owed to the
						   store first seen, not yet in
						   a batch; 0: none */
	int64_t			batch_seen;	/* ... the batch planned last's */
	char			batch_key[33];	/* ... and its key */
	int			planned;	/* that plan took every change:
						   owed_since is cleared once it
						   commits */
	struct metrics_hist	latency;
};

/* Per-store runtime (not durable). */
struct store_rt {
	struct client	*cl;
	int64_t		 retry_at;	/* monotonic ms: backed off until */
	unsigned	 failures;	/* consecutive, for the backoff */
	int64_t		 failing_since;	/* wall ms of the first of them; 0 */
	double		 budget;	/* points a paced reconciliation may spend */
	int64_t		 budget_at;	/* monotonic ms of the last accrual */
	int		 no_bulk;	/* the store refused bulk operations */
	int64_t		 bulk_retry_at[2];	/* monotonic ms, per kind */
	int64_t		 clock_off;	/* META_CLOCK, as kept (run_clock()) */
	int		 clock_loaded;	/* ... read from LMDB */
	int		 catalog_read;	/* a catalog refresh succeeded in this
					   run, and after the last catalog
					   file applied: edits made while we
					   were down, or while a file's
					   snapshot was taken, are known
					   (docs/design.md §5) */
	int		 again;		/* the last send left owed changes
					   that another round of the cycle
					   may send (writes_send()) */
	int		 failed;	/* run_store_failed() since the engine
					   started (`once` exits 1) ... */
	char		 failure[META_STR_MAX];	/* ... and its last reason */
	struct store_tally tally;
	struct client_level *rejoin;	/* levels to read again, live, in
					   this cycle: the members still in
					   the sum of a group side one of
					   whose members left, and levels
					   found gone that a file shows
					   active (run.c rejoin_add()) */
	size_t		 nrejoin;	/* at most LEVEL_PAGE */
};

/* How far the stores' locations are linked (struct run.ready). */
enum {
	READY_NOT,		/* not yet: nothing syncs */
	READY_LINKED,		/* read from every store and linked */
	READY_KEPT		/* some store unread: the groups kept in the state
				   by the last start that linked (groupcache.h) */
};

/* A set of link key hashes (run.c). */
struct key_set {
	uint64_t	*h;		/* open addressing, 0 = empty */
	size_t		 n, cap;
};

struct run {
	const struct conf	*c;
	struct state		*st;
	struct sync_policy	 pol;
	volatile int		*stop;
	int			 dry_run;
	int			 state_failed;	/* LMDB failed where no caller
						   could be told: the cycle
						   stops at its next check */
	size_t			 nstores;
	struct store_rt		 s[CONF_MAX_STORES];
	struct group		 g[CONF_MAX_LOCLINKS];
	size_t			 ngroups;
	int			 ready;		/* locations linked: READY_* */
	int			 relink;	/* they changed since the state's
						   copy was used: start again */
	/* this cycle */
	size_t			 changed;	/* changes seen */
	size_t			 large;		/* links changed largely (guard) */
	struct key_set		 seen;		/* ... as key hashes */
	size_t			 written;	/* changes applied */
};

/*
 * Per-store health.  run_store_ok: 1 when store i is not backed off, else
 * 0.  run_store_failed: backs store i off after a failed client call
 * (doing what: what; nothing for CLIENT_STOPPED) and records the error
 * for status.  run_store_succeeded: clears the backoff and records the
 * success.  Neither returns a value: a failure to record sets
 * e->state_failed.
 */
int	run_store_ok(struct run *e, size_t i);
void	run_store_failed(struct run *e, size_t i, const char *what,
	    enum client_result r);
void	run_store_succeeded(struct run *e, size_t i);

/*
 * Tallies (struct store_tally).  run_tally_poll: counts a level poll of
 * store i that ended with r (CLIENT_STOPPED is not counted); throttled is
 * the store's THROTTLED count (client_stats()) before the poll, so that a
 * poll that failed after THROTTLED answers counts as throttled.
 * run_tally_plan: a batch p planned for store i, in the plan's transaction
 * (it may run again: it only records); run_tally_planned: after the plan
 * committed.  run_tally_applied: batch p was applied, at now (wall ms).
 */
void	run_tally_poll(struct run *e, size_t i, enum client_result r,
	    int64_t throttled);
void	run_tally_plan(struct run *e, size_t i, const struct pending *p);
void	run_tally_planned(struct run *e);
void	run_tally_applied(struct run *e, const struct pending *p, int64_t now);

/*
 * Shopify's clock (docs/design.md §5): takes the clock offset of store i's
 * last reply (client_stats()) into e->s[i].clock_off and META_CLOCK when
 * it moved (timing_clock_update()), moving the stamps it converts with it.
 * run_shop_time: a wall ms stamp of ours (META_POLL, META_SWEEP,
 * META_CATALOG) as a time on store i's clock, for updated_at filters.
 * run_clock returns 0 or -1 (LMDB failed).
 */
int	run_clock(struct run *e, size_t i);
int64_t	run_shop_time(const struct run *e, size_t i, int64_t ms);

/*
 * Meta values (meta.h) in a transaction of their own, for store i (ignored
 * for values of the whole state).  All return 0 or -1 (LMDB failed); an
 * absent value reads as 0 or "".  run_paused: *paused 1 when writing is
 * paused, with the reason in why.
 */
int	run_meta_get(struct run *e, enum meta_id id, size_t i, int64_t *v);
int	run_meta_set(struct run *e, enum meta_id id, size_t i, int64_t v);
int	run_meta_get_str(struct run *e, enum meta_id id, size_t i, char *buf,
	    size_t bufsz);
int	run_meta_set_str(struct run *e, enum meta_id id, size_t i,
	    const char *v);
int	run_paused(struct run *e, int *paused, char *why, size_t whysz);
/* Ends store i's paced reconciliation, if one is under way.  0 or -1. */
int	run_pass_forget(struct run *e, size_t i);

/*
 * Observing levels: moves each level's change since its baseline into the
 * other stores' owed amounts (sync_observe()), one transaction for the n
 * levels, and stamps each side read with the store's snapshot epoch
 * (META_EPOCH, link_side.touched); run_observe_first does it only for
 * links of store i not sighted yet; run_observe_snapshot for the levels of
 * a snapshot begun at epoch (a reconciliation's bulk file): a side touched
 * in that epoch, by a live read or a write since the snapshot began, keeps
 * what it has (the file is older news), and the changes the others showed
 * are added to *found.  run_epoch: store i's snapshot epoch, read in t,
 * which a settled write stamps its sides with too (writes.c).
 * run_levels_sighted: store i's links have all had a first sighting, or a
 * full pass, as of at (wall ms).  All return 0 or -1 (LMDB failed).
 */
int	run_observe_levels(struct run *e, size_t i,
	    const struct client_level *lv, size_t n);
int	run_observe_first(struct run *e, size_t i,
	    const struct client_level *lv, size_t n);
int	run_observe_snapshot(struct run *e, size_t i,
	    const struct client_level *lv, size_t n, uint16_t epoch,
	    size_t *found);
int	run_epoch(struct state_txn *t, size_t i, uint16_t *epoch);
int	run_levels_sighted(struct run *e, size_t i, int64_t at);
/*
 * What the audit log adds about store i's side of l at location loc, into
 * buf: the group member ("at Overflow"), and a buffered store's target
 * ("pool 6, 2 held back: shows 4").  "" for a plain side.
 */
void	run_side_note(const struct run *e, size_t i, const struct link *l,
	    uint64_t loc, char *buf, size_t bufsz);
/* Forgets the links seen changing largely (a new cycle begins). */
void	run_seen_clear(struct run *e);

#endif
