/*
 * engine.c: owns the sync cycle and level polling (docs/design.md §3, §5, §6):
 * locations are resolved into groups once, then every cycle each store is
 * polled (incrementally with an overlap, fully every `reconcile`), the
 * observed changes move into owed amounts, and the owed changes are written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bulk.h"
#include "engine.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* ---- per-store health -------------------------------------------------- */

int
engine_store_ok(struct engine *e, size_t i)
{
	return util_mono_ms() >= e->s[i].retry_at;
}

struct meta_err {
	size_t		 i;
	const char	*text;
};

static int
put_store_error(struct state_txn *t, void *arg)
{
	struct meta_err *m = arg;
	char name[64];
	int64_t n = 0;

	snprintf(name, sizeof(name), "errcount.%zu", m->i);
	if (state_meta_get_i64(t, name, &n) == -1)
		return -1;
	if (state_meta_put_i64(t, name, n + 1) == -1)
		return -1;
	snprintf(name, sizeof(name), "errtime.%zu", m->i);
	if (state_meta_put_i64(t, name, util_now_ms()) == -1)
		return -1;
	snprintf(name, sizeof(name), "err.%zu", m->i);
	return state_meta_put_str(t, name, m->text);
}

void
engine_store_failed(struct engine *e, size_t i, const char *what,
    enum client_result r)
{
	struct store_rt *s = &e->s[i];
	const struct client_stats *cs = client_stats(s->cl);
	char text[META_STR_MAX];
	struct meta_err m = { i, text };
	int64_t wait;

	if (r == CLIENT_STOPPED)
		return;
	wait = http_backoff_ms(s->failures, BACKOFF_BASE_MS,
	    r == CLIENT_AUTH ? BACKOFF_CAP_MS : BACKOFF_CAP_MS / 5);
	if (r == CLIENT_AUTH && wait < 60000)
		wait = 60000;	/* credentials do not fix themselves quickly */
	s->failures++;
	s->retry_at = util_mono_ms() + wait;
	snprintf(text, sizeof(text), "%s: %s%s%s", what, client_result_str(r),
	    cs->last_error[0] ? ": " : "", cs->last_error);
	log_warn("store %s: %s; retrying in %" PRId64 " ms",
	    e->c->stores[i].name, text, wait);
	(void)state_update(e->st, put_store_error, &m);
}

void
engine_store_succeeded(struct engine *e, size_t i)
{
	char name[64];

	e->s[i].failures = 0;
	e->s[i].retry_at = 0;
	snprintf(name, sizeof(name), "ok.%zu", i);
	(void)engine_meta_set_i64(e, name, util_now_ms());
}

struct paused_q {
	char	*why;
	size_t	 whysz;
	int	 paused;
};

static int
get_paused(struct state_txn *t, void *arg)
{
	struct paused_q *q = arg;
	int r = state_meta_get_str(t, "paused", q->why, q->whysz);

	if (r == -1)
		return -1;
	q->paused = r == 0;
	return 0;
}

int
engine_paused(struct engine *e, char *why, size_t whysz)
{
	struct paused_q q = { why, whysz, 0 };

	why[0] = '\0';
	if (state_view(e->st, get_paused, &q) == -1)
		return 1;	/* cannot tell: do not write */
	return q.paused;
}

/* ---- locations ---------------------------------------------------------- */

/* Fetches every store's locations and links them.  0, or -1 to retry. */
static int
resolve_locations(struct engine *e)
{
	struct client_location *loc[CONF_MAX_STORES] = { NULL };
	size_t n[CONF_MAX_STORES] = { 0 }, i;
	char err[1024];
	int r = -1;

	for (i = 0; i < e->nstores; i++) {
		enum client_result cr = client_locations(e->s[i].cl, &loc[i],
		    &n[i]);

		if (cr != CLIENT_OK) {
			engine_store_failed(e, i, "reading locations", cr);
			goto out;
		}
	}
	if ((r = link_locations(e->c, loc, n, e->g, &e->ngroups, err,
	    sizeof(err))) == -1)
		log_err("%s", err);
	for (i = 0; r == 0 && i < e->ngroups; i++)
		log_info("linked location group '%s'", e->g[i].name);
out:
	for (i = 0; i < e->nstores; i++)
		free(loc[i]);
	return r;
}

