/*
 * sim_client.c: owns the seam: client.h implemented over the simulated
 * stores of sim_shop.c, with the faults of the schedule injected where the
 * real client meets them (docs/simulation.md).
 *
 * What the real client.c turns a fault into is what this file returns:
 * reads fail as CLIENT_TRANSIENT (5xx, reset, timeout) or CLIENT_BAD_REPLY
 * (garbage, null fields); a write fails before its first byte (TRANSIENT,
 * nothing sent), after it (UNKNOWN: lost on the way, or ran with its
 * answer lost, or still running), or is THROTTLED (it did not run).
 * Every request is a crash point, and so is the moment after `sent` is
 * journaled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"
#include "util.h"

struct client {
	size_t			 i;
	char			 name[CONF_NAME_MAX];
	struct client_stats	 stats;
};

struct sim_faults	sim_faults;

struct client *
client_new(const struct conf *c, size_t i, volatile int *stop)
{
	struct client *cl = xcalloc(1, sizeof(*cl));

	(void)stop;
	cl->i = i;
	snprintf(cl->name, sizeof(cl->name), "%s", c->stores[i].name);
	cl->stats.restore = 1000;	/* a Plus bucket: reconciliation paces
					   itself by it */
	cl->stats.maximum = cl->stats.available = 20000;
	return cl;
}

void
client_free(struct client *cl)
{
	free(cl);
}

const char *
client_name(const struct client *cl)
{
	return cl->name;
}

const struct client_stats *
client_stats(const struct client *cl)
{
	return &cl->stats;
}

static struct sim_shop *
shop(const struct client *cl)
{
	return &sim_shops[cl->i];
}

static enum client_result
failed(struct client *cl, enum client_result r, const char *why)
{
	snprintf(cl->stats.last_error, sizeof(cl->stats.last_error), "%s",
	    why);
	sim_trace("store %zu: %s", cl->i, why);
	return r;
}

/*
 * What every request meets first: a little time, a crash point, the
 * store's outage.  CLIENT_OK to go on.
 */
static enum client_result
request(struct client *cl, const char *op)
{
	struct sim_shop *s = shop(cl);

	cl->stats.requests++;
	sim_advance(20 + sim_below(120));
	/* what the real client learns from the Date header, whole seconds */
	cl->stats.clock_offset_ms = sim_now / 1000 * 1000 - util_now_ms();
	sim_crash_point(op);
	sim_trace("store %zu: %s", cl->i, op);
	if (sim_now >= s->down_from && sim_now < s->down_until)
		return failed(cl, CLIENT_TRANSIENT, "cannot connect (outage)");
	cl->stats.last_error[0] = '\0';
	return CLIENT_OK;
}

/*
 * The points a request asks for: about what Shopify's requestedQueryCost
 * is for the agent's queries of these sizes.  A read then costs about a
 * tenth (the rest is refunded: few levels change), a write all of it.
 */
static double
cost_of(const char *op)
{
	static const struct { const char *op; double cost; } costs[] = {
		{ "info", 2 }, { "locations", 3 }, { "variants count", 1 },
		{ "catalog", 40 }, { "catalog since", 40 }, { "levels", 30 },
		{ "levels since", 30 }, { "levels page", 30 },
		{ "levels by id", 12 }, { "adjust", 10 },
	};
	size_t k;

	for (k = 0; k < sizeof(costs) / sizeof(costs[0]); k++)
		if (strcmp(costs[k].op, op) == 0)
			return costs[k].cost;
	return 10;
}

/*
 * The faults of a read, before it runs, and its points: a read the bucket
 * cannot pay for is THROTTLED, and the real client waits and asks again
 * (client.c), so the simulated one waits for the points.  CLIENT_OK to go
 * on.
 */
static enum client_result
read_request(struct client *cl, const char *op)
{
	enum client_result r;
	int64_t wait;

	if ((r = request(cl, op)) != CLIENT_OK)
		return r;
	while (sim_shop_spend(shop(cl), cost_of(op), 1 + cost_of(op) / 10,
	    &wait) == -1) {
		cl->stats.throttled++;
		sim_trace("store %zu: %s THROTTLED: waits %" PRId64 " ms", cl->i,
		    op, wait);
		sim_advance(wait);
	}
	if (!sim_faults.on)
		return CLIENT_OK;
	if (sim_chance(sim_faults.read_fail))
		return failed(cl, CLIENT_TRANSIENT, "HTTP 502");
	if (sim_chance(sim_faults.read_garbage))
		return failed(cl, CLIENT_BAD_REPLY, "expected object, got null");
	if (sim_chance(sim_faults.throttle)) {
		cl->stats.throttled++;
		sim_advance(1000);	/* the real client waits and retries */
	}
	return CLIENT_OK;
}

