/*
 * engine.h: the sync cycle (docs/design.md §3-6): poll every store, plan in one
 * LMDB transaction, write each store's batch, settle.
 *
 * engine.c runs the cycle and the polling, catalog.c turns store catalogs
 * into links, writes.c journals, sends and settles write batches.  The
 * struct is shared by those three files only.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "conf.h"
#include "linkloc.h"
#include "state.h"
#include "sync.h"

#define BACKOFF_BASE_MS		1000
#define BACKOFF_CAP_MS		300000	/* 5 min */
#define RECONCILE_SHARE		10	/* % of a store's restore rate a paced
					   reconciliation may use (docs/design.md §9) */
#define RECONCILE_PAGE_POINTS	800	/* budget that buys one page of levels */
#define LEVEL_PAGE		250	/* levels applied per transaction */

struct engine_opts {
	int		 once;		/* one cycle, then return */
	int		 dry_run;	/* plan and log; write nothing, keep state */
	volatile int	*reload;	/* SIGHUP: return ENGINE_RELOAD */
};

#define ENGINE_RELOAD	(-2)

struct store_rt {
	struct client	*cl;
	int64_t		 retry_at;	/* monotonic ms: backed off until */
	unsigned	 failures;	/* consecutive, for the backoff */
	double		 budget;	/* points a paced reconciliation may spend */
	int64_t		 budget_at;	/* monotonic ms of the last accrual */
	int		 no_bulk;	/* the store refused bulk operations */
	int64_t		 bulk_retry_at[2];	/* monotonic ms, per kind */
};

/* A set of link key hashes (engine.c). */
struct key_set {
	uint64_t	*h;		/* open addressing, 0 = empty */
	size_t		 n, cap;
};

struct engine {
	const struct conf	*c;
	struct state		*st;
	struct sync_policy	 pol;
	volatile int		*stop;
	int			 dry_run;
	size_t			 nstores;
	struct store_rt		 s[CONF_MAX_STORES];
	struct group		 g[CONF_MAX_LOCLINKS];
	size_t			 ngroups;
	int			 ready;		/* locations resolved */
	/* this cycle */
	size_t			 changed;	/* changes seen */
	size_t			 large;		/* links changed largely (guard) */
	struct key_set		 seen;		/* ... as key hashes */
	size_t			 written;	/* changes applied */
};

/*
 * Runs cycles until *stop (or one with opts->once).  Returns the process
 * exit status: 0, or 1 on a runtime failure (state I/O); or ENGINE_RELOAD
 * after the cycle in flight when *opts->reload was raised.
 */
int	engine_run(const struct conf *c, const struct engine_opts *opts,
	    volatile int *stop);

/* engine.c, for catalog.c and writes.c */
int	engine_store_ok(struct engine *e, size_t i);
void	engine_store_failed(struct engine *e, size_t i, const char *what,
	    enum client_result r);
void	engine_store_succeeded(struct engine *e, size_t i);
int	engine_paused(struct engine *e, char *why, size_t whysz);
int	engine_observe_levels(struct engine *e, size_t i,
	    const struct client_level *lv, size_t n);
/* The same for links of store i not sighted yet; the rest are skipped. */
int	engine_observe_first(struct engine *e, size_t i,
	    const struct client_level *lv, size_t n);
/* Store i's links have all had a first sighting, as of at (wall ms). */
int	engine_levels_sighted(struct engine *e, size_t i, int64_t at);
/*
 * Reads meta name as an integer in its own transaction; 0 when absent or
 * unreadable.
 */
int64_t	engine_meta_i64(struct engine *e, const char *name);
/* Stores meta name = v in its own transaction.  0 or -1. */
int	engine_meta_set_i64(struct engine *e, const char *name, int64_t v);

/* catalog.c: loads or refreshes store i's catalog into links. 0 or -1. */
int	catalog_refresh(struct engine *e, size_t i, int full);
/*
 * A full load fed from a bulk file: begin (gen from catalog_new_gen()),
 * a variant at a time (0, or -1 when the state failed), then end, which
 * reads what changed since the last refresh on top and unlinks what the
 * load did not see, recording start as the load's time.  End frees x;
 * it returns 0 when the load is done, 1 when the store failed (it is
 * not), -1 when the state failed.
 */
struct catalog_ctx;
int	catalog_new_gen(struct engine *e, uint32_t *gen);
struct catalog_ctx *catalog_full_begin(struct engine *e, size_t i,
	    uint32_t gen);
int	catalog_full_variant(struct catalog_ctx *x,
	    const struct client_variant *v);
int	catalog_full_end(struct catalog_ctx *x, int64_t start);
/* Drops a load that could not be read whole: nothing is unlinked. */
void	catalog_full_abort(struct catalog_ctx *x);


/* writes.c */
/* Resolves store i's pending batch first (docs/design.md §4). 1 when none is left. */
int	writes_resolve(struct engine *e, size_t i);
/* Journals every store's owed changes as pending batches in one txn. */
int	writes_plan(struct engine *e);
/* Sends store i's freshly planned batch and settles it. */
void	writes_send(struct engine *e, size_t i);
/* A dry run: logs the batches writes_plan() journaled.  Returns 0. */
int	writes_report_plan(struct engine *e);
/* On start: drops batches that never left the machine. */
int	writes_drop_unsent(struct engine *e);

#endif
