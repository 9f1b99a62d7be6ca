/*
 * catalog.c: owns linking (docs/design.md §3): a store's product variants become
 * sides of links, one per linked location group, keyed by handle (+ SKU or
 * options), SKU or barcode.  A key twice in one store is refused for that
 * store, until a full load sees one item with it; a handle or SKU edit
 * moves the side to its new link; a variant gone from a full load leaves
 * its link.
 *
 * Return conventions: catalog_refresh(), catalog_full_end(), read_variants()
 * and refresh_done() return an enum step (run.h); transaction callbacks and
 * what they call return 0 or -1, as do flush() and catalog_new_gen().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "meta.h"
#include "util.h"

#define CATALOG_PAGE	100	/* variants linked per transaction */

/*
 * A key a full load found store i's side of held as a duplicate: the
 * first item the load saw with it (and where, and its status), and
 * whether it saw another.
 */
struct dup_seen {
	char			 key[LINK_KEY_MAX];
	uint64_t		 item;
	size_t			 g;	/* the location group */
	enum side_status	 status;	/* the item's variant_status() */
	int			 again;
};

struct catalog_ctx {
	struct run		*e;
	size_t			 i;
	uint32_t		 gen;	/* 0 on incremental refreshes */
	struct client_variant	*page;
	size_t			 n;
	size_t			 linked, relinked, duplicates;
	int			 failed;
	int			 new_sides;
	struct dup_seen		*dup;	/* a full load's duplicate keys */
	size_t			 ndup, capdup;
};

/* Transaction callbacks and the functions they call return 0 or -1. */
static int
audit_link(struct state_txn *t, enum audit_kind kind, size_t store,
    const char *key, const char *note)
{
	struct audit_entry a;

	memset(&a, 0, sizeof(a));
	a.kind = kind;
	a.store = (uint32_t)store;
	snprintf(a.link, sizeof(a.link), "%s", key);
	snprintf(a.note, sizeof(a.note), "%s", note);
	return state_audit_append(t, &a);
}

/* Removes store i's side from link key; deletes a link left empty. */
static int
unlink_side(struct state_txn *t, size_t i, const char *key, const char *why)
{
	struct link l;
	size_t s;
	int r;

	if ((r = state_link_get(t, key, &l)) != 0)
		return r == 1 ? 0 : -1;
	memset(&l.side[i], 0, sizeof(l.side[i]));
	memset(&l.pool[i], 0, sizeof(l.pool[i]));
	log_info("store side %zu left %s (%s)", i, key, why);
	if (audit_link(t, AUDIT_UNLINKED, i, key, why) == -1)
		return -1;
	for (s = 0; s < l.nsides; s++)
		if (l.side[s].item != 0)
			return state_link_put(t, &l);
	return state_link_del(t, key);
}

/*
 * The note of a side re-linked as key into why: CATALOG_WHY_RELINKED and
 * the key, cut with "..." between two UTF-8 characters when long.
 */
static void
relinked_note(char why[AUDIT_NOTE_MAX], const char *key)
{
	int n = snprintf(why, AUDIT_NOTE_MAX, "%s%s", CATALOG_WHY_RELINKED, key);
	size_t cut = AUDIT_NOTE_MAX - 4;

	if (n >= 0 && n < AUDIT_NOTE_MAX)
		return;
	while (cut > 0 && ((unsigned char)why[cut] & 0xc0) == 0x80)
		cut--;
	memcpy(why + cut, "...", 4);
}

static enum side_status
variant_status(const struct client_variant *v)
{
	if (!v->tracked)
		return SIDE_UNTRACKED;
	if (v->bundle)
		return SIDE_BUNDLE;
	return SIDE_OK;
}

/* 1 when side pool p has the members of store i in group gr, else 0. */
static int
same_members(const struct link_pool *p, const struct group *gr, size_t i)
{
	size_t m, n = linkloc_members(gr, i);

	if (n < 2)
		return p->nmembers < 2;
	if (p->nmembers != n)
		return 0;
	for (m = 0; m < n; m++)
		if (p->member[m].location != gr->member[i][m])
			return 0;
	return 1;
}

/* A side linked afresh: store i's members in group gr, none read yet. */
static void
set_members(struct link_pool *p, const struct group *gr, size_t i)
{
	size_t m, n = linkloc_members(gr, i);

	memset(p, 0, sizeof(*p));
	if (n < 2)
		return;
	p->nmembers = (uint32_t)n;
	for (m = 0; m < n; m++)
		p->member[m].location = gr->member[i][m];
}

/* Link key into *l: as stored, or new and empty.  0 or -1. */
static int
link_or_new(struct state_txn *t, const struct run *e, const char *key,
    struct link *l)
{
	int r;