enum client_result
client_info(struct client *cl, struct client_info *out)
{
	memset(out, 0, sizeof(*out));
	return read_request(cl, "info");
}

enum client_result
client_locations(struct client *cl, struct client_location **out, size_t *n)
{
	struct sim_shop *s = shop(cl);
	enum client_result r;
	size_t k;

	*out = NULL;
	*n = 0;
	if ((r = read_request(cl, "locations")) != CLIENT_OK)
		return r;
	*out = xcalloc(s->nlocs, sizeof(**out));
	for (k = 0; k < s->nlocs; k++) {
		(*out)[k].id = s->loc[k];
		sim_location_name(k, (*out)[k].name, sizeof((*out)[k].name));
		(*out)[k].active = 1;
	}
	*n = s->nlocs;
	return CLIENT_OK;
}

enum client_result
client_catalog(struct client *cl, int64_t since_ms,
    int (*fn)(const struct client_variant *, void *), void *arg)
{
	struct sim_shop *s = shop(cl);
	struct client_variant cv;
	enum client_result r;
	size_t k;

	if ((r = read_request(cl, since_ms ? "catalog since" : "catalog")) !=
	    CLIENT_OK)
		return r;
	for (k = 0; k < s->nvariants; k++) {
		if (s->var[k].deleted || s->var[k].updated_ms / 1000 <
		    since_ms / 1000)
			continue;	/* a deleted product is in no answer */
		memset(&cv, 0, sizeof(cv));
		cv.variant = s->var[k].id;
		cv.item = s->var[k].item;
		cv.product = s->var[k].product;
		snprintf(cv.handle, sizeof(cv.handle), "%s", s->var[k].handle);
		snprintf(cv.sku, sizeof(cv.sku), "%s", s->var[k].sku);
		snprintf(cv.status, sizeof(cv.status), "ACTIVE");
		cv.tracked = 1;
		if (fn(&cv, arg))
			break;
	}
	return CLIENT_OK;
}

static void
to_client_level(const struct sim_level *l, struct client_level *lv)
{
	memset(lv, 0, sizeof(*lv));
	lv->level = l->id;
	lv->item = l->item;
	lv->location = l->location;
	lv->available = l->available;
	lv->active = l->active;
	lv->found = 1;
}

/* The search index has caught up with l by now, unless it missed it. */
static int64_t
indexed(struct sim_level *l)
{
	if (sim_now >= l->index_due_ms) {
		l->indexed_ms = l->updated_ms;
		l->index_due_ms = INT64_MAX;
	}
	return l->indexed_ms;
}

/*
 * The active levels of location from position *pos on, those the index
 * shows updated at or after since_ms (whole seconds, as the query's
 * timestamp) when it is not 0, at most max of them.
 */
static enum client_result
levels(struct client *cl, uint64_t location, int64_t since_ms, size_t *pos,
    size_t max, int (*fn)(const struct client_level *, void *), void *arg)
{
	struct sim_shop *s = shop(cl);
	struct client_level lv;
	size_t sent = 0;

	for (; *pos < s->nlevels && sent < max; (*pos)++) {
		struct sim_level *l = &s->lvl[*pos];

		if (l->location != location || !l->active || l->gone)
			continue;
		if (since_ms != 0 && indexed(l) / 1000 < since_ms / 1000)
			continue;
		if (sim_faults.on && sent > 0 &&
		    sim_chance(sim_faults.read_fail))
			return failed(cl, CLIENT_TRANSIENT,
			    "HTTP 502 on a later page");
		to_client_level(l, &lv);
		sent++;
		cl->stats.cost_actual += 2;
		if (fn(&lv, arg))
			break;
	}
	return CLIENT_OK;
}

enum client_result
client_levels(struct client *cl, uint64_t location, int64_t since_ms,
    int (*fn)(const struct client_level *, void *), void *arg)
{
	enum client_result r;
	size_t pos = 0;

	sim_trace("store %zu: levels of location %" PRIu64 " since %.3f", cl->i,
	    location, since_ms == 0 ? 0 : (double)(since_ms - SIM_EPOCH_MS) /
	    1000);
	if ((r = read_request(cl, since_ms ? "levels since" : "levels")) !=
	    CLIENT_OK)
		return r;
	return levels(cl, location, since_ms, &pos, SIZE_MAX, fn, arg);
}