/* ---- observing levels --------------------------------------------------- */

struct observe_ctx {
	struct engine			*e;
	size_t				 i;
	const struct client_level	*lv;
	size_t				 n;
	int				 first_only;	/* unsighted links only */
};

/* Records in the audit log that store i's level of l moved by d from from. */
static void
audit_observed(struct state_txn *t, size_t i, const struct link *l,
    int64_t from, int64_t d)
{
	struct audit_entry a;

	memset(&a, 0, sizeof(a));
	a.kind = AUDIT_OBSERVED;
	a.store = (uint32_t)i;
	a.from = from;
	a.delta = d;
	snprintf(a.link, sizeof(a.link), "%s", l->key);
	(void)state_audit_append(t, &a);
}

/*
 * The links seen changing largely in this cycle, as a set of key hashes
 * (e->seen), so that e->large counts links (what the guard compares with
 * the number of links), not observations: a link that moves in two
 * stores, or twice in one cycle (a poll and a re-read), counts once.
 */
static void
seen_clear(struct key_set *seen)
{
	if (seen->h != NULL)
		memset(seen->h, 0, seen->cap * sizeof(*seen->h));
	seen->n = 0;
}

static uint64_t
key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return h ? h : 1;
}

/* Adds key to the set; 1 when it was not there yet. */
static int
seen_add(struct key_set *seen, const char *key)
{
	uint64_t h = key_hash(key);
	size_t k;

	if (2 * (seen->n + 1) > seen->cap) {
		uint64_t *old = seen->h;
		size_t oldcap = seen->cap;

		seen->cap = seen->cap ? seen->cap * 2 : 256;
		seen->h = xcalloc(seen->cap, sizeof(*seen->h));
		seen->n = 0;
		for (k = 0; k < oldcap; k++)
			if (old[k] != 0) {
				size_t j = old[k] & (seen->cap - 1);

				while (seen->h[j] != 0)
					j = (j + 1) & (seen->cap - 1);
				seen->h[j] = old[k];
				seen->n++;
			}
		free(old);
	}
	for (k = h & (seen->cap - 1); seen->h[k] != 0;
	    k = (k + 1) & (seen->cap - 1))
		if (seen->h[k] == h)
			return 0;
	seen->h[k] = h;
	seen->n++;
	return 1;
}

/* Applies one observed level to its link.  Returns 0 or -1. */
static int
observe_one(struct state_txn *t, struct observe_ctx *x,
    const struct client_level *lv)
{
	char key[LINK_KEY_MAX];
	struct link l;
	struct link_side *sd;
	int64_t before, d;
	int r;

	if ((r = state_link_find(t, (uint32_t)x->i, lv->item, lv->location,
	    key)) != 0)
		return r == 1 ? 0 : -1;		/* a level nobody links */
	if (state_link_get(t, key, &l) != 0)
		return -1;
	sd = &l.side[x->i];
	if (x->first_only && sd->has_baseline)
		return 0;	/* the polls' news is newer than a snapshot */
	if (lv->level != 0)
		sd->level = lv->level;
	if (!lv->found || !lv->active) {
		if (sd->status == SIDE_OK) {
			sd->status = lv->found ? SIDE_INACTIVE : SIDE_MISSING;
			sd->has_baseline = 0;
			log_warn("store %s: %s is %s; not synced",
			    x->e->c->stores[x->i].name, key,
			    lv->found ? "inactive" : "not stocked");
		}
		return state_link_put(t, &l);
	}
	if (sd->status == SIDE_INACTIVE || sd->status == SIDE_MISSING) {
		sd->status = SIDE_OK;	/* active again: a fresh first sighting */
		sd->has_baseline = 0;
	}
	before = sd->baseline;
	d = sync_observe(&l, x->i, lv->available, &x->e->pol);
	if (d != 0) {
		x->e->changed++;
		if (sync_change_large(before, d) && seen_add(&x->e->seen, key))
			x->e->large++;
		log_info("store %s: %s changed by %+" PRId64 " (%" PRId64
		    " -> %" PRId64 ")", x->e->c->stores[x->i].name, key, d,
		    before, lv->available);
		audit_observed(t, x->i, &l, before, d);
	}
	return state_link_put(t, &l);
}

