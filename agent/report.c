/*
 * report.c: owns the commands that read or flip state while `run` runs:
 * status, log, pause and resume (short LMDB transactions, docs/design.md §2).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "json.h"
#include "log.h"
#include "meta.h"
#include "report.h"
#include "state.h"
#include "sync.h"
#include "timing.h"
#include "util.h"

struct store_status {
	int64_t		ok_ms, err_ms, errcount;
	char		err[META_STR_MAX];
	int		has_pending;
	struct pending	pending;
	char		bulk[BULK_KINDS][META_STR_MAX];	/* operation id, "" */
	int64_t		bulk_ms[BULK_KINDS];			/* when it started */
	char		reads[META_STR_MAX];	/* bulk or pages, and why */
	int64_t		clock_ms;	/* Shopify's clock minus ours */
	/* stock pools (docs/design.md §3a) */
	int64_t		held;		/* units its buffer holds back */
	size_t		held_links;	/* ... over this many links */
	size_t		group_sides;	/* its sides over a location group */
};

struct status {
	const struct conf	*c;
	char			 paused[META_STR_MAX];
	int			 is_paused;
	char			 cycle[META_STR_MAX];
	int64_t			 uncertain;
	size_t			 links, in_step, waiting, not_synced;
	struct store_status	 s[CONF_MAX_STORES];
};

static int
count_link(const struct link *l, void *arg)
{
	struct status *st = arg;
	size_t i;

	for (i = 0; i < l->nsides && i < st->c->nstores; i++) {
		if (l->side[i].item == 0)
			continue;
		st->s[i].held += l->pool[i].held;
		st->s[i].held_links += l->pool[i].held != 0;
		st->s[i].group_sides += sync_is_group(l, i);
	}
	st->links++;
	switch (sync_link_state(l)) {
	case LINK_NOT_SYNCED:
		st->not_synced++;
		break;
	case LINK_IN_STEP:
		st->in_step++;
		break;
	case LINK_WAITING:
		st->waiting++;
		break;
	}
	return 0;
}

static int
read_bulk(struct state_txn *t, size_t i, struct store_status *ss)
{
	size_t k;

	for (k = 0; k < BULK_KINDS; k++)
		if (bulk_op_get(t, (enum shopify_bulk_kind)k, i, ss->bulk[k],
		    sizeof(ss->bulk[k]), &ss->bulk_ms[k]) == -1)
			return -1;
	return 0;
}

static int
read_status(struct state_txn *t, void *arg)
{
	struct status *st = arg;
	size_t i;
	int r;

	if ((r = meta_get_str(t, META_PAUSED, 0, st->paused,
	    sizeof(st->paused))) == -1)
		return -1;
	st->is_paused = r == 0;
	if (meta_get_str(t, META_CYCLE, 0, st->cycle, sizeof(st->cycle)) == -1)
		return -1;
	if (meta_get_i64(t, META_UNCERTAIN, 0, &st->uncertain) == -1)
		return -1;
	for (i = 0; i < st->c->nstores; i++) {
		struct store_status *ss = &st->s[i];

		if (meta_get_i64(t, META_OK, i, &ss->ok_ms) == -1 ||
		    meta_get_i64(t, META_ERRTIME, i, &ss->err_ms) == -1 ||
		    meta_get_i64(t, META_ERRCOUNT, i, &ss->errcount) == -1 ||
		    meta_get_str(t, META_ERR, i, ss->err, sizeof(ss->err)) == -1 ||
		    meta_get_i64(t, META_CLOCK, i, &ss->clock_ms) == -1)
			return -1;
		if ((r = state_pending_get(t, (uint32_t)i, &ss->pending)) == -1)
			return -1;
		ss->has_pending = r == 0;
		if (read_bulk(t, i, ss) == -1 ||
		    bulk_path_why(t, i, ss->reads, sizeof(ss->reads)) == -1)
			return -1;
	}
	return state_link_each(t, count_link, st);
}