enum client_result
client_levels_page(struct client *cl, uint64_t location, const char *after,
    char *next, size_t nextsz,
    int (*fn)(const struct client_level *, void *), void *arg)
{
	enum client_result r;
	size_t pos = (size_t)strtoul(after, NULL, 10);

	next[0] = '\0';
	if ((r = read_request(cl, "levels page")) != CLIENT_OK)
		return r;
	if ((r = levels(cl, location, 0, &pos, 4, fn, arg)) != CLIENT_OK)
		return r;
	if (pos < shop(cl)->nlevels)
		snprintf(next, nextsz, "%zu", pos);
	return CLIENT_OK;
}

enum client_result
client_read_levels(struct client *cl, struct client_level *lv, size_t n)
{
	struct sim_shop *s = shop(cl);
	enum client_result r;
	size_t k;

	if ((r = read_request(cl, "levels by id")) != CLIENT_OK)
		return r;
	for (k = 0; k < n; k++) {
		struct sim_level *l = sim_shop_level(s, lv[k].item,
		    lv[k].location);

		lv[k].found = l != NULL && l->id == lv[k].level;	/* gone: NULL */
		if (lv[k].found) {
			lv[k].available = l->available;
			lv[k].active = l->active;
		}
	}
	return CLIENT_OK;
}


/*
 * One adjust mutation of the changes ch under key, with the write faults:
 * on_send journals `sent` just before the first byte (as curl's read
 * callback does in the real client).
 */
static enum client_result
adjust(struct client *cl, const char *key, const struct sim_change *ch,
    size_t n, int (*on_send)(void *), void *arg, struct adjust_result *res,
    int *first)
{
	struct sim_shop *s = shop(cl);
	enum client_result r;
	int64_t wait;

	if ((r = request(cl, "adjust")) != CLIENT_OK)
		return r;
	if (sim_faults.on && sim_chance(sim_faults.write_connect))
		return failed(cl, CLIENT_TRANSIENT, "connection refused");
	*first = sim_batch_sent(cl->i, key, ch, n);	/* the oracle follows it */
	if (on_send != NULL && on_send(arg) != 0)
		return failed(cl, CLIENT_TRANSIENT, "send cancelled");
	sim_crash_point("adjust: sent journaled, no byte out yet");
	if (sim_shop_spend(s, cost_of("adjust"), cost_of("adjust"),
	    &wait) == -1 ||
	    (sim_faults.on && sim_chance(sim_faults.throttle))) {
		cl->stats.throttled++;
		return failed(cl, CLIENT_THROTTLED, "THROTTLED (did not run)");
	}
	if (sim_faults.on && sim_chance(sim_faults.write_lost))
		return failed(cl, CLIENT_UNKNOWN, "reset before the store");
	if (sim_faults.on && sim_chance(sim_faults.write_slow)) {
		sim_shop_adjust(s, key, ch, n, 1, res);
		if (res->outcome == ADJUST_CONCURRENT && res->code[0] == '\0')
			sim_schedule_finish((int)cl->i, key,
			    sim_now + 100 + sim_below(5000));
		return failed(cl, CLIENT_UNKNOWN, "timeout (still running)");
	}
	sim_shop_adjust(s, key, ch, n, 0, res);
	sim_crash_point("adjust: ran, answer not read");
	if (sim_faults.on && sim_chance(sim_faults.write_reply_lost))
		return failed(cl, CLIENT_UNKNOWN, "answer lost (it ran)");
	sim_trace("store %zu: adjust %.8s answered %s", cl->i, key,
	    res->outcome == ADJUST_APPLIED ? "applied" : res->code);
	return CLIENT_OK;
}

enum client_result
client_adjust(struct client *cl, const struct pending *p,
    int (*on_send)(void *), void *arg, struct adjust_result *res)
{
	struct sim_change *ch = xcalloc(p->n, sizeof(*ch));
	enum client_result r;
	int first = 0;
	size_t k;

	for (k = 0; k < p->n; k++) {
		ch[k].item = p->ch[k].item;
		ch[k].location = p->ch[k].location;
		ch[k].delta = p->ch[k].delta;
		ch[k].has_from = 1;
		ch[k].from = p->ch[k].from;
	}
	r = adjust(cl, p->key, ch, p->n, on_send, arg, res, &first);
	if (r == CLIENT_OK && first)
		sim_batch_answered(p->key);	/* the first send's answer */
	free(ch);
	return r;
}

