/*
 * sync.c: owns the sync arithmetic of docs/design.md §3 (a PN-counter merge):
 * observations become owed changes, applied writes move owed into the
 * baseline, so our own writes are never seen as changes (no echo).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

int
sync_link_key(enum match_key m, const char *handle, const char *sku,
    const char *barcode, const char *options, uint64_t group, char *out,
    size_t outsz)
{
	int n;

	switch (m) {
	case MATCH_HANDLE:
		if (handle[0] == '\0')
			return -1;
		if (sku[0] != '\0')
			n = snprintf(out, outsz, "h:%s/%s@%" PRIu64, handle, sku,
			    group);
		else if (options[0] != '\0')
			n = snprintf(out, outsz, "h:%s/o:%s@%" PRIu64, handle,
			    options, group);
		else
			n = snprintf(out, outsz, "h:%s/-@%" PRIu64, handle,
			    group);
		break;
	case MATCH_SKU:
		if (sku[0] == '\0')
			return -1;
		n = snprintf(out, outsz, "s:%s@%" PRIu64, sku, group);
		break;
	case MATCH_BARCODE:
		if (barcode[0] == '\0')
			return -1;
		n = snprintf(out, outsz, "b:%s@%" PRIu64, barcode, group);
		break;
	default:
		return -1;
	}
	return n > 0 && (size_t)n < outsz ? 0 : -1;
}

/* 1 when the n bytes at s are exactly the string what, else 0. */
static int
span_is(const char *s, size_t n, const char *what)
{
	return strlen(what) == n && memcmp(s, what, n) == 0;
}

int
sync_key_matches(const char *key, const char *what)
{
	const char *at = strrchr(key, '@'), *slash, *rest;
	size_t body;

	if (what[0] == '\0')
		return 0;
	if (strcmp(key, what) == 0)
		return 1;
	body = at != NULL ? (size_t)(at - key) : strlen(key);
	if (span_is(key, body, what))
		return 1;
	if (body < 2 || key[1] != ':')
		return 0;
	if (key[0] == 's' || key[0] == 'b')
		return span_is(key + 2, body - 2, what);
	if (key[0] != 'h')
		return 0;
	/* "h:HANDLE/REST": handles have no '/'; REST is a SKU, o:OPTIONS or - */
	slash = memchr(key + 2, '/', body - 2);
	if (slash == NULL)
		return span_is(key + 2, body - 2, what);
	if (span_is(key + 2, (size_t)(slash - key - 2), what))
		return 1;
	rest = slash + 1;
	if (span_is(rest, body - (size_t)(rest - key), "-") ||
	    strncmp(rest, "o:", 2) == 0)
		return 0;
	return span_is(rest, body - (size_t)(rest - key), what);
}

int
sync_side_active(const struct link *l, size_t s)
{
	return s < l->nsides && l->side[s].item != 0 &&
	    l->side[s].status == SIDE_OK;
}

int
sync_reference(const struct link *l)
{
	size_t s;

	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s))
			return (int)s;
	return -1;
}

int64_t
sync_implied(int64_t q, int64_t n)
{
	return q > 0 ? q + n : q;
}

int64_t
sync_pool(const struct link *l, size_t s)
{
	return l->side[s].baseline + l->side[s].owed + l->pool[s].held;
}

/* The units a buffer of n holds back from a pool: min(n, max(pool, 0)). */
static int64_t
held_of(int64_t pool, int64_t n)
{
	if (pool <= 0)
		return 0;
	return pool < n ? pool : n;
}

/* Sets side s's pool view to pool: its held units and owed follow. */
static void
set_pool(struct link *l, size_t s, int64_t pool, const struct sync_policy *p)
{
	l->pool[s].held = held_of(pool, p->buffer[s]);
	l->side[s].owed = pool - l->pool[s].held - l->side[s].baseline;
}

/* The pool of the sides that have a baseline: the reference's if it has one. */
static int
current_pool(const struct link *l, int64_t *pool)
{
	int ref = sync_reference(l);
	size_t s;

	if (ref >= 0 && l->side[ref].has_baseline) {
		*pool = sync_pool(l, (size_t)ref);
		return 1;
	}
	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s) && l->side[s].has_baseline) {
			*pool = sync_pool(l, s);
			return 1;
		}
	return 0;
}

/* Moves the pool view of every synced side but s by d. */
static void
move_others(struct link *l, size_t s, int64_t d, const struct sync_policy *p)
{
	size_t i;

	for (i = 0; i < l->nsides; i++)
		if (i != s && sync_side_active(l, i) &&
		    l->side[i].has_baseline)
			set_pool(l, i, sync_pool(l, i) + d, p);
}

/* First sighting of side s with value q: the initial policy (docs/design.md §3). */
static void
first_sighting(struct link *l, size_t s, int64_t q,
    const struct sync_policy *p)
{
	int64_t pool, want, own = sync_implied(q, p->buffer[s]);
	int others = current_pool(l, &pool);

	l->side[s].baseline = q;
	l->side[s].has_baseline = 1;
	if (!others || p->initial == INITIAL_KEEP) {
		set_pool(l, s, own, p);
		return;
	}
	if (p->initial == INITIAL_MIN)
		want = own < pool ? own : pool;
	else	/* INITIAL_PRIMARY: the reference side's value wins */
		want = (int)s == sync_reference(l) ? own : pool;
	move_others(l, s, want - pool, p);
	set_pool(l, s, want, p);
}

