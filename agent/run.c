/*
 * run.c: owns the services the files of the cycle share (run.h): each
 * store's health (backoff, the errors status shows), meta values in a
 * transaction of their own, and observing levels: a level read from a
 * store moves its change into the other stores' owed amounts
 * (docs/design.md §3).  It calls nothing above it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "run.h"
#include "timing.h"
#include "util.h"

/* ---- per-store health -------------------------------------------------- */

int
run_store_ok(struct run *e, size_t i)
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
	int64_t n = 0;

	if (meta_get_i64(t, META_ERRCOUNT, m->i, &n) == -1)
		return -1;
	if (meta_put_i64(t, META_ERRCOUNT, m->i, n + 1) == -1)
		return -1;
	if (meta_put_i64(t, META_ERRTIME, m->i, util_now_ms()) == -1)
		return -1;
	return meta_put_str(t, META_ERR, m->i, m->text);
}

void
run_store_failed(struct run *e, size_t i, const char *what,
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
	if (s->failures++ == 0)
		s->failing_since = util_now_ms();
	s->failed = 1;
	s->retry_at = util_mono_ms() + wait;
	snprintf(text, sizeof(text), "%s: %s%s%s", what, client_result_str(r),
	    cs->last_error[0] ? ": " : "", cs->last_error);
	snprintf(s->failure, sizeof(s->failure), "%s", text);
	log_warn("store %s: %s; retrying in %" PRId64 " ms",
	    e->c->stores[i].name, text, wait);
	if (state_update(e->st, put_store_error, &m) != 0)
		e->state_failed = 1;
}

void
run_store_succeeded(struct run *e, size_t i)
{
	e->s[i].failures = 0;
	e->s[i].failing_since = 0;
	e->s[i].retry_at = 0;
	if (run_meta_set(e, META_OK, i, util_now_ms()) == -1)
		e->state_failed = 1;
}

/* ---- tallies for the metrics file ---------------------------------------- */

void
run_tally_poll(struct run *e, size_t i, enum client_result r,
    int64_t throttled)
{
	uint64_t *polls = e->s[i].tally.polls;

	if (r == CLIENT_OK)
		polls[METRICS_OK]++;
	else if (r == CLIENT_STOPPED)
		return;
	else if (client_stats(e->s[i].cl)->throttled > throttled)
		polls[METRICS_THROTTLED]++;
	else
		polls[METRICS_FAILED]++;
}

/* Store i's change to l was seen now: the stores it owes are owed since. */
static void
tally_owed(struct run *e, const struct link *l, size_t i)
{
	int64_t now = util_now_ms();
	size_t j;

	for (j = 0; j < l->nsides && j < e->nstores; j++)
		if (j != i && l->side[j].owed != 0 &&
		    e->s[j].tally.owed_since == 0)
			e->s[j].tally.owed_since = now;
}

void
run_tally_plan(struct run *e, size_t i, const struct pending *p)
{
	struct store_tally *t = &e->s[i].tally;

	t->planned = p->n < BATCH_MAX;
	if (p->n == 0)
		return;
	t->batch_seen = t->owed_since != 0 && t->owed_since < p->created_ms ?
	    t->owed_since : p->created_ms;
	memcpy(t->batch_key, p->key, sizeof(t->batch_key));
}

void
run_tally_planned(struct run *e)
{
	size_t i;

	for (i = 0; i < e->nstores; i++)
		if (e->s[i].tally.planned) {
			e->s[i].tally.owed_since = 0;
			e->s[i].tally.planned = 0;
		}
}

/* A batch planned before this engine started counts from its planning. */
void
run_tally_applied(struct run *e, const struct pending *p, int64_t now)
{
	struct store_tally *t = &e->s[p->store].tally;
	int64_t seen = p->created_ms;

	if (strcmp(t->batch_key, p->key) == 0)
		seen = t->batch_seen;
	metrics_hist_observe(&t->latency, (double)(now - seen) / 1000.0);
}

/* ---- Shopify's clock ---------------------------------------------------- */

struct clock_ctx {
	size_t	i;
	int64_t	off, shift;
};

