/*
 * sim_shop.c: owns the simulated Shopify stores: levels with `available`,
 * compare-and-set, idempotency keys with the retention and replay answer
 * the seed chose (docs/shopify-api.md §3.4 leaves both open), the
 * updated_at search index with lag and misses.  Only what the agent relies
 * on, and as unkind as Shopify may be.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

struct sim_shop	sim_shops[SIM_STORES];
size_t		sim_nshops;

/* Ids differ between stores, as Shopify's do. */
static uint64_t
sim_id(int store, int kind, size_t k)
{
	return (uint64_t)(store + 1) * 1000000 + (uint64_t)kind * 10000 + k + 1;
}

void
sim_location_name(size_t k, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "Warehouse %c", (char)('A' + k));
}

void
sim_shop_init(struct sim_shop *s, int i, size_t nlocs, size_t nvariants)
{
	size_t v, k;

	memset(s, 0, sizeof(*s));
	s->index = i;
	s->bucket_size = s->bucket = 2000;	/* Standard (sim.c may choose) */
	s->bucket_rate = 100;
	s->bucket_at = sim_now;
	s->nlocs = nlocs;
	for (k = 0; k < nlocs; k++)
		s->loc[k] = sim_id(i, 1, k);
	s->nvariants = nvariants;
	for (v = 0; v < nvariants; v++) {
		struct sim_variant *sv = &s->var[v];

		sv->id = sim_id(i, 2, v);
		sv->item = sim_id(i, 3, v);
		sv->product = sim_id(i, 4, v / 2);
		snprintf(sv->handle, sizeof(sv->handle), "product-%zu", v / 2);
		snprintf(sv->sku, sizeof(sv->sku), "SKU-%zu", v);
		sv->updated_ms = sim_now - 3600000;
		for (k = 0; k < nlocs; k++) {
			struct sim_level *l = &s->lvl[s->nlevels++];

			l->id = sim_id(i, 5, v * SIM_LOCS + k);
			l->var = v;
			l->loc = k;
			l->item = sv->item;
			l->location = s->loc[k];
			l->available = (int64_t)sim_below(30);
			l->active = 1;
			l->updated_ms = l->indexed_ms = sim_now - 3600000;
			l->index_due_ms = 0;
		}
	}
}

struct sim_level *
sim_shop_level(struct sim_shop *s, uint64_t item, uint64_t location)
{
	size_t k;

	for (k = 0; k < s->nlevels; k++)
		if (s->lvl[k].item == item && s->lvl[k].location == location)
			return s->lvl[k].gone ? NULL : &s->lvl[k];
	return NULL;
}

int64_t
sim_edit_grace(const struct sim_shop *s)
{
	return SIM_EDIT_GRACE_MS + (s->down_until != 0 ? SIM_BACKOFF_CAP_MS : 0);
}

/* A level moved now: updatedAt moves; the search index follows later. */
static void
touch(struct sim_shop *s, struct sim_level *l)
{
	l->updated_ms = sim_now;
	if (sim_chance(s->miss_permille))
		l->index_due_ms = INT64_MAX;	/* until the level moves again */
	else
		l->index_due_ms = sim_now +
		    (s->lag_ms > 0 ? (int64_t)sim_below((uint32_t)s->lag_ms) : 0);
}

int
sim_shop_spend(struct sim_shop *s, double requested, double actual,
    int64_t *wait_ms)
{
	s->bucket += (double)(sim_now - s->bucket_at) * s->bucket_rate / 1000;
	if (s->bucket > s->bucket_size)
		s->bucket = s->bucket_size;
	s->bucket_at = sim_now;
	*wait_ms = 0;
	if (s->bucket >= requested) {
		s->bucket -= actual;
		return 0;
	}
	*wait_ms = (int64_t)((requested - s->bucket) * 1000 / s->bucket_rate) +
	    1;
	return -1;
}

/* As a deleted product: in no answer, its levels gone. */
void
sim_shop_hide(struct sim_shop *s, size_t v)
{
	size_t k;

	s->var[v].deleted = 1;
	for (k = 0; k < s->nlevels; k++)
		if (s->lvl[k].var == v)
			s->lvl[k].gone = 1;
}

/* The merchant deactivates level l (its location no longer stocks the
   item: 2026-07 answers no such level) or activates it again, with what
   it held. */
void
sim_shop_set_active(struct sim_shop *s, struct sim_level *l, int active)
{
	sim_trace("store %d: %s level %" PRIu64 " (%" PRId64 ")", s->index,
	    active ? "activates" : "deactivates", l->id, l->available);
	l->active = active;
	touch(s, l);
}

/* Created now, with the quantities it was drawn with, stocked where its
   levels are not marked unstocked. */