/* "3s ago", "5m ago", "never" */
static const char *
ago(int64_t ms, char *buf, size_t bufsz)
{
	int64_t d = (util_now_ms() - ms) / 1000;

	if (ms == 0)
		snprintf(buf, bufsz, "never");
	else if (d < 120)
		snprintf(buf, bufsz, "%" PRId64 "s ago", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(buf, bufsz, "%" PRId64 "m ago", d / 60);
	else
		snprintf(buf, bufsz, "%" PRId64 "h ago", d / 3600);
	return buf;
}

/*
 * Store i's stock pools: each group of its locations the config names,
 * its sides over them, and what its buffer holds back.
 */
static void
print_pools(const struct status *st, size_t i)
{
	const struct store_status *ss = &st->s[i];
	const struct conf *c = st->c;
	size_t k;

	for (k = 0; k < c->nloclinks; k++)
		if (strchr(c->loclinks[k].names[i], '+') != NULL)
			printf("  group: %s\n", c->loclinks[k].names[i]);
	if (ss->group_sides > 0)
		printf("  %zu link(s) synced as the sum of a group's "
		    "locations\n", ss->group_sides);
	if (c->stores[i].buffer > 0)
		printf("  buffer %" PRId64 ": shows the pool less %" PRId64
		    " (never below 0); %" PRId64 " unit(s) held back over %zu "
		    "link(s)\n", c->stores[i].buffer, c->stores[i].buffer,
		    ss->held, ss->held_links);
}

static void
print_text(const struct status *st)
{
	char a[32], b[32];
	size_t i, k;

	if (st->is_paused)
		printf("PAUSED: %s\n", st->paused);
	else if (st->links == 0)
		printf("nothing linked yet: has 'invsync run' reached the "
		    "stores? ('invsync check' tells what matches)\n");
	else if (st->waiting == 0)
		printf("in step: every linked level agrees\n");
	else
		printf("syncing: %zu link(s) waiting for writes\n", st->waiting);
	printf("links: %zu (%zu in step, %zu waiting, %zu not synced)\n",
	    st->links, st->in_step, st->waiting, st->not_synced);
	for (i = 0; i < st->c->nstores; i++) {
		const struct store_status *ss = &st->s[i];

		printf("store %s: last good poll %s", st->c->stores[i].name,
		    ago(ss->ok_ms, a, sizeof(a)));
		if (ss->err_ms > ss->ok_ms)
			printf("; FAILING since %s: %s", ago(ss->err_ms, b,
			    sizeof(b)), ss->err);
		else if (ss->errcount > 0)
			printf("; %" PRId64 " error(s), last %s: %s",
			    ss->errcount, ago(ss->err_ms, b, sizeof(b)), ss->err);
		if (ss->has_pending)
			printf("; write in flight: %zu change(s)%s",
			    ss->pending.n, ss->pending.sent ?
			    ", awaiting confirmation" : "");
		for (k = 0; k < BULK_KINDS; k++)
			if (ss->bulk[k][0] != '\0')
				printf("; %s bulk operation running, "
				    "started %s",
				    bulk_kind_name((enum shopify_bulk_kind)k),
				    ago(ss->bulk_ms[k], b, sizeof(b)));
		printf("\n");
		if (ss->reads[0] != '\0')
			printf("  full reads: %s\n", ss->reads);
		print_pools(st, i);
		if (ss->clock_ms > CLOCK_WARN_MS || ss->clock_ms < -CLOCK_WARN_MS)
			printf("  clock: Shopify's is %+.1f s from this "
			    "machine's (polls follow Shopify's); check NTP: "
			    "timedatectl\n", (double)ss->clock_ms / 1000);
	}
	if (st->uncertain > 0)
		printf("uncertain writes: %" PRId64 " (see 'invsync log')\n",
		    st->uncertain);
	if (st->cycle[0] != '\0')
		printf("last cycle: %s\n", st->cycle);
}

static void
print_json(const struct status *st)
{
	struct json_writer w;
	size_t i, k;
	char *out;

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "paused");
	jw_bool(&w, st->is_paused);
	jw_key(&w, "paused_reason");
	if (st->is_paused)
		jw_string(&w, st->paused);
	else
		jw_null(&w);
	jw_key(&w, "in_step");
	jw_bool(&w, !st->is_paused && st->links > 0 && st->waiting == 0);
	jw_key(&w, "links");
	jw_int64(&w, (int64_t)st->links);
	jw_key(&w, "links_in_step");
	jw_int64(&w, (int64_t)st->in_step);
	jw_key(&w, "links_waiting");
	jw_int64(&w, (int64_t)st->waiting);
	jw_key(&w, "links_not_synced");
	jw_int64(&w, (int64_t)st->not_synced);
	jw_key(&w, "uncertain");
	jw_int64(&w, st->uncertain);
	jw_key(&w, "last_cycle");
	jw_string(&w, st->cycle);
	jw_key(&w, "stores");
	jw_array_begin(&w);
	for (i = 0; i < st->c->nstores; i++) {
		const struct store_status *ss = &st->s[i];

		jw_object_begin(&w);
		jw_key(&w, "name");
		jw_string(&w, st->c->stores[i].name);
		jw_key(&w, "last_ok_ms");
		jw_int64(&w, ss->ok_ms);
		jw_key(&w, "errors");
		jw_int64(&w, ss->errcount);
		jw_key(&w, "last_error");
		jw_string(&w, ss->err);
		jw_key(&w, "last_error_ms");
		jw_int64(&w, ss->err_ms);
		jw_key(&w, "clock_offset_ms");
		jw_int64(&w, ss->clock_ms);
		jw_key(&w, "failing");
		jw_bool(&w, ss->err_ms > ss->ok_ms);
		jw_key(&w, "pending_changes");
		jw_int64(&w, ss->has_pending ? (int64_t)ss->pending.n : 0);
		jw_key(&w, "pending_sent");
		jw_bool(&w, ss->has_pending && ss->pending.sent);
		jw_key(&w, "reads");
		jw_string(&w, ss->reads);
		jw_key(&w, "buffer");
		jw_int64(&w, st->c->stores[i].buffer);
		jw_key(&w, "held");
		jw_int64(&w, ss->held);
		jw_key(&w, "held_links");
		jw_int64(&w, (int64_t)ss->held_links);
		jw_key(&w, "group_sides");
		jw_int64(&w, (int64_t)ss->group_sides);
		jw_key(&w, "bulk_operations");
		jw_array_begin(&w);
		for (k = 0; k < BULK_KINDS; k++) {
			if (ss->bulk[k][0] == '\0')
				continue;
			jw_object_begin(&w);
			jw_key(&w, "kind");
			jw_string(&w, bulk_kind_name((enum shopify_bulk_kind)k));
			jw_key(&w, "id");
			jw_string(&w, ss->bulk[k]);
			jw_key(&w, "started_ms");
			jw_int64(&w, ss->bulk_ms[k]);
			jw_object_end(&w);
		}
		jw_array_end(&w);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	if ((out = jw_finish(&w, NULL)) == NULL)
		fatal("status: JSON writer failed");
	printf("%s\n", out);
	free(out);
}

int
report_status(const struct conf *c, int json)
{
	struct state *st = state_open(c->state_dir, 1);
	struct status *s;
	int r;

	if (st == NULL)
		return 1;
	s = xcalloc(1, sizeof(*s));
	s->c = c;
	r = state_view(st, read_status, s);
	state_close(st);
	if (r == 0) {
		if (json)
			print_json(s);
		else
			print_text(s);
	}
	free(s);
	return r == 0 ? 0 : 1;
}

/* ---- log ---------------------------------------------------------------- */

const char *
report_audit_kind(uint32_t k)
{
	switch (k) {
	case AUDIT_APPLIED:	return "applied";
	case AUDIT_UNCERTAIN:	return "uncertain";
	case AUDIT_OBSERVED:	return "observed";
	case AUDIT_LINKED:	return "linked";
	case AUDIT_UNLINKED:	return "unlinked";
	case AUDIT_PAUSED:	return "paused";
	case AUDIT_RESUMED:	return "resumed";
	case AUDIT_DROPPED:	return "dropped";
	case AUDIT_UNCERTAIN_REPLANNED:	return "uncertain-replanned";
	}
	return "?";
}

struct log_ctx {
	const struct conf	*c;
	int			 json;
};

static const char *
store_name(const struct conf *c, uint32_t i)
{
	return i < c->nstores ? c->stores[i].name : "?";
}

static int
print_entry(const struct audit_entry *e, void *arg)
{
	struct log_ctx *x = arg;
	char when[32];

	util_iso_time(e->time_ms, when, sizeof(when));
	if (x->json) {
		struct json_writer w;
		char *out;

		jw_init(&w);
		jw_object_begin(&w);
		jw_key(&w, "seq");
		jw_int64(&w, (int64_t)e->seq);
		jw_key(&w, "time");
		jw_string(&w, when);
		jw_key(&w, "kind");
		jw_string(&w, report_audit_kind(e->kind));
		jw_key(&w, "store");
		jw_string(&w, store_name(x->c, e->store));
		jw_key(&w, "link");
		jw_string(&w, e->link);
		jw_key(&w, "from");
		jw_int64(&w, e->from);
		jw_key(&w, "delta");
		jw_int64(&w, e->delta);
		jw_key(&w, "batch");
		jw_string(&w, e->batch);
		jw_key(&w, "note");
		jw_string(&w, e->note);
		jw_object_end(&w);
		if ((out = jw_finish(&w, NULL)) == NULL)
			return 0;	/* a record that is not UTF-8: skip */
		printf("%s\n", out);
		free(out);
		return 0;
	}
	printf("%s %-9s %-12s", when, report_audit_kind(e->kind),
	    store_name(x->c, e->store));
	if (e->kind == AUDIT_APPLIED || e->kind == AUDIT_UNCERTAIN ||
	    e->kind == AUDIT_UNCERTAIN_REPLANNED || e->kind == AUDIT_OBSERVED)
		printf(" %s %+" PRId64 " (%" PRId64 " -> %" PRId64 ")", e->link,
		    e->delta, e->from, e->from + e->delta);
	else if (e->link[0] != '\0')
		printf(" %s", e->link);
	if (e->note[0] != '\0' && strcmp(e->note, "applied") != 0)
		printf(": %s", e->note);
	printf("\n");
	return 0;
}

struct log_q {
	size_t		n;
	struct log_ctx	x;
};

static int
read_log(struct state_txn *t, void *arg)
{
	struct log_q *q = arg;

	return state_audit_last(t, q->n, print_entry, &q->x);
}

int
report_log(const struct conf *c, size_t n, int json)
{
	struct state *st = state_open(c->state_dir, 1);
	struct log_q q = { n, { c, json } };
	int r;

	if (st == NULL)
		return 1;
	r = state_view(st, read_log, &q);
	state_close(st);
	return r == 0 ? 0 : 1;
}

/* ---- pause / resume ----------------------------------------------------- */

static int
set_paused(struct state_txn *t, void *arg)
{
	const char *why = arg;
	struct audit_entry a;

	memset(&a, 0, sizeof(a));
	a.kind = why != NULL ? AUDIT_PAUSED : AUDIT_RESUMED;
	snprintf(a.note, sizeof(a.note), "%s", why ? why : "by the operator");
	if (why != NULL && meta_put_str(t, META_PAUSED, 0, why) == -1)
		return -1;
	if (why == NULL && meta_del(t, META_PAUSED, 0) == -1)
		return -1;
	return state_audit_append(t, &a);
}

int
report_pause(const struct conf *c, int pause)
{
	struct state *st;
	int r;

	/*
	 * Never create the state here: run by root before the service ever
	 * ran, it would leave files the service's user cannot open.
	 */
	if (!state_exists(c->state_dir)) {
		log_err("no state in %s yet: start invsync first (pause and "
		    "resume act on a running setup)", c->state_dir);
		return 1;
	}
	if ((st = state_open(c->state_dir, 0)) == NULL)
		return 1;
	r = state_update(st, set_paused, pause ? (void *)"paused by the "
	    "operator ('invsync resume' continues)" : NULL);
	state_close(st);
	if (r == 0)
		printf("%s\n", pause ? "paused: no writes until 'invsync "
		    "resume'" : "resumed");
	return r == 0 ? 0 : 1;
}