static int
clock_txn(struct state_txn *t, void *arg)
{
	static const enum meta_id stamps[] = { META_POLL, META_SWEEP,
	    META_CATALOG, META_CATALOGFULL, META_RECONCILE, META_RSTART,
	    META_BULKAT_CATALOG, META_BULKAT_LEVELS };
	struct clock_ctx *c = arg;
	int64_t v;
	size_t k;

	for (k = 0; c->shift != 0 && k < sizeof(stamps) / sizeof(stamps[0]);
	    k++) {
		if (meta_get_i64(t, stamps[k], c->i, &v) == -1)
			return -1;
		if (v != 0 && meta_put_i64(t, stamps[k], c->i,
		    v + c->shift) == -1)
			return -1;
	}
	return meta_put_i64(t, META_CLOCK, c->i, c->off);
}

int
run_clock(struct run *e, size_t i)
{
	struct store_rt *s = &e->s[i];
	struct clock_ctx c = { i, client_stats(s->cl)->clock_offset_ms, 0 };

	if (!s->clock_loaded) {
		if (run_meta_get(e, META_CLOCK, i, &s->clock_off) == -1)
			return -1;
		s->clock_loaded = 1;
	}
	/* a dry run's transaction vanishes: it keeps the offset kept */
	if (e->dry_run || c.off == 0 ||
	    !timing_clock_update(s->clock_off, c.off, &c.shift))
		return 0;
	if (state_update(e->st, clock_txn, &c) != 0)
		return -1;
	if (c.off > CLOCK_WARN_MS || c.off < -CLOCK_WARN_MS)
		log_warn("store %s: Shopify's clock is %+.1f s from ours "
		    "(was %+.1f s): polls follow Shopify's; check NTP "
		    "(timedatectl)", e->c->stores[i].name,
		    (double)c.off / 1000, (double)s->clock_off / 1000);
	else
		log_info("store %s: Shopify's clock is %+.1f s from ours",
		    e->c->stores[i].name, (double)c.off / 1000);
	s->clock_off = c.off;
	return 0;
}

int64_t
run_shop_time(const struct run *e, size_t i, int64_t ms)
{
	return ms + e->s[i].clock_off;
}

/* ---- meta values in their own transaction ------------------------------- */

struct meta_q {
	enum meta_id	 id;
	size_t		 i;
	int64_t		 v;
	char		*buf;		/* strings */
	const char	*str;
	size_t		 bufsz;
	int		 found;
};

static int
get_txn(struct state_txn *t, void *arg)
{
	struct meta_q *q = arg;
	int r;

	if (q->buf != NULL)
		r = meta_get_str(t, q->id, q->i, q->buf, q->bufsz);
	else
		r = meta_get_i64(t, q->id, q->i, &q->v);
	q->found = r == 0;
	return r == -1 ? -1 : 0;
}

static int
set_txn(struct state_txn *t, void *arg)
{
	struct meta_q *q = arg;

	if (q->str != NULL)
		return meta_put_str(t, q->id, q->i, q->str);
	return meta_put_i64(t, q->id, q->i, q->v);
}

int
run_meta_get(struct run *e, enum meta_id id, size_t i, int64_t *v)
{
	struct meta_q q = { id, i, 0, NULL, NULL, 0, 0 };

	*v = 0;
	if (state_view(e->st, get_txn, &q) == -1)
		return -1;
	*v = q.v;
	return 0;
}

int
run_meta_set(struct run *e, enum meta_id id, size_t i, int64_t v)
{
	struct meta_q q = { id, i, v, NULL, NULL, 0, 0 };

	return state_update(e->st, set_txn, &q) == 0 ? 0 : -1;
}

int
run_meta_get_str(struct run *e, enum meta_id id, size_t i, char *buf,
    size_t bufsz)
{
	struct meta_q q = { id, i, 0, buf, NULL, bufsz, 0 };

	buf[0] = '\0';
	return state_view(e->st, get_txn, &q) == -1 ? -1 : 0;
}

int
run_meta_set_str(struct run *e, enum meta_id id, size_t i, const char *v)
{
	struct meta_q q = { id, i, 0, NULL, v, 0, 0 };

	return state_update(e->st, set_txn, &q) == 0 ? 0 : -1;
}

int
run_paused(struct run *e, int *paused, char *why, size_t whysz)
{
	struct meta_q q = { META_PAUSED, 0, 0, why, NULL, whysz, 0 };

	why[0] = '\0';
	*paused = 1;	/* cannot tell: do not write */
	if (state_view(e->st, get_txn, &q) == -1)
		return -1;
	*paused = q.found;
	return 0;
}

static int
del_pass(struct state_txn *t, void *arg)
{
	const size_t *i = arg;

	if (meta_del(t, META_RPASS, *i) == -1)
		return -1;
	return meta_del(t, META_RSTART, *i);
}