	if ((r = state_link_get(t, key, l)) == -1)
		return -1;
	if (r == 1) {
		memset(l, 0, sizeof(*l));
		snprintf(l->key, sizeof(l->key), "%s", key);
		l->nsides = e->nstores;
	}
	return 0;
}

/*
 * Store x->i's side of l linked afresh to item at group g: a new side,
 * no level or member read yet, to be sighted under `initial`.  0 or -1.
 */
static int
link_side_afresh(struct state_txn *t, struct catalog_ctx *x, struct link *l,
    uint64_t item, size_t g)
{
	struct link_side *sd = &l->side[x->i];

	memset(sd, 0, sizeof(*sd));
	sd->item = item;
	sd->location = x->e->g[g].loc[x->i];
	set_members(&l->pool[x->i], &x->e->g[g], x->i);
	x->linked++;
	x->new_sides = 1;
	return audit_link(t, AUDIT_LINKED, x->i, l->key, "linked");
}

/*
 * Notes in x that this full load saw item v with duplicate key (again: a
 * second item with it).
 */
static void
dup_note(struct catalog_ctx *x, const char *key,
    const struct client_variant *v, size_t g, int again)
{
	struct dup_seen *d;
	size_t k;

	for (k = 0; k < x->ndup; k++)
		if (strcmp(x->dup[k].key, key) == 0) {
			x->dup[k].again |= again || x->dup[k].item != v->item;
			return;
		}
	if (x->ndup == x->capdup) {
		x->capdup = x->capdup ? x->capdup * 2 : 16;
		x->dup = xreallocarray(x->dup, x->capdup, sizeof(*x->dup));
	}
	d = &x->dup[x->ndup++];
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->item = v->item;
	d->g = g;
	d->status = variant_status(v);
	d->again = again;
}

/*
 * Variant v has l's key, which store x->i's side holds as a duplicate: the
 * side stays out of syncing, whichever item v is and however often it is
 * seen, until a full load sees a single item with the key
 * (undup_txn()).  No warning again.
 */
static int
duplicate_seen(struct state_txn *t, struct catalog_ctx *x, struct link *l,
    const struct client_variant *v, size_t g)
{
	if (x->gen == 0)
		return 0;	/* a refresh sees some items, not all */
	dup_note(x, l->key, v, g, 0);
	l->side[x->i].catalog_gen = x->gen;	/* not gone */
	return state_link_put(t, l);
}

/* Links variant v of store x->i at group g.  Returns 0 or -1. */
static int
link_variant(struct state_txn *t, struct catalog_ctx *x,
    const struct client_variant *v, size_t g)
{
	struct run *e = x->e;
	uint64_t loc = e->g[g].loc[x->i];
	char key[LINK_KEY_MAX], old[LINK_KEY_MAX];
	struct link_side *sd;
	struct link l;
	int r;

	if (sync_link_key(e->c->match, v->handle, v->sku, v->barcode,
	    v->options, e->g[g].loc[0], key,
	    sizeof(key)) == -1)
		return 0;	/* no key under this match: not linked */
	if ((r = state_link_find(t, (uint32_t)x->i, v->item, loc, old)) == -1)
		return -1;
	if (r == 0 && strcmp(old, key) != 0) {
		/* a handle or SKU edit: the side moves to its new key */
		char why[AUDIT_NOTE_MAX];

		relinked_note(why, key);
		if (unlink_side(t, x->i, old, why) == -1)
			return -1;
		x->relinked++;
		log_notice("store %s: %s re-linked as %s",
		    e->c->stores[x->i].name, old, key);
	}
	if (link_or_new(t, e, key, &l) == -1)
		return -1;
	sd = &l.side[x->i];
	if (sd->item != 0 && sd->status == SIDE_DUPLICATE)
		return duplicate_seen(t, x, &l, v, g);
	if (sd->item != 0 && sd->item != v->item &&
	    (x->gen == 0 || sd->catalog_gen == x->gen)) {
		x->duplicates++;
		log_warn("store %s: %s is not unique (items %" PRIu64 " and %"
		    PRIu64 "); not synced until one item has it",
		    e->c->stores[x->i].name, key, sd->item, v->item);
		sd->status = SIDE_DUPLICATE;
		sd->has_baseline = 0;	/* a fresh first sighting after */
		if (x->gen != 0)
			dup_note(x, key, v, g, 1);
		return state_link_put(t, &l);
	}
	if ((sd->item != v->item || sd->location != loc ||
	    !same_members(&l.pool[x->i], &e->g[g], x->i)) &&
	    link_side_afresh(t, x, &l, v->item, g) == -1)
		return -1;
	if (sd->status != SIDE_INACTIVE && sd->status != SIDE_MISSING)
		sd->status = variant_status(v);
	if (x->gen != 0)
		sd->catalog_gen = x->gen;
	return state_link_put(t, &l);
}