static int
observe_txn(struct state_txn *t, void *arg)
{
	struct observe_ctx *x = arg;
	size_t k;

	for (k = 0; k < x->n; k++)
		if (observe_one(t, x, &x->lv[k]) == -1)
			return -1;
	return 0;
}

static int
observe(struct engine *e, size_t i, const struct client_level *lv, size_t n,
    int first_only)
{
	struct observe_ctx x = { e, i, lv, n, first_only };
	size_t changed = e->changed, large = e->large;
	int r;

	if (n == 0)
		return 0;
	r = state_update(e->st, observe_txn, &x);
	if (r != 0) {
		e->changed = changed;
		e->large = large;
	}
	return r;
}

int
engine_observe_levels(struct engine *e, size_t i,
    const struct client_level *lv, size_t n)
{
	return observe(e, i, lv, n, 0);
}

int
engine_observe_first(struct engine *e, size_t i,
    const struct client_level *lv, size_t n)
{
	return observe(e, i, lv, n, 1);
}

/* Collects levels of a poll into pages, applied one transaction a page. */
struct poll_ctx {
	struct engine		*e;
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
	if (engine_observe_levels(p->e, p->i, p->page, p->n) == -1)
		p->failed = 1;
	p->n = 0;
	return p->failed;
}

static int
get_i64(struct state_txn *t, void *arg)
{
	struct { const char *name; int64_t v; } *q = arg;

	q->v = 0;
	return state_meta_get_i64(t, q->name, &q->v) == -1 ? -1 : 0;
}

int64_t
engine_meta_i64(struct engine *e, const char *name)
{
	struct { const char *name; int64_t v; } q = { name, 0 };

	if (state_view(e->st, get_i64, &q) == -1)
		return 0;
	return q.v;
}

struct meta_set {
	const char	*name;
	int64_t		 v;
};

static int
set_i64(struct state_txn *t, void *arg)
{
	struct meta_set *m = arg;

	return state_meta_put_i64(t, m->name, m->v);
}

int
engine_meta_set_i64(struct engine *e, const char *name, int64_t v)
{
	struct meta_set m = { name, v };

	return state_update(e->st, set_i64, &m);
}

static int
set_str(struct state_txn *t, void *arg)
{
	const char *const *kv = arg;

	return state_meta_put_str(t, kv[0], kv[1]);
}

static int
del_pass(struct state_txn *t, void *arg)
{
	const size_t *i = arg;
	char name[48];

	snprintf(name, sizeof(name), "rpass.%zu", *i);
	if (state_meta_del(t, name) == -1)
		return -1;
	snprintf(name, sizeof(name), "rstart.%zu", *i);
	return state_meta_del(t, name);
}

/* Ends store i's paced reconciliation, if one is under way.  0 or -1. */
static int
pass_forget(struct engine *e, size_t i)
{
	return state_update(e->st, del_pass, &i);
}

static int
get_str(struct state_txn *t, void *arg)
{
	char **kv = arg;

	kv[1][0] = '\0';
	return state_meta_get_str(t, kv[0], kv[1], META_STR_MAX) == -1 ? -1 : 0;
}

/*
 * Adds what store i's paced reconciliation has earned since the last turn:
 * RECONCILE_SHARE % of the store's restore rate (as its replies report it),
 * capped at two pages' worth.
 */