enum client_result
client_probe_key(struct client *cl, const char *key, uint64_t item,
    uint64_t location, enum key_probe *found)
{
	struct adjust_result res;
	struct sim_change ch;
	enum client_result r;
	int first;

	memset(&ch, 0, sizeof(ch));
	ch.item = item;
	ch.location = location;
	*found = PROBE_UNTOLD;
	r = adjust(cl, key, &ch, 1, NULL, NULL, &res, &first);
	if (r == CLIENT_THROTTLED || r == CLIENT_UNKNOWN)
		return CLIENT_TRANSIENT;
	if (r != CLIENT_OK)
		return r;
	if (res.outcome == ADJUST_KEY_MISMATCH)
		*found = PROBE_SEEN;
	else if (res.outcome == ADJUST_APPLIED)
		*found = PROBE_UNSEEN;
	else if (res.outcome == ADJUST_CONCURRENT)
		*found = PROBE_IN_FLIGHT;
	sim_trace("store %zu: probe %.8s: %s", cl->i, key,
	    client_probe_str(*found));
	return CLIENT_OK;
}

/* ---- bulk operations (bulk_threshold = 1 in some schedules) ------------- */

enum client_result
client_variants_count(struct client *cl, int64_t *count)
{
	*count = (int64_t)shop(cl)->nvariants;
	return read_request(cl, "variants count");
}

static struct sim_bulk_op *
bulk_find(struct sim_shop *s, uint64_t id)
{
	size_t k;

	for (k = 0; k < SIM_BULK_OPS; k++)
		if (s->bulk[k].id == id && id != 0)
			return &s->bulk[k];
	return NULL;
}

/* The file's late values: the levels read as the operation ends. */
static void
bulk_fix(struct sim_shop *s, struct sim_bulk_op *o)
{
	size_t k;

	if (o->fixed || sim_now < o->done_ms)
		return;
	for (k = 0; k < s->nlevels; k++)
		if (o->late[k])
			o->lvl[k] = s->lvl[k];
	o->fixed = 1;
}

enum client_result
client_bulk_start(struct client *cl, enum shopify_bulk_kind kind,
    struct shopify_bulk_op *op)
{
	struct sim_shop *s = shop(cl);
	struct sim_bulk_op *o = &s->bulk[s->bulk_next % SIM_BULK_OPS];
	enum client_result r;
	size_t k;

	memset(op, 0, sizeof(*op));
	if ((r = read_request(cl, "bulk start")) != CLIENT_OK)
		return r;
	if (sim_faults.on && sim_chance(sim_faults.read_fail))
		return failed(cl, CLIENT_REFUSED, "LIMIT_REACHED");
	memset(o, 0, sizeof(*o));
	o->id = ++s->bulk_next;
	o->kind = kind;
	o->done_ms = sim_now + 100 + sim_below(8000);
	for (k = 0; k < s->nlevels; k++) {
		o->lvl[k] = s->lvl[k];
		o->late[k] = sim_chance(500);
	}
	memcpy(o->var, s->var, sizeof(o->var));
	snprintf(op->id, sizeof(op->id), "gid://shopify/BulkOperation/%"
	    PRIu64, o->id);
	op->status = SHOPIFY_BULK_CREATED;
	sim_trace("store %zu: bulk %s operation %" PRIu64 " until %.3f", cl->i,
	    kind == SHOPIFY_BULK_LEVELS ? "levels" : "catalog", o->id,
	    (double)(o->done_ms - SIM_EPOCH_MS) / 1000);
	return CLIENT_OK;
}

/* The lines of operation o's file, one a level or variant present. */
static size_t
bulk_lines(const struct sim_shop *s, const struct sim_bulk_op *o)
{
	size_t k, n = 0;

	if (o->kind == SHOPIFY_BULK_LEVELS) {
		for (k = 0; k < s->nlevels; k++)
			n += !o->lvl[k].gone;
		return n;
	}
	for (k = 0; k < s->nvariants; k++)
		n += !o->var[k].deleted;
	return n;
}

