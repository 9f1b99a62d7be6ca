/*
 * engine.c: owns the sync cycle and level polling (docs/design.md §3, §5, §6),
 * the top of the program under main.c: locations are resolved into groups
 * once, then every cycle each store's catalog step runs (catalog.c, bulk.c),
 * its pending batch is resolved (writes.c), it is polled (incrementally
 * with an overlap, fully every `reconcile`: the windows are timing.c's), the
 * observed changes move into owed amounts (run.c), and the owed changes are
 * written (writes.c).  Nothing below calls back into this file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alert_send.h"
#include "bulk.h"
#include "catalog.h"
#include "engine.h"
#include "groupcache.h"
#include "http.h"
#include "log.h"
#include "meta.h"
#include "metrics.h"
#include "notify.h"
#include "run.h"
#include "timing.h"
#include "util.h"
#include "writes.h"

#define BULK_FOLLOW_MS	1000	/* a first load's cycles (bulk.h) */
#define WRITE_ROUNDS	40	/* batches a store may be sent in a cycle:
				   10,000 changes (write_rounds()) */

/* ---- locations ---------------------------------------------------------- */

/*
 * Fetches every store's locations and links them into g (room for
 * CONF_MAX_LOCLINKS), count in *ng.  0; 1 when a store's locations could
 * not be read (it is failed, backed off); -1 when they cannot be linked
 * (said why).
 */
static int
resolve_locations(struct run *e, struct group *g, size_t *ng)
{
	struct client_location *loc[CONF_MAX_STORES] = { NULL };
	size_t n[CONF_MAX_STORES] = { 0 }, i;
	char err[1024];
	int r = 1;

	for (i = 0; i < e->nstores; i++) {
		enum client_result cr = client_locations(e->s[i].cl, &loc[i],
		    &n[i]);

		if (cr != CLIENT_OK) {
			run_store_failed(e, i, "reading locations", cr);
			goto out;
		}
	}
	if ((r = link_locations(e->c, loc, n, g, ng, err, sizeof(err))) == -1)
		log_err("%s", err);
out:
	for (i = 0; i < e->nstores; i++)
		free(loc[i]);
	return r;
}

static int
keep_groups_txn(struct state_txn *t, void *arg)
{
	struct run *e = arg;

	return groupcache_put(t, e->c, e->g, e->ngroups);
}

static int
kept_groups_txn(struct state_txn *t, void *arg)
{
	struct run *e = arg;

	return groupcache_get(t, e->c, e->g, &e->ngroups);
}

/* 1 when every store may be asked now (none backed off), else 0. */
static int
every_store_ok(struct run *e)
{
	size_t i;

	for (i = 0; i < e->nstores; i++)
		if (!run_store_ok(e, i))
			return 0;
	return 1;
}

/*
 * Links the stores' locations (docs/design.md §2), at start: from every
 * store's list, then kept in the state; or, when some store's cannot be
 * read, as the last start that linked kept them, so that the others sync
 * meanwhile (READY_KEPT).  Then, once every store answers, from their
 * lists again: the same groups are READY_LINKED, others start the engine
 * again (relink).  0 linked; -1 not linked (nothing syncs this cycle).
 */
static int
link_step(struct run *e)
{
	static struct group g[CONF_MAX_LOCLINKS];	/* 57 KB, off the stack */
	size_t ng = 0, k;
	int r;

	if (e->ready == READY_LINKED ||
	    (e->ready == READY_KEPT && !every_store_ok(e)))
		return 0;
	if ((r = resolve_locations(e, g, &ng)) == 1 && e->ready == READY_NOT) {
		if ((r = state_view(e->st, kept_groups_txn, e)) == -1) {
			e->state_failed = 1;
			return -1;
		}
		if (r == 1)
			return -1;
		log_warn("a store's locations could not be read: linking as "
		    "the last start did until every store answers");
		e->ready = READY_KEPT;
		return 0;
	}
	if (r == 1)
		return 0;	/* READY_KEPT goes on; a store is backed off */
	if (r == -1) {
		e->ready = READY_NOT;	/* as a start now would */
		return -1;
	}
	if (e->ready == READY_KEPT && (ng != e->ngroups ||
	    memcmp(g, e->g, ng * sizeof(*g)) != 0)) {
		log_notice("the locations changed since the last start: "
		    "starting again to link them");
		e->relink = 1;
		return -1;
	}
	memcpy(e->g, g, ng * sizeof(*g));
	e->ngroups = ng;
	for (k = 0; e->ready == READY_NOT && k < ng; k++)
		log_info("linked location group '%s'", g[k].name);
	e->ready = READY_LINKED;
	if (!e->dry_run && state_update(e->st, keep_groups_txn, e) != 0) {
		e->state_failed = 1;
		return -1;
	}
	return 0;
}

