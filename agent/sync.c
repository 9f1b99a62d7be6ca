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

/* The target of the sides that have a baseline: the reference's if it has one. */
static int
current_target(const struct link *l, int64_t *target)
{
	int ref = sync_reference(l);
	size_t s;

	if (ref >= 0 && l->side[ref].has_baseline) {
		*target = l->side[ref].baseline + l->side[ref].owed;
		return 1;
	}
	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s) && l->side[s].has_baseline) {
			*target = l->side[s].baseline + l->side[s].owed;
			return 1;
		}
	return 0;
}

/* First sighting of side s with value q: the initial policy (docs/design.md §3). */
static void
first_sighting(struct link *l, size_t s, int64_t q,
    const struct sync_policy *p)
{
	int64_t target, want;
	size_t i;

	if (!current_target(l, &target) || p->initial == INITIAL_KEEP) {
		l->side[s].baseline = q;
		l->side[s].owed = 0;
		l->side[s].has_baseline = 1;
		return;
	}
	if (p->initial == INITIAL_MIN)
		want = q < target ? q : target;
	else	/* INITIAL_PRIMARY: the reference side's value wins */
		want = (int)s == sync_reference(l) ? q : target;
	for (i = 0; i < l->nsides; i++)
		if (i != s && sync_side_active(l, i) &&
		    l->side[i].has_baseline)
			l->side[i].owed += want - target;
	l->side[s].baseline = q;
	l->side[s].owed = want - q;
	l->side[s].has_baseline = 1;
}

int64_t
sync_observe(struct link *l, size_t s, int64_t q, const struct sync_policy *p)
{
	int64_t d;
	size_t i;

	if (!sync_side_active(l, s))
		return 0;
	if (!l->side[s].has_baseline) {
		first_sighting(l, s, q, p);
		return 0;
	}
	d = q - l->side[s].baseline;
	l->side[s].baseline = q;
	if (d == 0)
		return 0;
	if (p->direction == DIRECTION_ONE_WAY && (int)s != sync_reference(l))
		return d;	/* the others' own sales stay local */
	for (i = 0; i < l->nsides; i++)
		if (i != s && sync_side_active(l, i) &&
		    l->side[i].has_baseline)
			l->side[i].owed += d;
	return d;
}

void
sync_applied(struct link *l, size_t s, int64_t delta)
{
	l->side[s].baseline += delta;
	l->side[s].owed -= delta;
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
	int64_t target;
	size_t s;

	if (!current_target(l, &target))
		return 1;
	for (s = 0; s < l->nsides; s++)
		if (sync_side_active(l, s) && l->side[s].has_baseline &&
		    l->side[s].baseline + l->side[s].owed != target)
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