static void
accrue_budget(struct engine *e, size_t i)
{
	struct store_rt *s = &e->s[i];
	double rate = client_stats(s->cl)->restore;
	int64_t now = util_mono_ms();

	if (s->budget_at != 0 && rate > 0)
		s->budget += (double)(now - s->budget_at) / 1000.0 * rate *
		    RECONCILE_SHARE / 100.0;
	if (s->budget > 2 * RECONCILE_PAGE_POINTS)
		s->budget = 2 * RECONCILE_PAGE_POINTS;
	s->budget_at = now;
}

/*
 * Reads the next page of store i's paced reconciliation, whose place is
 * "GROUP:CURSOR" in pass, observes it, and records the next place (or the
 * end of the pass).  Returns 0, 1 when the store failed, -1 when the state
 * failed.
 */
static int
pass_page(struct engine *e, size_t i, const char *pass, int64_t pstart)
{
	const struct client_stats *cs = client_stats(e->s[i].cl);
	char next[META_STR_MAX - 24], place[META_STR_MAX], name[48];
	const char *kv[2] = { name, place };
	int64_t spent = cs->cost_actual;
	struct poll_ctx *p = xcalloc(1, sizeof(*p));
	enum client_result cr;
	unsigned long g;
	char *cursor;
	int r = 0;

	g = strtoul(pass, &cursor, 10);
	if (*cursor != ':' || g >= e->ngroups)
		g = 0, cursor = ":";	/* the groups changed: start over */
	p->e = e;
	p->i = i;
	cr = client_levels_page(e->s[i].cl, e->g[g].loc[i], cursor + 1, next,
	    sizeof(next), on_level, p);
	if (!p->failed && cr != CLIENT_OK) {
		engine_store_failed(e, i, "reconciling levels", cr);
		/* a cursor the store no longer takes: the pass starts over */
		r = cr == CLIENT_REFUSED || cr == CLIENT_BAD_REPLY ?
		    (pass_forget(e, i) == -1 ? -1 : 1) : 1;
	} else if (p->failed || (p->n > 0 &&
	    engine_observe_levels(e, i, p->page, p->n) == -1))
		r = -1;
	free(p);
	if (r != 0)
		return r;
	e->s[i].budget -= (double)(cs->cost_actual - spent);
	if (next[0] == '\0' && ++g >= e->ngroups) {
		log_info("store %s: reconciliation pass done",
		    e->c->stores[i].name);
		snprintf(name, sizeof(name), "reconcile.%zu", i);
		if (engine_meta_set_i64(e, name, pstart) == -1)
			return -1;
		return pass_forget(e, i);
	}
	snprintf(name, sizeof(name), "rpass.%zu", i);
	snprintf(place, sizeof(place), "%lu:%s", g, next);
	return state_update(e->st, set_str, (void *)kv);
}

/*
 * The periodic full reconciliation of store i (docs/design.md §5), paced: a page of
 * levels at a time, bought with RECONCILE_SHARE % of the store's restore
 * rate, so a big catalog's pass neither stalls syncing nor drains the
 * bucket.  A pass starts `reconcile` after the last one started and keeps
 * its place in LMDB across cycles and restarts.  Returns 0, 1 when the
 * store failed, -1 when the state failed.
 */
static int
reconcile_step(struct engine *e, size_t i)
{
	char kstart[48], kpass[48], pass[META_STR_MAX];
	char *kv[2] = { kpass, pass };
	const char *set[2] = { kpass, "0:" };
	int64_t pstart, now = util_now_ms();

	snprintf(kstart, sizeof(kstart), "rstart.%zu", i);
	snprintf(kpass, sizeof(kpass), "rpass.%zu", i);
	accrue_budget(e, i);
	if ((pstart = engine_meta_i64(e, kstart)) == 0) {
		char krec[48];
		int64_t last;

		snprintf(krec, sizeof(krec), "reconcile.%zu", i);
		last = engine_meta_i64(e, krec);
		/* 0: a first sighting is under way (a bulk file's) */
		if (last == 0 || now - last < e->c->reconcile_ms)
			return 0;
		pstart = now;
		if (engine_meta_set_i64(e, kstart, pstart) == -1 ||
		    state_update(e->st, set_str, (void *)set) == -1)
			return -1;
		log_info("store %s: reconciliation pass started",
		    e->c->stores[i].name);
	}
	if (e->s[i].budget < RECONCILE_PAGE_POINTS)
		return 0;
	if (state_view(e->st, get_str, kv) == -1)
		return -1;
	return pass_page(e, i, pass, pstart);
}