/* ---- polling levels ---------------------------------------------------- */

/* Collects levels of a poll into pages, applied one transaction a page. */
struct poll_ctx {
	struct run		*e;
	size_t			 i;
	struct client_level	 page[LEVEL_PAGE];
	size_t			 n;
	int			 failed;
};

static int
on_level(const struct client_level *lv, void *arg)
{
	struct poll_ctx *p = arg;

	p->page[p->n++] = *lv;
	if (p->n < LEVEL_PAGE)
		return 0;
	if (run_observe_levels(p->e, p->i, p->page, p->n) == -1)
		p->failed = 1;
	p->n = 0;
	return p->failed;
}

/*
 * The step functions below return an enum step (run.h): STEP_DONE,
 * STEP_STORE_FAILED (the store is backed off) or STEP_STATE_FAILED.
 */

/*
 * Reads the next page of store i's paced reconciliation, whose place is
 * pass (META_RPASS), observes it, and records the next place (or the end
 * of the pass, begun at pstart).
 */
static enum step
pass_page(struct run *e, size_t i, const char *pass, int64_t pstart)
{
	const struct client_stats *cs = client_stats(e->s[i].cl);
	char next[META_STR_MAX - 24], place[META_STR_MAX];
	int64_t spent = cs->cost_actual;
	struct poll_ctx *p = xcalloc(1, sizeof(*p));
	enum client_result cr;
	const char *cursor;
	enum step r = STEP_DONE;
	size_t g, nloc;

	nloc = linkloc_count(e->g, e->ngroups, i);
	timing_pass_parse(pass, nloc, &g, &cursor);
	p->e = e;
	p->i = i;
	cr = client_levels_page(e->s[i].cl,
	    linkloc_nth(e->g, e->ngroups, i, g), cursor, next,
	    sizeof(next), on_level, p);
	if (!p->failed && cr != CLIENT_OK) {
		run_store_failed(e, i, "reconciling levels", cr);
		r = STEP_STORE_FAILED;
		/* a cursor the store no longer takes: the pass starts over */
		if ((cr == CLIENT_REFUSED || cr == CLIENT_BAD_REPLY) &&
		    run_pass_forget(e, i) == -1)
			r = STEP_STATE_FAILED;
	} else if (p->failed || (p->n > 0 &&
	    run_observe_levels(e, i, p->page, p->n) == -1))
		r = STEP_STATE_FAILED;
	free(p);
	if (r != STEP_DONE)
		return r;
	e->s[i].budget -= (double)(cs->cost_actual - spent);
	if (next[0] == '\0' && ++g >= nloc) {
		log_info("store %s: reconciliation pass done",
		    e->c->stores[i].name);
		if (run_levels_sighted(e, i, pstart) == -1)
			return STEP_STATE_FAILED;
		return STEP_DONE;
	}
	(void)timing_pass_format(place, sizeof(place), g, next);	/* fits */
	return run_meta_set_str(e, META_RPASS, i, place) == -1 ?
	    STEP_STATE_FAILED : STEP_DONE;
}

/*
 * The periodic full reconciliation of store i (docs/design.md §5): a bulk
 * levels snapshot for a store read by bulk operations (bulk_reconcile()),
 * else paced: a page of levels at a time, bought with RECONCILE_SHARE % of
 * the store's restore rate, so a big catalog's pass neither stalls syncing
 * nor drains the bucket.  A pass starts `reconcile` after the last one
 * started and keeps its place in LMDB (META_RPASS, META_RSTART) across
 * cycles and restarts.
 */
