/*
 * timing.h: the engine's timing decisions as pure functions (timing.c): what
 * a level poll reads, when a catalog step or a reconciliation is due, what
 * a paced reconciliation may spend, where it is.  No I/O, no clock: the
 * engine reads its meta values (meta.h) and the time, and passes them in,
 * so tests/unit/test_timing.c drives them with tables.
 */
#ifndef TIMING_H
#define TIMING_H

#include <stddef.h>
#include <stdint.h>

/*
 * The margin of an ordinary incremental poll: the query's timestamps have
 * whole seconds, and clocks differ a little.  A level whose search-index
 * entry lags more than this is read by the next sweep.
 */
#define POLL_MARGIN_MS		2000
/*
 * Shopify's clock against ours (docs/design.md §5): the offset kept moves
 * when a measure differs by this much (Date has whole seconds), and is
 * worth a warning in the log, status and check above CLOCK_WARN_MS.
 */
#define CLOCK_STEP_MS		1000
#define CLOCK_WARN_MS		5000
#define RECONCILE_SHARE		10	/* % of a store's restore rate a paced
					   reconciliation may use (docs/design.md §9) */
#define RECONCILE_PAGE_POINTS	800	/* budget that buys one page of levels */

/* What one level poll of a store reads (docs/design.md §5). */
struct poll_window {
	int	full;		/* every level: links await a first sighting */
	int	sweep;		/* reaches back a whole overlap */
	int64_t	since;		/* wall ms: updated at or after; 0 = all */
};

/*
 * 1 when a poll must read every level: never polled (last, META_POLL, is
 * 0) or links await a first sighting (lastrec, META_RECONCILE, is 0).
 */
int	timing_poll_full(int64_t last, int64_t lastrec);

/*
 * The window of a poll starting at now (wall ms), full or not
 * (timing_poll_full(), unless a bulk file gives the first sighting), after
 * the last good poll last and the last sweep lastsweep (META_SWEEP; 0:
 * never), with the configured overlap: every level when full; a sweep
 * since the last sweep (or poll) minus the whole overlap once per overlap
 * (so an index lagging up to the overlap misses nothing, and a level
 * changed once is read a few times, not once per poll: docs/design.md §9);
 * else since the last poll minus min(overlap, POLL_MARGIN_MS).
 */
struct poll_window timing_poll_window(int full, int64_t now, int64_t last,
	    int64_t lastsweep, int64_t overlap_ms);

/*
 * The clock offset kept (Shopify's clock minus ours, META_CLOCK) after a
 * new measure: 1 when kept is to become measured (they differ by
 * CLOCK_STEP_MS or more), with *shift the ms to add to the stamps taken
 * under the old offset (run.c clock_txn() lists them), else 0.
 * Each stamp plus the offset kept is a time on Shopify's clock, and never
 * a later one than the truth: a growing offset (our clock set back, or
 * Shopify's forward) moves the stamps back by the growth; a shrinking one
 * leaves them, so the next filters reach back further (reading a little
 * more, missing nothing).
 */
int	timing_clock_update(int64_t kept, int64_t measured, int64_t *shift);

/*
 * Whether a catalog step is due at now (wall ms), after the last refresh
 * last (META_CATALOG) and the last full load lastfull (META_CATALOGFULL):
 * 1 due, 0 not; *full 1 when it is a full load (every reconcile_ms, or
 * never loaded), else a refresh every catalog_ms.
 */
int	timing_catalog_due(int64_t now, int64_t last, int64_t lastfull,
	    int64_t reconcile_ms, int64_t catalog_ms, int *full);

/*
 * Whether a paced reconciliation pass starts at now after the last full
 * level pass lastrec (META_RECONCILE; 0: a first sighting is under way,
 * never): 1 or 0.
 */
int	timing_reconcile_due(int64_t now, int64_t lastrec, int64_t reconcile_ms);

/*
 * A paced reconciliation's budget after accruing from at (monotonic ms; 0:
 * the first turn, nothing accrues) to now: RECONCILE_SHARE % of the
 * store's restore rate (points/s), capped at two pages' worth.
 */
double	timing_budget(double budget, int64_t at, int64_t now, double rate);

/*
 * A paced reconciliation's place, "GROUP:CURSOR" (META_RPASS): the group
 * index into *group and the cursor after the colon into *cursor (inside
 * pass); a place that names no group below ngroups starts over (group 0,
 * cursor "").  timing_pass_format writes a place into buf: 0, or -1 when
 * it does not fit.
 */
void	timing_pass_parse(const char *pass, size_t ngroups, size_t *group,
	    const char **cursor);
int	timing_pass_format(char *buf, size_t bufsz, size_t group,
	    const char *cursor);

#endif