/*
 * The margin of an ordinary incremental poll: the query's timestamps have
 * whole seconds, and clocks differ a little.  A level whose search-index
 * entry lags more than this is read by the next sweep.
 */
#define POLL_MARGIN_MS	2000

/*
 * Polls store i: every linked location's levels updated since the last
 * poll minus a small margin; once per overlap a sweep reads those updated
 * since the last sweep minus the whole overlap (so an index lagging up to
 * the overlap misses nothing, and a level changed once is read a few
 * times, not once per poll of the overlap: docs/design.md §9); all of them when a
 * reconciliation is due.  Returns 0, 1 when the store failed (it is backed
 * off), -1 when the state failed.
 */
static int
poll_store(struct engine *e, size_t i)
{
	char kpoll[32], krec[32], ksweep[32];
	struct poll_ctx *p = xcalloc(1, sizeof(*p));
	int64_t start = util_now_ms(), last, lastrec, lastsweep, since;
	int64_t margin = e->c->overlap_ms < POLL_MARGIN_MS ?
	    e->c->overlap_ms : POLL_MARGIN_MS;
	int full, sweep;
	size_t k;
	int r = 0;

	snprintf(kpoll, sizeof(kpoll), "poll.%zu", i);
	snprintf(krec, sizeof(krec), "reconcile.%zu", i);
	snprintf(ksweep, sizeof(ksweep), "sweep.%zu", i);
	last = engine_meta_i64(e, kpoll);
	lastrec = engine_meta_i64(e, krec);
	/* all at once only when links await a first sighting */
	full = last == 0 || lastrec == 0;
	if (full && bulk_levels_wanted(e, i)) {
		/* a big store's sighting comes from a bulk file: poll as usual */
		if (bulk_levels(e, i) == -1) {
			free(p);
			return -1;
		}
		if (!engine_store_ok(e, i) ||
		    (last = engine_meta_i64(e, kpoll)) == 0) {
			free(p);
			return 0;
		}
		full = 0;
	}
	lastsweep = engine_meta_i64(e, ksweep);
	sweep = full || lastsweep == 0 || lastsweep > last ||
	    start - lastsweep >= e->c->overlap_ms;
	if (full)
		since = 0;
	else if (sweep)
		since = (lastsweep != 0 && lastsweep <= last ? lastsweep : last) -
		    e->c->overlap_ms;
	else
		since = last - margin;
	p->e = e;
	p->i = i;
	for (k = 0; k < e->ngroups && r == 0; k++) {
		enum client_result cr = client_levels(e->s[i].cl, e->g[k].loc[i],
		    since, on_level, p);

		if (p->failed)
			r = -1;
		else if (cr != CLIENT_OK) {
			engine_store_failed(e, i, "polling levels", cr);
			r = 1;
		}
	}
	if (r == 0 && p->n > 0 &&
	    engine_observe_levels(e, i, p->page, p->n) == -1)
		r = -1;
	free(p);
	if (r == 0) {
		engine_store_succeeded(e, i);
		if (engine_meta_set_i64(e, kpoll, start) == -1 ||
		    (sweep && engine_meta_set_i64(e, ksweep, start) == -1) ||
		    (full && (engine_meta_set_i64(e, krec, start) == -1 ||
		    pass_forget(e, i) == -1)))
			return -1;
		if (full) {
			log_info("store %s: full level pass done",
			    e->c->stores[i].name);
			if (bulk_forget(e, SHOPIFY_BULK_LEVELS, i) == -1)
				return -1;
		}
	}
	return r;
}