static enum step
reconcile_step(struct run *e, size_t i)
{
	struct store_rt *s = &e->s[i];
	char pass[META_STR_MAX];
	int64_t pstart, last, now = util_now_ms(), mono = util_mono_ms();
	enum step r;
	int bulk;

	/* a big store's pass is a bulk snapshot (bulk.c) */
	if ((bulk = bulk_levels_wanted(e, i)) == -1)
		return STEP_STATE_FAILED;
	if (bulk && (r = bulk_reconcile(e, i)) != STEP_IN_PAGES)
		return r;
	s->budget = timing_budget(s->budget, s->budget_at, mono,
	    client_stats(s->cl)->restore);
	s->budget_at = mono;
	if (run_meta_get(e, META_RSTART, i, &pstart) == -1)
		return STEP_STATE_FAILED;
	if (pstart == 0) {
		if (run_meta_get(e, META_RECONCILE, i, &last) == -1)
			return STEP_STATE_FAILED;
		if (!timing_reconcile_due(now, last, e->c->reconcile_ms))
			return STEP_DONE;
		pstart = now;
		if (run_meta_set(e, META_RSTART, i, pstart) == -1 ||
		    run_meta_set_str(e, META_RPASS, i, "0:") == -1)
			return STEP_STATE_FAILED;
		log_info("store %s: reconciliation pass started",
		    e->c->stores[i].name);
	}
	if (s->budget < RECONCILE_PAGE_POINTS)
		return STEP_DONE;
	if (run_meta_get_str(e, META_RPASS, i, pass, sizeof(pass)) == -1)
		return STEP_STATE_FAILED;
	return pass_page(e, i, pass, pstart);
}

/*
 * Reads store i's levels in window w, every linked location, into its
 * links, a page a transaction.
 */
static enum step
poll_levels(struct run *e, size_t i, const struct poll_window *w)
{
	struct poll_ctx *p = xcalloc(1, sizeof(*p));
	int64_t throttled = client_stats(e->s[i].cl)->throttled;
	enum client_result cr = CLIENT_OK;
	enum step r = STEP_DONE;
	size_t k;

	p->e = e;
	p->i = i;
	for (k = 0; k < linkloc_count(e->g, e->ngroups, i) && r == STEP_DONE;
	    k++) {
		cr = client_levels(e->s[i].cl,
		    linkloc_nth(e->g, e->ngroups, i, k), w->since, on_level, p);
		if (p->failed)
			r = STEP_STATE_FAILED;
		else if (cr != CLIENT_OK) {
			run_store_failed(e, i, "polling levels", cr);
			r = STEP_STORE_FAILED;
		}
	}
	if (r != STEP_STATE_FAILED)
		run_tally_poll(e, i, cr, throttled);
	if (r == STEP_DONE && p->n > 0 &&
	    run_observe_levels(e, i, p->page, p->n) == -1)
		r = STEP_STATE_FAILED;
	free(p);
	return r;
}

/* Records a good poll of window w begun at start (META_POLL, ...). */
static enum step
poll_done(struct run *e, size_t i, const struct poll_window *w, int64_t start)
{
	run_store_succeeded(e, i);
	if (run_meta_set(e, META_POLL, i, start) == -1 ||
	    (w->sweep && run_meta_set(e, META_SWEEP, i, start) == -1) ||
	    (w->full && run_levels_sighted(e, i, start) == -1))
		return STEP_STATE_FAILED;
	if (w->full) {
		log_info("store %s: full level pass done",
		    e->c->stores[i].name);
		if (bulk_forget(e, SHOPIFY_BULK_LEVELS, i) == -1)
			return STEP_STATE_FAILED;
	}
	return STEP_DONE;
}

/*
 * Polls store i in the window timing_poll_window() gives (META_POLL,
 * META_SWEEP, META_RECONCILE): changes since the last poll, a sweep once
 * per overlap, every level when links await a first sighting, which a big
 * store takes from a bulk file instead while its polls go on.
 */