int
run_pass_forget(struct run *e, size_t i)
{
	return state_update(e->st, del_pass, &i) == 0 ? 0 : -1;
}

/* ---- observing levels --------------------------------------------------- */

struct observe_ctx {
	struct run			*e;
	size_t				 i;
	const struct client_level	*lv;
	size_t				 n;
	int				 first_only;	/* unsighted links only */
	uint16_t			 snapshot;	/* the epoch of a levels
							   snapshot; 0: a live
							   read */
	uint16_t			 epoch;		/* META_EPOCH now */
	uint16_t			 passes;	/* META_PASSES now */
	size_t				 found;		/* changes a snapshot
							   showed */
};

void
run_side_note(const struct run *e, size_t i, const struct link *l,
    uint64_t loc, char *buf, size_t bufsz)
{
	char name[CONF_STR_MAX];
	int64_t held = l->pool[i].held;
	size_t n;

	buf[0] = '\0';
	if (sync_is_group(l, i)) {
		linkloc_member_name(e->c, e->g, e->ngroups, i, loc, name,
		    sizeof(name));
		snprintf(buf, bufsz, "at %s", name[0] != '\0' ? name : "?");
	}
	if (e->pol.buffer[i] == 0)
		return;
	n = strlen(buf);
	snprintf(buf + n, bufsz - n, "%spool %" PRId64 ", %" PRId64 " held "
	    "back: shows %" PRId64, n > 0 ? "; " : "", sync_pool(l, i), held,
	    sync_pool(l, i) - held);
}

/*
 * Records in the audit log that store i's level of l at location loc
 * moved by d from from.
 */
static int
audit_observed(struct state_txn *t, struct observe_ctx *x,
    const struct link *l, uint64_t loc, int64_t from, int64_t d)
{
	struct audit_entry a;

	memset(&a, 0, sizeof(a));
	a.kind = AUDIT_OBSERVED;
	a.store = (uint32_t)x->i;
	a.from = from;
	a.delta = d;
	snprintf(a.link, sizeof(a.link), "%s", l->key);
	run_side_note(x->e, x->i, l, loc, a.note, sizeof(a.note));
	return state_audit_append(t, &a);
}

/*
 * The links seen changing largely in this cycle, as a set of key hashes
 * (e->seen), so that e->large counts links (what the guard compares with
 * the number of links), not observations: a link that moves in two
 * stores, or twice in one cycle (a poll and a re-read), counts once.
 */