int64_t
sync_observe(struct link *l, size_t s, int64_t q, const struct sync_policy *p)
{
	int64_t d;

	if (!sync_side_active(l, s))
		return 0;
	if (!l->side[s].has_baseline) {
		first_sighting(l, s, q, p);
		return 0;
	}
	d = q - l->side[s].baseline;
	if (d == 0)
		return 0;
	/* the side's own pool view moves by d with its baseline */
	l->side[s].baseline = q;
	set_pool(l, s, sync_pool(l, s), p);
	if (p->direction == DIRECTION_ONE_WAY && (int)s != sync_reference(l))
		return d;	/* the others' own sales stay local */
	move_others(l, s, d, p);
	return d;
}

void
sync_applied(struct link *l, size_t s, int64_t delta)
{
	l->side[s].baseline += delta;
	l->side[s].owed -= delta;
}

int
sync_rebuffer(struct link *l, size_t s, const struct sync_policy *p)
{
	int64_t owed = l->side[s].owed;

	if (!sync_side_active(l, s) || !l->side[s].has_baseline)
		return 0;
	set_pool(l, s, sync_pool(l, s), p);
	return l->side[s].owed != owed;
}

int
sync_member(const struct link *l, size_t s, uint64_t loc)
{
	size_t m;

	if (!sync_is_group(l, s))
		return l->side[s].location == loc ? 0 : -1;
	for (m = 0; m < l->pool[s].nmembers; m++)
		if (l->pool[s].member[m].location == loc)
			return (int)m;
	return -1;
}

int
sync_group_sum(const struct link *l, size_t s, int64_t *sum)
{
	const struct link_pool *gp = &l->pool[s];
	size_t m;
	int all = 1;

	*sum = 0;
	for (m = 0; m < gp->nmembers; m++) {
		if (gp->member[m].status != SIDE_OK)
			continue;
		if (gp->member[m].seen)
			*sum += gp->member[m].quantity;
		else
			all = 0;
	}
	return all;
}

/* 1 when member m of group side s can be written to: active and seen. */
static int
member_writable(const struct link *l, size_t s, size_t m)
{
	const struct link_member *mb = &l->pool[s].member[m];

	return mb->status == SIDE_OK && mb->seen;
}

size_t
sync_spread(const struct link *l, size_t s, int64_t delta,
    struct member_change *out)
{
	const struct link_pool *gp = &l->pool[s];
	int64_t left = -delta, take, have;
	size_t m, n = 0, first = SIZE_MAX;

	if (!sync_is_group(l, s)) {
		out[0].member = 0;
		out[0].from = l->side[s].baseline;
		out[0].delta = delta;
		return 1;
	}
	for (m = 0; m < gp->nmembers; m++) {
		if (!member_writable(l, s, m))
			continue;
		if (first == SIZE_MAX)
			first = m;
		have = gp->member[m].quantity;
		if (delta > 0 || left == 0 || have <= 0)
			continue;
		take = have < left ? have : left;
		out[n].member = m;
		out[n].from = have;
		out[n++].delta = -take;
		left -= take;
	}
	if (first == SIZE_MAX)
		return 0;
	if (delta > 0)
		left = -delta;
	if (left == 0)
		return n;
	/* the rest, all of an increase: the first member */
	if (n > 0 && out[0].member == first) {
		out[0].delta -= left;
		return n;
	}
	memmove(out + 1, out, n * sizeof(*out));
	out[0].member = first;
	out[0].from = gp->member[first].quantity;
	out[0].delta = -left;
	return n + 1;
}

void
sync_applied_at(struct link *l, size_t s, uint64_t loc, int64_t delta)
{
	int m = sync_member(l, s, loc);

	if (m < 0)
		return;
	if (sync_is_group(l, s))
		l->pool[s].member[m].quantity += delta;
	sync_applied(l, s, delta);
}

int
sync_planned(const struct link *l, size_t s, int64_t *from, int64_t *delta)
{
	if (!sync_side_active(l, s) || !l->side[s].has_baseline ||
	    l->side[s].owed == 0)
		return 0;
	*from = l->side[s].baseline;
	*delta = l->side[s].owed;
	return 1;
}

int
sync_consistent(const struct link *l)
{
	int64_t pool;
	size_t s;

	if (!current_pool(l, &pool))
		return 1;
	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s) && l->side[s].has_baseline &&
		    sync_pool(l, s) != pool)
			return 0;
	return 1;
}

int
sync_in_step(const struct link *l)
{
	size_t s;

	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s) &&
		    (!l->side[s].has_baseline || l->side[s].owed != 0))
			return 0;
	return 1;
}

enum link_state
sync_link_state(const struct link *l)
{
	size_t s, sides = 0;

	for (s = 0; s < l->nsides; s++)
		sides += sync_side_active(l, s);
	if (sides < 2)
		return LINK_NOT_SYNCED;
	return sync_in_step(l) ? LINK_IN_STEP : LINK_WAITING;
}

int
sync_change_large(int64_t before, int64_t d)
{
	int64_t a = d < 0 ? -d : d, b = before < 0 ? -before : before;

	return a >= GUARD_MIN_UNITS && 2 * a >= b;
}

int
sync_guard_trips(size_t large, size_t total, int percent)
{
	if (percent <= 0 || large < GUARD_MIN_CHANGED || total == 0)
		return 0;
	return large * 100 > total * (size_t)percent;
}