enum client_result
client_bulk_status(struct client *cl, const char *id,
    struct shopify_bulk_op *op)
{
	struct sim_shop *s = shop(cl);
	struct sim_bulk_op *o;
	enum client_result r;
	const char *n = strrchr(id, '/');

	memset(op, 0, sizeof(*op));
	if ((r = read_request(cl, "bulk status")) != CLIENT_OK)
		return r;
	if ((o = bulk_find(s, n ? strtoull(n + 1, NULL, 10) : 0)) == NULL)
		return CLIENT_OK;	/* unknown to the store: id "" */
	snprintf(op->id, sizeof(op->id), "%s", id);
	if (sim_now < o->done_ms) {
		op->status = SHOPIFY_BULK_RUNNING;
		return CLIENT_OK;
	}
	bulk_fix(s, o);
	op->status = SHOPIFY_BULK_COMPLETED;
	op->object_count = (int64_t)bulk_lines(s, o);
	snprintf(op->url, sizeof(op->url), "sim:%" PRIu64, o->id);
	return CLIENT_OK;
}

/*
 * Streams operation url's file: "L item location level available active"
 * a level, "V variant item product handle sku" a variant.  A transient
 * fault may cut it after some lines (the agent reads it again later).
 */
enum client_result
client_bulk_read(struct client *cl, const char *url, jsonl_line_fn fn,
    void *arg, size_t *lines)
{
	struct sim_shop *s = shop(cl);
	struct sim_bulk_op *o;
	enum client_result r;
	char line[256];
	size_t k, cut = SIZE_MAX;
	int len;

	*lines = 0;
	if ((r = read_request(cl, "bulk file")) != CLIENT_OK)
		return r;
	if (strncmp(url, "sim:", 4) != 0 ||
	    (o = bulk_find(s, strtoull(url + 4, NULL, 10))) == NULL)
		return failed(cl, CLIENT_REFUSED, "HTTP 403 ExpiredToken");
	bulk_fix(s, o);
	if (sim_faults.on && sim_chance(sim_faults.read_fail))
		cut = sim_below((uint32_t)bulk_lines(s, o) + 1);
	for (k = 0; k < (o->kind == SHOPIFY_BULK_LEVELS ? s->nlevels :
	    s->nvariants); k++) {
		if (*lines == cut)
			return failed(cl, CLIENT_TRANSIENT, "file cut short");
		if (o->kind == SHOPIFY_BULK_LEVELS) {
			const struct sim_level *l = &o->lvl[k];

			if (l->gone)
				continue;
			len = snprintf(line, sizeof(line), "L %" PRIu64 " %"
			    PRIu64 " %" PRIu64 " %" PRId64 " %d", l->item,
			    l->location, l->id, l->available, l->active);
		} else {
			const struct sim_variant *v = &o->var[k];

			if (v->deleted)
				continue;
			len = snprintf(line, sizeof(line), "V %" PRIu64 " %"
			    PRIu64 " %" PRIu64 " %s %s", v->id, v->item,
			    v->product, v->handle, v->sku);
		}
		(*lines)++;
		if (fn(line, (size_t)len, arg))
			break;
	}
	return CLIENT_OK;
}

int
client_bulk_variant(const char *line, size_t len, struct client_variant *cv,
    char *why, size_t whysz)
{
	unsigned long long id, item, product;

	(void)len;
	memset(cv, 0, sizeof(*cv));
	if (sscanf(line, "V %llu %llu %llu %63s %63s", &id, &item, &product,
	    cv->handle, cv->sku) != 5) {
		snprintf(why, whysz, "not a variant line");
		return -1;
	}
	cv->variant = id;
	cv->item = item;
	cv->product = product;
	snprintf(cv->status, sizeof(cv->status), "ACTIVE");
	cv->tracked = 1;
	return 0;
}

int
client_bulk_level(const char *line, size_t len, struct client_level *lv,
    char *why, size_t whysz)
{
	unsigned long long item, loc, id;
	long long avail;
	int active;

	(void)len;
	memset(lv, 0, sizeof(*lv));
	if (sscanf(line, "L %llu %llu %llu %lld %d", &item, &loc, &id, &avail,
	    &active) != 5) {
		snprintf(why, whysz, "not a level line");
		return -1;
	}
	lv->item = item;
	lv->location = loc;
	lv->level = id;
	lv->available = avail;
	lv->active = active;
	lv->found = 1;
	return 0;
}