void
run_seen_clear(struct run *e)
{
	struct key_set *seen = &e->seen;

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

/* Adds key to the set; 1 when it was not there yet, else 0. */
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

/*
 * The status a level read as lv gives a side or member: SIDE_OK, or
 * SIDE_INACTIVE / SIDE_MISSING.
 */
static uint8_t
read_status(const struct client_level *lv)
{
	if (!lv->found)
		return SIDE_MISSING;
	return lv->active ? SIDE_OK : SIDE_INACTIVE;
}

/*
 * Queues level (item, location, level) of store i to be read again live in
 * this cycle (engine.c rejoin_step()).  Once queued; a full queue
 * (LEVEL_PAGE) leaves the rest to a later read.
 */
static void
rejoin_add(struct run *e, size_t i, uint64_t item, uint64_t location,
    uint64_t level)
{
	struct store_rt *s = &e->s[i];
	struct client_level *lv;
	size_t k;

	if (level == 0)
		return;
	for (k = 0; k < s->nrejoin; k++)
		if (s->rejoin[k].level == level)
			return;
	if (s->nrejoin == LEVEL_PAGE)
		return;
	if (s->rejoin == NULL)
		s->rejoin = xcalloc(LEVEL_PAGE, sizeof(*s->rejoin));
	lv = &s->rejoin[s->nrejoin++];
	memset(lv, 0, sizeof(*lv));
	lv->item = item;
	lv->location = location;
	lv->level = level;
}

/*
 * Queues the members of store i's group side of l still in its sum: a
 * side one of whose members left is sighted afresh as soon as another
 * reads active, not at their next change or full pass, from which a sale
 * meanwhile would not reach the other stores.
 */
static void
rejoin_note(struct run *e, size_t i, const struct link *l)
{
	const struct link_pool *gp = &l->pool[i];
	size_t m;

	for (m = 0; m < gp->nmembers; m++)
		if (gp->member[m].status == SIDE_OK && gp->member[m].seen)
			rejoin_add(e, i, l->side[i].item,
			    gp->member[m].location, gp->member[m].level);
}

/*
 * Takes level lv into member m of store i's group side of l
 * (docs/design.md §3a).  A member that leaves the sum (read inactive or
 * not stocked) or joins it (read active again) changes what the side is,
 * so nothing is passed on: one that leaves takes the side out of syncing
 * until another member reads active, one that joins has the side sighted
 * afresh, as a single location's side is when its level comes back (the
 * `initial` policy decides).  Sets *q to the side's quantity and returns 1
 * when the side is to be observed with it, else 0.
 */
static int
group_take(struct observe_ctx *x, struct link *l, size_t m,
    const struct client_level *lv, int64_t *q)
{
	struct link_side *sd = &l->side[x->i];
	struct link_member *mb = &l->pool[x->i].member[m];
	uint8_t now = read_status(lv), was = mb->status;

	if (lv->level != 0)
		mb->level = lv->level;
	mb->status = now;
	mb->seen = now == SIDE_OK;
	mb->quantity = now == SIDE_OK ? lv->available : 0;
	if (now != SIDE_OK) {
		if (was == SIDE_OK && sd->status == SIDE_OK) {
			log_warn("store %s: %s: location %" PRIu64 " is %s; "
			    "left out of its group, which is not synced until "
			    "another of its locations reads active (read "
			    "again now)", x->e->c->stores[x->i].name, l->key,
			    mb->location, now == SIDE_INACTIVE ? "inactive" :
			    "not stocked");
			sd->status = now;
			sd->has_baseline = 0;
			rejoin_note(x->e, x->i, l);
		}
		return 0;
	}
	if (sd->status == SIDE_INACTIVE || sd->status == SIDE_MISSING ||
	    (sd->status == SIDE_OK && was != SIDE_OK)) {
		sd->status = SIDE_OK;	/* a fresh first sighting */
		sd->has_baseline = 0;
	}
	return sync_group_sum(l, x->i, q) || sd->has_baseline;
}

/*
 * Takes level lv into store i's single-location side of l.  Sets *q to
 * its quantity and returns 1 when the side is to be observed, else 0 (it
 * is read inactive or gone: not synced).
 */
static int
single_take(struct observe_ctx *x, struct link *l,
    const struct client_level *lv, int64_t *q)
{
	struct link_side *sd = &l->side[x->i];

	if (lv->level != 0)
		sd->level = lv->level;
	if (!lv->found || !lv->active) {
		if (sd->status == SIDE_OK) {
			sd->status = read_status(lv);
			sd->has_baseline = 0;
			log_warn("store %s: %s is %s; not synced",
			    x->e->c->stores[x->i].name, l->key,
			    lv->found ? "inactive" : "not stocked");
		}
		return 0;
	}
	if (sd->status == SIDE_INACTIVE || sd->status == SIDE_MISSING) {
		sd->status = SIDE_OK;	/* active again: a fresh first sighting */
		sd->has_baseline = 0;
	}
	*q = lv->available;
	return 1;
}

/*
 * Observes side i of l at quantity q, read at location loc: its change
 * reaches the others.
 */
static int
observe_side(struct state_txn *t, struct observe_ctx *x, struct link *l,
    uint64_t loc, int64_t q)
{
	struct link_side *sd = &l->side[x->i];
	int64_t before = sd->baseline, d;

	d = sync_observe(l, x->i, q, &x->e->pol);
	if (d == 0)
		return 0;
	x->e->changed++;
	x->found++;
	if (sync_change_large(before, d) && seen_add(&x->e->seen, l->key))
		x->e->large++;
	log_info("store %s: %s changed by %+" PRId64 " (%" PRId64 " -> %"
	    PRId64 ")", x->e->c->stores[x->i].name, l->key, d, before, q);
	if (audit_observed(t, x, l, loc, before, d) == -1)
		return -1;
	tally_owed(x->e, l, x->i);
	return 0;
}

/*
 * 1 when a read found level m of store i's side of l gone or inactive (the
 * side not synced, or the group member left out), else 0.
 */
static int
gone(const struct link *l, size_t i, size_t m)
{
	const struct link_side *sd = &l->side[i];

	return sd->status == SIDE_INACTIVE || sd->status == SIDE_MISSING ||
	    (sync_is_group(l, i) && l->pool[i].member[m].status != SIDE_OK);
}

/*
 * 1 when a first sighting's file may still give level m of store i's side
 * of l its quantity: no read has given it one yet, nor found it gone or
 * inactive (news newer than the file, whose rows may predate a deletion).
 */
static int
unsighted(const struct link *l, size_t i, size_t m)
{
	if (l->side[i].has_baseline || gone(l, i, m))
		return 0;
	return !sync_is_group(l, i) || !l->pool[i].member[m].seen;
}

/* Applies one observed level to its link.  Returns 0 or -1. */
static int
observe_one(struct state_txn *t, struct observe_ctx *x,
    const struct client_level *lv)
{
	char key[LINK_KEY_MAX];
	struct link link, *l = &link;
	struct link_side *sd;
	int64_t q = 0;
	int r, m, take, stamped;

	if ((r = state_link_find(t, (uint32_t)x->i, lv->item, lv->location,
	    key)) != 0)
		return r == 1 ? 0 : -1;		/* a level nobody links */
	if (state_link_get(t, key, l) != 0)
		return -1;
	sd = &l->side[x->i];
	if ((m = sync_member(l, x->i, lv->location)) < 0)
		return 0;
	/* a group member found, whatever comes of it: stocked in this pass */
	stamped = sync_is_group(l, x->i) && lv->found &&
	    l->pool[x->i].member[m].pass != x->passes;
	if (stamped)
		l->pool[x->i].member[m].pass = x->passes;
	if ((x->first_only || x->snapshot != 0) &&
	    gone(l, x->i, (size_t)m) && lv->found && lv->active)
		/* a file's rows may predate a deletion: only a live read
		   brings a level found gone back, and this one is due */
		rejoin_add(x->e, x->i, lv->item, lv->location, lv->level);
	if ((x->first_only && !unsighted(l, x->i, (size_t)m)) ||
	    (x->snapshot != 0 && (sd->touched == x->snapshot ||
	    gone(l, x->i, (size_t)m))))
		/* the polls' news is newer than a snapshot, or it was read
		   or written since it began, or found gone (above) */
		return stamped ? state_link_put(t, l) : 0;
	if (x->snapshot == 0)
		sd->touched = x->epoch;
	take = sync_is_group(l, x->i) ? group_take(x, l, (size_t)m, lv, &q) :
	    single_take(x, l, lv, &q);
	if ((take && observe_side(t, x, l, lv->location, q) == -1) ||
	    state_link_put(t, l) == -1)
		return -1;
	return 0;
}

static int
observe_txn(struct state_txn *t, void *arg)
{
	struct observe_ctx *x = arg;
	int64_t passes;
	size_t k;

	if (run_epoch(t, x->i, &x->epoch) == -1 ||
	    meta_get_i64(t, META_PASSES, x->i, &passes) == -1)
		return -1;
	x->passes = (uint16_t)passes;
	x->found = 0;
	for (k = 0; k < x->n; k++)
		if (observe_one(t, x, &x->lv[k]) == -1)
			return -1;
	return 0;
}

/* Observes n levels of store i in one transaction: 0, or -1 (LMDB failed). */
static int
observe(struct run *e, struct observe_ctx *x)
{
	size_t changed = e->changed, large = e->large;
	int r;

	if (x->n == 0)
		return 0;
	r = state_update(e->st, observe_txn, x);
	if (r != 0) {
		e->changed = changed;
		e->large = large;
	}
	return r == 0 ? 0 : -1;
}

int
run_observe_levels(struct run *e, size_t i, const struct client_level *lv,
    size_t n)
{
	struct observe_ctx x = { e, i, lv, n, 0, 0, 0, 0, 0 };

	return observe(e, &x);
}

int
run_observe_first(struct run *e, size_t i, const struct client_level *lv,
    size_t n)
{
	struct observe_ctx x = { e, i, lv, n, 1, 0, 0, 0, 0 };

	return observe(e, &x);
}

int
run_observe_snapshot(struct run *e, size_t i, const struct client_level *lv,
    size_t n, uint16_t epoch, size_t *found)
{
	struct observe_ctx x = { e, i, lv, n, 0, epoch, 0, 0, 0 };

	if (observe(e, &x) == -1)
		return -1;
	*found += x.found;
	return 0;
}

int
run_epoch(struct state_txn *t, size_t i, uint16_t *epoch)
{
	int64_t v;

	if (meta_get_i64(t, META_EPOCH, i, &v) == -1)
		return -1;
	*epoch = (uint16_t)v;
	return 0;
}

/*
 * The group sides of store x.i with a member the full pass that ends did
 * not find: not read since the pass before it ended (a member stamped
 * with an older count than `passes`), or never read.
 */
struct awaiting {
	struct observe_ctx	 x;
	uint16_t		 passes;	/* passes done before this one */
	char			(*key)[LINK_KEY_MAX];
	size_t			 n, cap, left;
};

/* 1 when member mb of a group side was not found by the pass ending. */
static int
not_found(const struct awaiting *w, const struct link_member *mb)
{
	return mb->status == SIDE_OK && (!mb->seen || mb->pass != w->passes);
}

static int
collect_awaiting(const struct link *l, void *arg)
{
	struct awaiting *w = arg;
	const struct link_pool *gp = &l->pool[w->x.i];
	size_t m, seen = 0, missed = 0;

	if (l->side[w->x.i].item == 0 || l->side[w->x.i].status != SIDE_OK ||
	    !sync_is_group(l, w->x.i))
		return 0;
	for (m = 0; m < gp->nmembers; m++) {
		seen += gp->member[m].seen;
		missed += not_found(w, &gp->member[m]);
	}
	if (seen == 0 || missed == 0)
		return 0;	/* at none of them (unsighted), or all found */
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->key = xreallocarray(w->key, w->cap, sizeof(*w->key));
	}
	snprintf(w->key[w->n++], LINK_KEY_MAX, "%s", l->key);
	return 0;
}