static int
catalog_txn(struct state_txn *t, void *arg)
{
	struct catalog_ctx *x = arg;
	size_t k, g;

	for (k = 0; k < x->n; k++)
		for (g = 0; g < x->e->ngroups; g++)
			if (link_variant(t, x, &x->page[k], g) == -1)
				return -1;
	return 0;
}

static int
flush(struct catalog_ctx *x)
{
	int r = state_update(x->e->st, catalog_txn, x);

	x->n = 0;
	if (r != 0) {
		x->failed = 1;
		return -1;
	}
	return 0;
}

static int
on_variant(const struct client_variant *v, void *arg)
{
	struct catalog_ctx *x = arg;

	x->page[x->n++] = *v;
	if (x->n == CATALOG_PAGE)
		return flush(x);
	return 0;
}

/*
 * After a full load: sides of store i this load did not see leave, as gone
 * from the store, or as at a location no group links any more.
 */
struct gone_side {
	char	key[LINK_KEY_MAX];
	int	location_unlinked;
};

struct sweep_ctx {
	const struct run	*e;
	size_t			 i;
	uint32_t		 gen;
	struct gone_side	*gone;
	size_t			 n, cap;
};

/* 1 when location loc of store i is in a linked location group, else 0. */
static int
location_linked(const struct run *e, size_t i, uint64_t loc)
{
	size_t g;

	for (g = 0; g < e->ngroups; g++)
		if (e->g[g].loc[i] == loc)
			return 1;
	return 0;
}

static int
collect_gone(const struct link *l, void *arg)
{
	struct sweep_ctx *w = arg;
	const struct link_side *sd = &l->side[w->i];

	if (sd->item == 0 || sd->catalog_gen == w->gen)
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->gone = xreallocarray(w->gone, w->cap, sizeof(*w->gone));
	}
	snprintf(w->gone[w->n].key, LINK_KEY_MAX, "%s", l->key);
	w->gone[w->n++].location_unlinked =
	    !location_linked(w->e, w->i, sd->location);
	return 0;
}

static int
sweep_txn(struct state_txn *t, void *arg)
{
	struct sweep_ctx *w = arg;
	size_t k;

	w->n = 0;
	if (state_link_each(t, collect_gone, w) == -1)
		return -1;
	for (k = 0; k < w->n; k++)
		if (unlink_side(t, w->i, w->gone[k].key,
		    w->gone[k].location_unlinked ? CATALOG_WHY_LOCATION :
		    CATALOG_WHY_GONE) == -1)
			return -1;
	return 0;
}

/*
 * After a full load: a duplicate key it saw one item with is that item's
 * again, sighted afresh (the side was not synced meanwhile).  So too when
 * the other item took its side away by moving to a new key (its side, or
 * the link, is gone).
 */
static int
undup_one(struct state_txn *t, struct catalog_ctx *x, const struct dup_seen *d)
{
	struct link l;
	struct link_side *sd = &l.side[x->i];

	if (link_or_new(t, x->e, d->key, &l) == -1)
		return -1;
	if (sd->item != 0 && sd->status != SIDE_DUPLICATE)
		return 0;
	if (link_side_afresh(t, x, &l, d->item, d->g) == -1)
		return -1;
	sd->status = d->status;
	sd->catalog_gen = x->gen;
	log_notice("store %s: %s is unique again (item %" PRIu64 "); synced "
	    "from its next reading", x->e->c->stores[x->i].name, d->key,
	    d->item);
	return state_link_put(t, &l);
}

static int
undup_txn(struct state_txn *t, void *arg)
{
	struct catalog_ctx *x = arg;
	size_t k;

	for (k = 0; k < x->ndup; k++)
		if (!x->dup[k].again && undup_one(t, x, &x->dup[k]) == -1)
			return -1;
	return 0;
}

struct gen_ctx {
	size_t		i;
	uint32_t	gen;
	int64_t		start;
	int		full;
};

static int
next_gen_txn(struct state_txn *t, void *arg)
{
	struct gen_ctx *g = arg;
	int64_t v = 0;

	if (meta_get_i64(t, META_GEN, 0, &v) == -1)
		return -1;
	g->gen = (uint32_t)(v + 1);
	if (g->gen == 0)
		g->gen = 1;
	return meta_put_i64(t, META_GEN, 0, g->gen);
}

static int
done_txn(struct state_txn *t, void *arg)
{
	struct gen_ctx *g = arg;

	if (meta_put_i64(t, META_CATALOG, g->i, g->start) == -1)
		return -1;
	if (g->full)
		return meta_put_i64(t, META_CATALOGFULL, g->i, g->start);
	return 0;
}

int
catalog_new_gen(struct run *e, uint32_t *gen)
{
	struct gen_ctx g = { 0, 0, 0, 1 };

	if (state_update(e->st, next_gen_txn, &g) != 0)
		return -1;
	*gen = g.gen ? g.gen : 1;
	return 0;
}