int
engine_levels_sighted(struct engine *e, size_t i, int64_t at)
{
	char krec[32];

	snprintf(krec, sizeof(krec), "reconcile.%zu", i);
	if (engine_meta_set_i64(e, krec, at) == -1)
		return -1;
	return pass_forget(e, i);
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
	if (state_meta_put_str(t, "paused", why) == -1)
		return -1;
	return state_audit_append(t, &a);
}

static int
count_links(struct state_txn *t, void *arg)
{
	*(size_t *)arg = state_link_count(t);
	return 0;
}

/* The absurd-change guard (docs/design.md §6): pause before anything propagates. */
static void
check_guard(struct engine *e)
{
	char why[META_STR_MAX];
	size_t total = 0;

	if (state_view(e->st, count_links, &total) == -1)
		return;
	if (!sync_guard_trips(e->large, total, e->c->guard_percent))
		return;
	snprintf(why, sizeof(why), "guard: %zu of %zu links changed by half "
	    "their stock or more in one cycle (more than %d%%); check the "
	    "stores, then run 'invsync resume'", e->large, total,
	    e->c->guard_percent);
	log_err("pausing: %s", why);
	if (!e->dry_run)
		(void)state_update(e->st, pause_txn, why);
}

static int
catalog_due(struct engine *e, size_t i, int *full)
{
	char name[48];
	int64_t now = util_now_ms(), last, lastfull;

	snprintf(name, sizeof(name), "catalog.%zu", i);
	last = engine_meta_i64(e, name);
	snprintf(name, sizeof(name), "catalogfull.%zu", i);
	lastfull = engine_meta_i64(e, name);
	*full = lastfull == 0 || now - lastfull >= e->c->reconcile_ms;
	return *full || now - last >= e->c->catalog_ms;
}

/* Store i has links to poll: its first catalog load is done. */
static int
catalog_loaded(struct engine *e, size_t i)
{
	char name[48];

	snprintf(name, sizeof(name), "catalogfull.%zu", i);
	return engine_meta_i64(e, name) != 0;
}

/*
 * Store i's catalog work of this cycle: a full load every `reconcile` (by
 * a bulk operation when the store is big), else a refresh every
 * `catalog_refresh`.  0 or -1.
 */
static int
catalog_step(struct engine *e, size_t i)
{
	char name[48];
	int due, full, r;

	due = catalog_due(e, i, &full);
	if (!(due && full) && !bulk_catalog_running(e, i))
		return due ? catalog_refresh(e, i, 0) : 0;
	if ((r = bulk_catalog(e, i)) == 1) {
		/* a small store, or one refusing bulk operations: pages */
		if ((r = catalog_refresh(e, i, 1)) == 0 && engine_store_ok(e, i))
			r = bulk_forget(e, SHOPIFY_BULK_CATALOG, i);
		return r;
	}
	if (r == -1)
		return -1;
	/* the bulk load takes a while: refreshes go on meanwhile */
	snprintf(name, sizeof(name), "catalog.%zu", i);
	if (engine_store_ok(e, i) && catalog_loaded(e, i) &&
	    util_now_ms() - engine_meta_i64(e, name) >= e->c->catalog_ms)
		return catalog_refresh(e, i, 0);
	return 0;
}