static enum step
poll_store(struct run *e, size_t i)
{
	int64_t start = util_now_ms(), last, lastrec, lastsweep;
	struct poll_window w;
	enum step r;
	int full, bulk = 0;

	if (run_clock(e, i) == -1 ||
	    run_meta_get(e, META_POLL, i, &last) == -1 ||
	    run_meta_get(e, META_RECONCILE, i, &lastrec) == -1)
		return STEP_STATE_FAILED;
	full = timing_poll_full(last, lastrec);
	if (full && (bulk = bulk_levels_wanted(e, i)) == -1)
		return STEP_STATE_FAILED;
	if (full && bulk) {
		/* a big store's sighting comes from a bulk file: poll as usual */
		if (bulk_levels(e, i) == STEP_STATE_FAILED ||
		    run_meta_get(e, META_POLL, i, &last) == -1)
			return STEP_STATE_FAILED;
		if (!run_store_ok(e, i) || last == 0)
			return STEP_DONE;
		full = 0;
	}
	if (run_meta_get(e, META_SWEEP, i, &lastsweep) == -1)
		return STEP_STATE_FAILED;
	w = timing_poll_window(full, start, last, lastsweep, e->c->overlap_ms);
	/* updated_at is on Shopify's clock, the stamps on ours */
	if (w.since != 0)
		w.since = run_shop_time(e, i, w.since);
	if ((r = poll_levels(e, i, &w)) != STEP_DONE)
		return r;
	return poll_done(e, i, &w, start);
}

/* ---- the cycle ---------------------------------------------------------- */

static int
pause_txn(struct state_txn *t, void *arg)
{
	const char *why = arg;
	struct audit_entry a;

	memset(&a, 0, sizeof(a));
	a.kind = AUDIT_PAUSED;
	snprintf(a.note, sizeof(a.note), "%s", why);
	if (meta_put_str(t, META_PAUSED, 0, why) == -1)
		return -1;
	return state_audit_append(t, &a);
}

static int
count_links(struct state_txn *t, void *arg)
{
	*(size_t *)arg = state_link_count(t);
	return 0;
}

/*
 * The absurd-change guard (docs/design.md §6): pause before anything
 * propagates.  0, or -1 when the state failed.
 */
static int
check_guard(struct run *e)
{
	char why[META_STR_MAX];
	size_t total = 0;

	if (state_view(e->st, count_links, &total) == -1)
		return -1;
	if (!sync_guard_trips(e->large, total, e->c->guard_percent))
		return 0;
	snprintf(why, sizeof(why), "guard: %zu of %zu links changed by half "
	    "their stock or more in one cycle (more than %d%%); check the "
	    "stores, then run 'invsync resume'", e->large, total,
	    e->c->guard_percent);
	log_err("pausing: %s", why);
	if (!e->dry_run && state_update(e->st, pause_txn, why) != 0)
		return -1;
	return 0;
}

/*
 * Whether store i lost variants since its last catalog check (META_VCOUNT):
 * a deletion, which no refresh by updated_at sees, so a full load is due.
 * Costs a point.  1 or 0 (also when the count cannot be had: the next
 * check or full load sees it), -1 when the state failed.
 */
static int
catalog_shrunk(struct run *e, size_t i)
{
	int64_t n = 0, was;

	if (client_variants_count(e->s[i].cl, &n) != CLIENT_OK || n <= 0)
		return 0;
	if (run_meta_get(e, META_VCOUNT, i, &was) == -1 ||
	    (n != was && run_meta_set(e, META_VCOUNT, i, n) == -1))
		return -1;
	if (was == 0 || n >= was)
		return 0;
	log_info("store %s: %" PRId64 " variants, %" PRId64 " before: "
	    "reading the whole catalog", e->c->stores[i].name, n, was);
	return 1;
}

/*
 * Store i's catalog work of this cycle: a full load every `reconcile` (by
 * a bulk operation when the store is big) or when variants were deleted,
 * else a refresh every `catalog_refresh` (META_CATALOG, META_CATALOGFULL),
 * and one at start before anything else (docs/design.md §5): what was
 * edited while invsync was stopped is known before its first write.
 */