/*
 * Reads store i's variants updated since (ms; 0: all of them) into x, a
 * page of CATALOG_PAGE per transaction.  Returns STEP_DONE,
 * STEP_STORE_FAILED (backed off) or STEP_STATE_FAILED.
 */
static enum step
read_variants(struct catalog_ctx *x, int64_t since)
{
	enum client_result cr;

	cr = client_catalog(x->e->s[x->i].cl, since, on_variant, x);
	if (cr == CLIENT_OK && !x->failed && x->n > 0)
		flush(x);
	if (x->failed)
		return STEP_STATE_FAILED;
	if (cr != CLIENT_OK) {
		run_store_failed(x->e, x->i, "reading the catalog", cr);
		return STEP_STORE_FAILED;
	}
	return STEP_DONE;
}

/*
 * Ends a refresh begun at start: a full one unlinks what it did not see;
 * both record when they began.  Returns STEP_DONE or STEP_STATE_FAILED.
 */
static enum step
refresh_done(struct catalog_ctx *x, int full, int64_t start)
{
	struct run *e = x->e;
	struct gen_ctx g = { x->i, 0, start, full };
	struct sweep_ctx w = { e, x->i, x->gen, NULL, 0, 0 };
	int r = 0;

	if (full) {
		if (x->ndup > 0)
			r = state_update(e->st, undup_txn, x);
		if (r == 0)
			r = state_update(e->st, sweep_txn, &w);
		free(w.gone);
	}
	if (r != 0 || state_update(e->st, done_txn, &g) != 0)
		return STEP_STATE_FAILED;
	/* new sides need a first sighting: the next poll reads every level */
	if (x->new_sides && run_meta_set(e, META_RECONCILE, x->i, 0) != 0)
		return STEP_STATE_FAILED;
	if (full || x->linked || x->relinked)
		log_info("store %s: catalog %s: %zu new links, %zu re-linked, "
		    "%zu duplicates, %zu gone", e->c->stores[x->i].name,
		    full ? "loaded" : "refreshed", x->linked, x->relinked,
		    x->duplicates, w.n);
	return STEP_DONE;
}

enum step
catalog_refresh(struct run *e, size_t i, int full)
{
	struct catalog_ctx x;
	int64_t start = util_now_ms(), last = 0;
	enum step r;

	memset(&x, 0, sizeof(x));
	x.e = e;
	x.i = i;
	if (full && catalog_new_gen(e, &x.gen) == -1)
		return STEP_STATE_FAILED;
	/* incremental: since the last refresh (META_CATALOG), less overlap */
	if (!full && run_meta_get(e, META_CATALOG, i, &last) == -1)
		return STEP_STATE_FAILED;
	x.page = xcalloc(CATALOG_PAGE, sizeof(*x.page));
	/* updated_at is on Shopify's clock (run_shop_time()), last on ours */
	r = read_variants(&x, full ? 0 :
	    run_shop_time(e, i, last - e->c->overlap_ms));
	free(x.page);
	if (r == STEP_DONE)
		r = refresh_done(&x, full, start);
	free(x.dup);
	return r;
}

struct catalog_ctx *
catalog_full_begin(struct run *e, size_t i, uint32_t gen)
{
	struct catalog_ctx *x = xcalloc(1, sizeof(*x));

	x->e = e;
	x->i = i;
	x->gen = gen;
	x->page = xcalloc(CATALOG_PAGE, sizeof(*x->page));
	return x;
}

int
catalog_full_variant(struct catalog_ctx *x, const struct client_variant *v)
{
	return on_variant(v, x);
}

enum step
catalog_full_end(struct catalog_ctx *x, int64_t start)
{
	int64_t last, since;
	enum step r;

	if (x->n > 0)
		(void)flush(x);	/* a failure sets x->failed */
	/*
	 * What changed while the snapshot was taken: everything updated since
	 * the last refresh (or since the load began, if it is the first),
	 * stamped with this load's generation so the sweep
	 * keeps it, and read after the file so that it wins.
	 */
	if (x->failed || run_meta_get(x->e, META_CATALOG, x->i, &last) == -1) {
		catalog_full_abort(x);
		return STEP_STATE_FAILED;
	}
	since = run_shop_time(x->e, x->i, (last > 0 && last < start ? last :
	    start) - x->e->c->overlap_ms);
	r = read_variants(x, since > 0 ? since : 1);
	if (r == STEP_DONE)
		r = refresh_done(x, 1, start);
	else	/* the file's links are older news: the store is left
		   alone (engine.c cycle()) until a refresh succeeds */
		x->e->s[x->i].catalog_read = 0;
	catalog_full_abort(x);
	return r;
}

void
catalog_full_abort(struct catalog_ctx *x)
{
	free(x->page);
	free(x->dup);
	free(x);
}