/*
 * The members of the side of key that the pass did not find are not
 * stocked there: they leave the sum, and nothing is passed on.  A side
 * awaiting its first sighting is sighted with the others' sum; a sighted
 * one stops being synced until another member reads active, as when a
 * read finds a member gone (group_take()): a pass may be a bulk file whose
 * rows were read while it ran, so a product deleted meanwhile can show
 * some members and not others.
 */
static int
settle_one(struct state_txn *t, struct awaiting *w, const char *key)
{
	struct link l;
	struct link_side *sd = &l.side[w->x.i];
	struct link_member *mb;
	int64_t q;
	size_t m, active = 0;
	int r;

	if ((r = state_link_get(t, key, &l)) != 0)
		return r == 1 ? 0 : -1;
	for (m = 0; m < l.pool[w->x.i].nmembers; m++) {
		mb = &l.pool[w->x.i].member[m];
		if (not_found(w, mb)) {
			if (mb->seen)
				w->left++;
			mb->status = SIDE_MISSING;
			mb->seen = 0;
			mb->quantity = 0;
		}
		active += mb->status == SIDE_OK;
	}
	if (active == 0 || sd->has_baseline) {
		sd->status = SIDE_MISSING;
		sd->has_baseline = 0;
		rejoin_note(w->x.e, w->x.i, &l);
	} else {
		(void)sync_group_sum(&l, w->x.i, &q);
		if (observe_side(t, &w->x, &l, sd->location, q) == -1)
			return -1;
	}
	return state_link_put(t, &l);
}