static enum step
catalog_step(struct run *e, size_t i)
{
	int64_t now = util_now_ms(), last, lastfull, was;
	int due, full, running, shrunk;
	enum step r;

	if (run_clock(e, i) == -1 ||
	    run_meta_get(e, META_CATALOG, i, &last) == -1 ||
	    run_meta_get(e, META_CATALOGFULL, i, &lastfull) == -1)
		return STEP_STATE_FAILED;
	due = timing_catalog_due(now, last, lastfull, e->c->reconcile_ms,
	    e->c->catalog_ms, &full);
	if (!e->s[i].catalog_read && lastfull != 0)
		due = 1;	/* edits made while we were stopped */
	/* a full load counts too: the next refresh compares with it */
	if (due) {
		if ((shrunk = catalog_shrunk(e, i)) == -1)
			return STEP_STATE_FAILED;
		full = full || shrunk;
	}
	if (!(due && full) && (running = bulk_catalog_running(e, i)) <= 0) {
		if (running == -1)
			return STEP_STATE_FAILED;
		r = due ? catalog_refresh(e, i, 0) : STEP_DONE;
		if (r == STEP_DONE)
			e->s[i].catalog_read = 1;
		return r;
	}
	if (!e->s[i].catalog_read && lastfull != 0) {
		/* a bulk load in flight at start: read the edits first */
		if ((r = catalog_refresh(e, i, 0)) != STEP_DONE)
			return r;
		e->s[i].catalog_read = 1;
	}
	if ((r = bulk_catalog(e, i)) == STEP_IN_PAGES) {
		/* a small store, or one refusing bulk operations: pages */
		if ((r = catalog_refresh(e, i, 1)) != STEP_STATE_FAILED &&
		    run_store_ok(e, i) &&
		    bulk_forget(e, SHOPIFY_BULK_CATALOG, i) == -1)
			return STEP_STATE_FAILED;
		if (r == STEP_DONE)
			e->s[i].catalog_read = 1;
		return r;
	}
	if (r == STEP_STATE_FAILED)
		return r;
	/* the bulk load takes a while: refreshes go on meanwhile */
	was = lastfull;
	if (run_meta_get(e, META_CATALOG, i, &last) == -1 ||
	    run_meta_get(e, META_CATALOGFULL, i, &lastfull) == -1)
		return STEP_STATE_FAILED;
	if (lastfull != was)
		e->s[i].catalog_read = 1;	/* its file was applied */
	if (run_store_ok(e, i) && lastfull != 0 &&
	    util_now_ms() - last >= e->c->catalog_ms)
		return catalog_refresh(e, i, 0);
	return STEP_DONE;
}

/*
 * Reads again, live, the levels store i queued (run.c rejoin_add()): the
 * other members of a group side one of whose members left, and levels a
 * read found gone that a file shows active.  One that reads active has
 * its side sighted afresh now (docs/design.md §3a).  The queue waits for
 * the next cycle when the store cannot be read.
 */
static enum step
rejoin_step(struct run *e, size_t i)
{
	struct store_rt *s = &e->s[i];
	struct client_level *lv;
	size_t n = s->nrejoin;
	enum client_result r;
	int rc;

	if (n == 0)
		return STEP_DONE;
	lv = xcalloc(n, sizeof(*lv));
	memcpy(lv, s->rejoin, n * sizeof(*lv));
	if ((r = client_read_levels(s->cl, lv, n)) != CLIENT_OK) {
		free(lv);
		run_store_failed(e, i, "re-reading a location group", r);
		return STEP_STORE_FAILED;
	}
	s->nrejoin = 0;
	rc = run_observe_levels(e, i, lv, n);
	free(lv);
	return rc == -1 ? STEP_STATE_FAILED : STEP_DONE;
}

/*
 * Store i's polling of this cycle, once its pending batch is resolved and
 * its first catalog load done (META_CATALOGFULL): a poll, then a page of
 * reconciliation.
 */
static enum step
poll_step(struct run *e, size_t i)
{
	int64_t loaded;
	enum step r;

	if (run_meta_get(e, META_CATALOGFULL, i, &loaded) == -1)
		return STEP_STATE_FAILED;
	if (loaded == 0)
		return STEP_DONE;
	if ((r = poll_store(e, i)) == STEP_STATE_FAILED)
		return r;
	if (run_store_ok(e, i) &&
	    (r = reconcile_step(e, i)) == STEP_STATE_FAILED)
		return r;
	if (run_store_ok(e, i))
		return rejoin_step(e, i);
	return r;
}