/* One cycle over every store.  Returns 0, or -1 on a state failure. */
static int
cycle(struct engine *e)
{
	int resolved[CONF_MAX_STORES] = { 0 };
	char why[META_STR_MAX];
	size_t i;

	e->changed = e->large = e->written = 0;
	seen_clear(&e->seen);
	if (!e->ready) {
		if (resolve_locations(e) == -1)
			return 0;
		e->ready = 1;
	}
	for (i = 0; i < e->nstores; i++)
		if (engine_store_ok(e, i) && catalog_step(e, i) == -1)
			return -1;
	/* a pending batch is resolved before anything else (docs/design.md §4) */
	for (i = 0; i < e->nstores; i++)
		if (engine_store_ok(e, i))
			resolved[i] = writes_resolve(e, i);
	for (i = 0; i < e->nstores; i++)
		if (resolved[i] && engine_store_ok(e, i) && catalog_loaded(e, i) &&
		    (poll_store(e, i) == -1 || (engine_store_ok(e, i) &&
		    reconcile_step(e, i) == -1)))
			return -1;
	check_guard(e);
	if (engine_paused(e, why, sizeof(why))) {
		log_info("paused (%s): not writing", why);
		return 0;
	}
	if (writes_plan(e) == -1)
		return -1;
	if (e->dry_run)
		return writes_report_plan(e);
	for (i = 0; i < e->nstores && !*e->stop; i++)
		if (resolved[i] && engine_store_ok(e, i))
			writes_send(e, i);
	return 0;
}

/* Records the store list; refuses a state made for other stores. */
static int
stores_txn(struct state_txn *t, void *arg)
{
	struct engine *e = arg;
	char want[META_STR_MAX] = "", have[META_STR_MAX];
	size_t i;
	int r;

	for (i = 0; i < e->nstores; i++) {
		strncat(want, e->c->stores[i].name,
		    sizeof(want) - strlen(want) - 2);
		strcat(want, ",");
	}
	if ((r = state_meta_get_str(t, "stores", have, sizeof(have))) == -1)
		return -1;
	if (r == 0 && strcmp(have, want) != 0) {
		log_err("state in %s was made for stores '%s', the config "
		    "names '%s': restore that order, or use a new state_dir",
		    e->c->state_dir, have, want);
		return 2;
	}
	return state_meta_put_str(t, "stores", want);
}

static int
engine_open(struct engine *e, const struct conf *c,
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
	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST) {
		log_err("state_dir %s: %s", c->state_dir, strerror(errno));
		return -1;
	}
	if (state_lock_syncer(c->state_dir) == -1 ||
	    (e->st = state_open(c->state_dir, 0)) == NULL)
		return -1;
	if (state_update(e->st, stores_txn, e) != 0)
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
engine_close(struct engine *e)
{
	size_t i;

	for (i = 0; i < e->nstores; i++)
		client_free(e->s[i].cl);
	free(e->seen.h);
	state_close(e->st);
}

int
engine_run(const struct conf *c, const struct engine_opts *o,
    volatile int *stop)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	char summary[META_STR_MAX];
	int rc = 0;

	if (engine_open(e, c, o, stop) == -1) {
		engine_close(e);
		free(e);
		return 1;
	}
	log_notice("invsync %s: syncing %zu stores every %" PRId64 " ms%s",
	    INVSYNC_VERSION, c->nstores, c->interval_ms,
	    o->dry_run ? " (dry run)" : "");
	notify_ready();
	while (!*stop) {
		int64_t start = util_mono_ms(), took;
		int r;

		/* a dry cycle runs against the real state, then vanishes */
		if (e->dry_run && state_dry_begin(e->st) == -1) {
			rc = 1;
			break;
		}
		r = cycle(e);
		if (e->dry_run)
			state_dry_end(e->st);
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
		if (!e->dry_run) {	/* outside the dry run's transaction */
			const char *kv[2] = { "cycle", summary };

			(void)state_update(e->st, set_str, (void *)kv);
		}
		notify_watchdog();
		notify_status("%s", summary);
		/* pages a full pass touched need not stay resident */
		if (!e->dry_run)
			state_trim(e->st);
		/* `once` is one whole cycle: a bulk load in flight is waited for */
		if (o->once && (e->dry_run || !bulk_busy(e)))
			break;
		if (o->reload != NULL && *o->reload) {
			rc = ENGINE_RELOAD;
			break;
		}
		nap(c->interval_ms - took, stop, o->reload);
		if (o->reload != NULL && *o->reload) {
			rc = ENGINE_RELOAD;
			break;
		}
	}
	if (*stop)
		notify_stopping();
	engine_close(e);
	free(e);
	return rc;
}