static int
settle_groups_txn(struct state_txn *t, void *arg)
{
	struct awaiting *w = arg;
	int64_t passes;
	size_t k;

	if (meta_get_i64(t, META_PASSES, w->x.i, &passes) == -1)
		return -1;
	w->passes = (uint16_t)passes;
	w->n = w->left = 0;
	if (state_link_each(t, collect_awaiting, w) == -1)
		return -1;
	for (k = 0; k < w->n; k++)
		if (settle_one(t, w, w->key[k]) == -1)
			return -1;
	return meta_put_i64(t, META_PASSES, w->x.i,
	    (uint16_t)(w->passes + 1));
}

/* 1 when store i has a group of two locations or more, else 0. */
static int
store_has_groups(const struct run *e, size_t i)
{
	size_t g;

	for (g = 0; g < e->ngroups; g++)
		if (linkloc_members(&e->g[g], i) >= 2)
			return 1;
	return 0;
}

int
run_levels_sighted(struct run *e, size_t i, int64_t at)
{
	struct awaiting w;
	int r = 0;

	if (store_has_groups(e, i)) {
		memset(&w, 0, sizeof(w));
		w.x.e = e;
		w.x.i = i;
		r = state_update(e->st, settle_groups_txn, &w);
		if (w.n > 0)
			log_info("store %s: %zu group sides without the "
			    "locations its full pass did not find (%zu stocked "
			    "before: not synced until another reads active)",
			    e->c->stores[i].name, w.n, w.left);
		free(w.key);
	}
	if (r != 0 || run_meta_set(e, META_RECONCILE, i, at) == -1)
		return -1;
	return run_pass_forget(e, i);
}