/*
 * The cycle's writes, in rounds of plan and send: a next round only while
 * a store's batch left owed changes behind (writes_send() sets again: a
 * full batch applied, or a batch dropped unsent because a level moved, its
 * levels now read afresh), at most WRITE_ROUNDS, and none started once the
 * writes have taken an interval, so that a backlog goes out in slices
 * between polls.  The guard looks again at what each round read.  0, or
 * -1 on a state failure.
 */
static int
write_rounds(struct run *e, const enum step *resolved)
{
	char why[META_STR_MAX];
	int64_t start = util_mono_ms();
	size_t i, round, large = (size_t)-1;
	int paused, more = 1;

	for (round = 0; round < WRITE_ROUNDS && more && !*e->stop; round++) {
		if (round > 0 && util_mono_ms() - start >= e->c->interval_ms)
			break;
		if (e->state_failed || (e->large != large &&
		    check_guard(e) == -1) ||
		    run_paused(e, &paused, why, sizeof(why)) == -1)
			return -1;
		large = e->large;
		if (paused) {
			log_info("paused (%s): not writing", why);
			return 0;
		}
		if (writes_plan(e) == -1)
			return -1;
		if (e->dry_run)
			return writes_report_plan(e);
		for (more = 0, i = 0; i < e->nstores && !*e->stop; i++) {
			e->s[i].again = 0;
			if (resolved[i] == STEP_DONE && run_store_ok(e, i) &&
			    writes_send(e, i) == -1)
				return -1;
			more |= e->s[i].again;
		}
	}
	return e->state_failed ? -1 : 0;
}

/* One cycle over every store.  Returns 0, or -1 on a state failure. */
static int
cycle(struct run *e)
{
	enum step resolved[CONF_MAX_STORES] = { STEP_PENDING };
	size_t i;

	e->changed = e->large = e->written = 0;
	run_seen_clear(e);
	if (link_step(e) == -1)
		return e->state_failed ? -1 : 0;
	for (i = 0; i < e->nstores; i++)
		if (run_store_ok(e, i) && catalog_step(e, i) == STEP_STATE_FAILED)
			return -1;
	/* a pending batch is resolved before anything else (docs/design.md §4) */
	for (i = 0; i < e->nstores; i++)
		if ((resolved[i] = run_store_ok(e, i) ? writes_resolve(e, i) :
		    STEP_PENDING) == STEP_STATE_FAILED)
			return -1;
	/* a store whose catalog is not known since start is left alone */
	for (i = 0; i < e->nstores; i++)
		if (!e->s[i].catalog_read && resolved[i] == STEP_DONE)
			resolved[i] = STEP_PENDING;
	for (i = 0; i < e->nstores; i++)
		if (resolved[i] == STEP_DONE && run_store_ok(e, i) &&
		    poll_step(e, i) == STEP_STATE_FAILED)
			return -1;
	return write_rounds(e, resolved);
}

/* Records the store list; refuses a state made for other stores. */
static int
stores_txn(struct state_txn *t, void *arg)
{
	struct run *e = arg;
	char want[META_STR_MAX], have[META_STR_MAX];
	int r;

	conf_store_names(e->c, want, sizeof(want));
	if ((r = meta_get_str(t, META_STORES, 0, have, sizeof(have))) == -1)
		return -1;
	if (r == 0 && strcmp(have, want) != 0) {
		log_err("state in %s was made for stores '%s', the config "
		    "names '%s': restore that order, or use a new state_dir",
		    e->c->state_dir, have, want);
		return 2;
	}
	return meta_put_str(t, META_STORES, 0, want);
}

/* Store i's sides whose owed amount a changed buffer moved. */
struct rebuffer {
	struct run	*e;
	size_t		 i;
	char		(*key)[LINK_KEY_MAX];
	size_t		 n, cap;
};