void
sim_shop_create(struct sim_shop *s, size_t v)
{
	size_t k;

	sim_trace("store %d: creates variant %zu", s->index, v);
	s->var[v].deleted = 0;
	s->var[v].updated_ms = sim_now;
	for (k = 0; k < s->nlevels; k++)
		if (s->lvl[k].var == v && !s->lvl[k].unstocked) {
			s->lvl[k].gone = 0;
			touch(s, &s->lvl[k]);
		}
}

void
sim_shop_edit(struct sim_shop *s, size_t v, enum sim_edit e)
{
	static const char *const what[] = { "renames the handle of",
	    "edits the SKU of", "deletes the product of",
	    "copies to its partner the SKU of", "edits the title of" };
	struct sim_variant *sv = &s->var[v], *w = &s->var[sv->partner];

	sim_trace("store %d: %s variant %zu", s->index, what[e], v);
	if (e == EDIT_TOUCH) {
		sv->updated_ms = sim_now;
		return;
	}
	sv->edited_ms = sim_now;
	if (e == EDIT_COPY) {	/* only the partner is edited */
		if (w != sv)
			memcpy(w->sku, sv->sku, sizeof(w->sku));
		w->updated_ms = w->edited_ms = sim_now;
		return;
	}
	sv->updated_ms = sim_now;
	if (e == EDIT_RENAME)
		snprintf(sv->handle, sizeof(sv->handle), "renamed-%zu", v);
	else if (e == EDIT_SKU)
		snprintf(sv->sku, sizeof(sv->sku), "SKU-%zu-new", v);
	else
		sim_shop_hide(s, v);
}


void
sim_shop_change(struct sim_shop *s, struct sim_level *l, int64_t d)
{
	sim_trace("store %d: external %+" PRId64 " at level %" PRIu64
	    " (%" PRId64 " -> %" PRId64 ")", s->index, d, l->id, l->available,
	    l->available + d);
	l->available += d;
	touch(s, l);
}

static uint64_t
params_hash(const struct sim_change *ch, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p = (const unsigned char *)ch;
	size_t k, i;

	for (k = 0; k < n; k++)
		for (i = 0; i < sizeof(*ch); i++)
			h = (h ^ p[k * sizeof(*ch) + i]) * 1099511628211ULL;
	return h ^ n;
}

static struct sim_key *
key_find(struct sim_shop *s, const char *key)
{
	size_t k;

	for (k = 0; k < SIM_KEYS; k++)
		if (s->keys[k].state != KEY_FREE &&
		    strcmp(s->keys[k].key, key) == 0)
			return &s->keys[k];
	return NULL;
}

static struct sim_key *
key_new(struct sim_shop *s, const char *key)
{
	size_t k, oldest = 0;

	for (k = 0; k < SIM_KEYS; k++) {
		if (s->keys[k].state == KEY_FREE)
			break;
		if (s->keys[k].state == KEY_DONE &&
		    s->keys[k].forget_ms < s->keys[oldest].forget_ms)
			oldest = k;
	}
	if (k == SIM_KEYS)
		k = oldest;	/* full: the store forgets the oldest */
	memset(&s->keys[k], 0, sizeof(s->keys[k]));
	snprintf(s->keys[k].key, sizeof(s->keys[k].key), "%s", key);
	return &s->keys[k];
}

void
sim_shop_tick(struct sim_shop *s)
{
	size_t k;

	for (k = 0; k < SIM_KEYS; k++) {
		struct sim_key *sk = &s->keys[k];

		if (sk->state != KEY_DONE)
			continue;
		if (sim_now >= sk->forget_ms || sim_chance(s->evict_permille)) {
			sim_trace("store %d: forgets key %.8s", s->index,
			    sk->key);
			sk->state = KEY_FREE;
		}
	}
}

/*
 * Runs the changes as one all-or-nothing mutation: every change must name
 * a level, an active one (2026-07: ITEM_NOT_STOCKED_AT_LOCATION), and match
 * its changeFromQuantity, or nothing is written.
 */