static int
collect_rebuffered(const struct link *l, void *arg)
{
	struct rebuffer *w = arg;
	struct link tmp;

	if (l->side[w->i].item == 0)
		return 0;
	memcpy(&tmp, l, sizeof(tmp));
	if (!sync_rebuffer(&tmp, w->i, &w->e->pol))
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->key = xreallocarray(w->key, w->cap, sizeof(*w->key));
	}
	snprintf(w->key[w->n++], LINK_KEY_MAX, "%s", l->key);
	return 0;
}

/*
 * A buffer changed in the config since the state last held it
 * (META_BUFFER): every side of the store re-derives its held units and
 * owed amount from its pool view, in one transaction with the new value.
 */
static int
rebuffer_txn(struct state_txn *t, void *arg)
{
	struct rebuffer *w = arg;
	struct link *l;
	int64_t had;
	size_t k;
	int r = 0;

	if (meta_get_i64(t, META_BUFFER, w->i, &had) == -1)
		return -1;
	if (had == w->e->pol.buffer[w->i])
		return 0;
	w->n = 0;
	if (state_link_each(t, collect_rebuffered, w) == -1)
		return -1;
	l = xmalloc(sizeof(*l));
	for (k = 0; k < w->n && r == 0; k++) {
		if ((r = state_link_get(t, w->key[k], l)) != 0)
			break;
		(void)sync_rebuffer(l, w->i, &w->e->pol);
		r = state_link_put(t, l);
	}
	free(l);
	if (r != 0)
		return -1;
	log_notice("store %s: buffer %" PRId64 " (was %" PRId64 "): %zu "
	    "links re-derived", w->e->c->stores[w->i].name,
	    w->e->pol.buffer[w->i], had, w->n);
	return meta_put_i64(t, META_BUFFER, w->i, w->e->pol.buffer[w->i]);
}

/* Applies each store's buffer from the config to its sides.  0 or -1. */
static int
apply_buffers(struct run *e)
{
	struct rebuffer w;
	int r = 0;

	memset(&w, 0, sizeof(w));
	w.e = e;
	for (w.i = 0; w.i < e->nstores && r == 0; w.i++)
		r = state_update(e->st, rebuffer_txn, &w);
	free(w.key);
	return r == 0 ? 0 : -1;
}

static int
engine_open(struct run *e, const struct conf *c,
    const struct engine_opts *o, volatile int *stop)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->c = c;
	e->stop = stop;
	e->dry_run = o->dry_run;
	e->nstores = c->nstores;
	e->pol.initial = c->initial;
	e->pol.direction = c->direction;
	for (i = 0; i < c->nstores; i++)
		e->pol.buffer[i] = c->stores[i].buffer;
	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST) {
		log_err("state_dir %s: %s", c->state_dir, strerror(errno));
		return -1;
	}
	if (state_lock_syncer(c->state_dir) == -1 ||
	    (e->st = state_open(c->state_dir, 0)) == NULL)
		return -1;
	if (state_update(e->st, stores_txn, e) != 0 || apply_buffers(e) == -1)
		return -1;
	if (http_global_init() == -1)
		return -1;
	for (i = 0; i < e->nstores; i++)
		if ((e->s[i].cl = client_new(c, i, stop)) == NULL)
			return -1;
	if (!e->dry_run && writes_drop_unsent(e) == -1)
		return -1;
	return 0;
}

/*
 * Sleeps ms between cycles, waking for a stop or a reload, and keeps the
 * service manager's watchdog fed meanwhile.
 */
static void
nap(int64_t ms, volatile int *stop, volatile int *reload)
{
	int64_t step = notify_watchdog_ms() > 0 ? 1000 : 100;

	while (ms > 0 && !*stop && !(reload != NULL && *reload)) {
		if (util_sleep_ms(ms < step ? ms : step, stop))
			break;
		ms -= step;
		if (step == 1000)
			notify_watchdog();
	}
}

static void
engine_close(struct run *e)
{
	size_t i;

	for (i = 0; i < e->nstores; i++) {
		client_free(e->s[i].cl);
		free(e->s[i].rejoin);
	}
	free(e->seen.h);
	state_close(e->st);
}

/*
 * The ms to wait before the next cycle, wait when nothing is loading: a
 * first load by bulk operations is followed every BULK_FOLLOW_MS, so that
 * it is done (and `once` returns) within a second of its file, not an
 * interval later, each step of it.  An LMDB failure here only loses the
 * hurry: the next cycle meets it.
 */
static int64_t
next_cycle(struct run *e, int64_t wait)
{
	if (wait > BULK_FOLLOW_MS && bulk_loading(e) == 1)
		return BULK_FOLLOW_MS;
	return wait;
}

/*
 * Whether `once` failed (docs/design.md §2): a store failed in its cycle,
 * or the locations could not be linked.  Says why on stderr.  1 or 0.
 */
static int
once_failed(struct run *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->nstores; i++) {
		if (!e->s[i].failed)
			continue;
		n++;
		log_err("once: store %s failed: %s", e->c->stores[i].name,
		    e->s[i].failure);
	}
	if (n > 0)
		log_err("once: %zu of %zu stores failed in this cycle: not "
		    "every change was read or applied", n, e->nstores);
	else if (!e->ready)
		log_err("once: the stores' locations could not be linked "
		    "(above)");
	return n > 0 || !e->ready;
}

#define ENGINE_RELINK	(-3)	/* run_engine(): open the engine again */

/* engine_run(), or ENGINE_RELINK when the locations changed under it. */
static int
run_engine(const struct conf *c, const struct engine_opts *o,
    volatile int *stop)
{
	struct run *e = xcalloc(1, sizeof(*e));
	struct alerter *al = NULL;
	char summary[META_STR_MAX];
	int rc = 0;

	if (engine_open(e, c, o, stop) == -1) {
		engine_close(e);
		free(e);
		return 1;
	}
	if (!o->dry_run)
		al = alerter_new(c, o->once, stop);
	log_notice("invsync %s: syncing %zu stores every %" PRId64 " ms%s",
	    INVSYNC_VERSION, c->nstores, c->interval_ms,
	    o->dry_run ? " (dry run)" : "");
	notify_ready();
	while (!*stop) {
		int64_t start = util_mono_ms(), took, alerting;
		int r, busy = 0;

		/* a dry cycle runs against the real state, then vanishes */
		if (e->dry_run && state_dry_begin(e->st) == -1) {
			rc = 1;
			break;
		}
		r = cycle(e);
		if (e->dry_run)
			state_dry_end(e->st);
		if (e->relink) {
			rc = ENGINE_RELINK;
			break;
		}
		if (r == -1) {
			log_err("state failure: stopping so that the service "
			    "manager restarts invsync");
			rc = 1;
			break;
		}
		took = util_mono_ms() - start;
		snprintf(summary, sizeof(summary), "%zu changes seen, %zu "
		    "written in %" PRId64 " ms", e->changed, e->written, took);
		log_debug("cycle: %s", summary);
		/* outside the dry run's transaction */
		if (!e->dry_run &&
		    run_meta_set_str(e, META_CYCLE, 0, summary) == -1) {
			log_err("state failure: stopping so that the service "
			    "manager restarts invsync");
			rc = 1;
			break;
		}
		metrics_write(e, took);
		/* between cycles, bounded: never changes the cycle's outcome */
		alerting = alerter_cycle(al, e, took);
		notify_watchdog();
		notify_status("%s", summary);
		/* pages a full pass touched need not stay resident */
		if (!e->dry_run)
			state_trim(e->st);
		/* `once` is one whole cycle: a bulk load in flight is waited for */
		if (o->once && (e->dry_run || (busy = bulk_busy(e)) != 1)) {
			if (busy == -1 || once_failed(e))
				rc = 1;
			break;
		}
		if (o->reload != NULL && *o->reload) {
			rc = ENGINE_RELOAD;
			break;
		}
		nap(next_cycle(e, c->interval_ms - took - alerting), stop,
		    o->reload);
		if (o->reload != NULL && *o->reload) {
			rc = ENGINE_RELOAD;
			break;
		}
	}
	if (*stop)
		notify_stopping();
	alerter_free(al);
	engine_close(e);
	free(e);
	return rc;
}

int
engine_run(const struct conf *c, const struct engine_opts *o,
    volatile int *stop)
{
	int rc;

	while ((rc = run_engine(c, o, stop)) == ENGINE_RELINK)
		;
	return rc;
}