static void
run(struct sim_shop *s, const char *key, const struct sim_change *ch,
    size_t n, struct adjust_result *res)
{
	struct sim_level *l;
	size_t k;

	memset(res, 0, sizeof(*res));
	res->bad_index = -1;
	for (k = 0; k < n; k++) {
		if ((l = sim_shop_level(s, ch[k].item, ch[k].location)) == NULL) {
			res->outcome = ADJUST_REFUSED;
			snprintf(res->code, sizeof(res->code),
			    "INVALID_INVENTORY_ITEM");
			res->bad_index = (int)k;
			return;
		}
		if (!l->active) {
			res->outcome = ADJUST_REFUSED;
			snprintf(res->code, sizeof(res->code),
			    "ITEM_NOT_STOCKED_AT_LOCATION");
			res->bad_index = (int)k;
			return;
		}
		if (ch[k].delta != 0 && !ch[k].has_from)
			sim_fail("store %d: key %.8s: a write without "
			    "compare-and-set", s->index, key);
		if (ch[k].has_from && l->available != ch[k].from) {
			res->outcome = ADJUST_STALE;
			snprintf(res->code, sizeof(res->code),
			    "CHANGE_FROM_QUANTITY_STALE");
			res->bad_index = (int)k;
			return;
		}
	}
	for (k = 0; k < n; k++) {
		l = sim_shop_level(s, ch[k].item, ch[k].location);
		if (ch[k].delta == 0)
			continue;
		if (s->var[l->var].edited_ms != 0 &&
		    sim_now > s->var[l->var].edited_ms + sim_edit_grace(s))
			sim_fail("store %d: key %.8s writes to level %" PRIu64
			    ", unlinked by a catalog edit %" PRId64 " ms before",
			    s->index, key, l->id,
			    sim_now - s->var[l->var].edited_ms);
		sim_trace("store %d: key %.8s writes %+" PRId64 " at level %"
		    PRIu64 " (%" PRId64 " -> %" PRId64 ")", s->index, key,
		    ch[k].delta, l->id, l->available,
		    l->available + ch[k].delta);
		l->available += ch[k].delta;
		touch(s, l);
	}
	res->outcome = ADJUST_APPLIED;
	if (n > 0 && ch[0].delta != 0)
		sim_batch_ran(key);	/* not a probe's no-op */
}

/* Records what a finished run answered, for the replays. */
static void
remember(struct sim_shop *s, struct sim_key *sk,
    const struct adjust_result *res)
{
	sk->state = KEY_DONE;
	sk->outcome = res->outcome;
	sk->forget_ms = sim_now + s->retention_ms;
	if (s->retention_ms == 0)
		sk->state = KEY_FREE;	/* forgotten at once */
}

static void
answer(struct adjust_result *res, enum adjust_outcome o, const char *code)
{
	memset(res, 0, sizeof(*res));
	res->bad_index = -1;
	res->outcome = o;
	snprintf(res->code, sizeof(res->code), "%s", code);
}

void
sim_shop_adjust(struct sim_shop *s, const char *key,
    const struct sim_change *ch, size_t n, int in_flight,
    struct adjust_result *res)
{
	uint64_t h = params_hash(ch, n);
	struct sim_key *sk;

	sim_shop_tick(s);
	if ((sk = key_find(s, key)) != NULL) {
		if (sk->state == KEY_IN_FLIGHT) {
			answer(res, ADJUST_CONCURRENT,
			    "IDEMPOTENCY_CONCURRENT_REQUEST");
			return;
		}
		if (sk->params != h) {
			answer(res, ADJUST_KEY_MISMATCH,
			    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH");
			return;
		}
		switch (s->replay) {
		case REPLAY_ORIGINAL:
			answer(res, sk->outcome, sk->outcome == ADJUST_APPLIED ?
			    "" : sk->outcome == ADJUST_STALE ?
			    "CHANGE_FROM_QUANTITY_STALE" :
			    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED");
			if (sk->outcome == ADJUST_REFUSED)
				res->outcome = ADJUST_PREVIOUS_FAILED;
			return;
		case REPLAY_STALE:
			answer(res, ADJUST_STALE, "CHANGE_FROM_QUANTITY_STALE");
			return;
		case REPLAY_REEXECUTE:
		case REPLAY_MODES:
			run(s, key, ch, n, res);
			return;
		}
	}
	sk = key_new(s, key);
	sk->params = h;
	sk->n = n < SIM_LEVELS ? n : SIM_LEVELS;
	memcpy(sk->ch, ch, sk->n * sizeof(*ch));
	if (in_flight) {
		sk->state = KEY_IN_FLIGHT;
		sk->outcome = ADJUST_REFUSED;
		sim_trace("store %d: key %.8s arrives, still running",
		    s->index, key);
		answer(res, ADJUST_CONCURRENT, "");
		return;
	}
	run(s, key, ch, n, res);
	remember(s, sk, res);
}

/* The run of a slow request ends: it sees the levels as they are now. */
void
sim_shop_finish(struct sim_shop *s, const char *key)
{
	struct sim_key *sk = key_find(s, key);
	struct adjust_result res;

	if (sk == NULL || sk->state != KEY_IN_FLIGHT)
		return;
	run(s, key, sk->ch, sk->n, &res);
	sim_trace("store %d: slow key %.8s finishes: %s", s->index, key,
	    res.outcome == ADJUST_APPLIED ? "applied" : res.code);
	remember(s, sk, &res);
}
