/*
 * test_state.c: the LMDB layer (state.c): links and their level and owed
 * indexes, the pending journal, meta values, the bounded audit log, map
 * growth, and read-only opening, in a temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "state.h"

static char dir[] = "/tmp/test_state.XXXXXX";

static struct pending *
xp_alloc(void)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		abort();
	return p;
}

static void
make_link(struct link *l, const char *key, uint64_t item0, int64_t owed1)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->key, sizeof(l->key), "%s", key);
	l->nsides = 2;
	l->side[0].item = item0;
	l->side[0].location = 7;
	l->side[0].baseline = 50;
	l->side[0].has_baseline = 1;
	l->side[1].item = item0 + 1000;
	l->side[1].location = 8;
	l->side[1].baseline = 45;
	l->side[1].owed = owed1;
	l->side[1].has_baseline = 1;
}

static int
put_links(struct state_txn *t, void *arg)
{
	struct link l;

	(void)arg;
	make_link(&l, "h:a/1@7", 1, 0);
	if (state_link_put(t, &l) == -1)
		return -1;
	make_link(&l, "h:b/1@7", 2, -5);
	if (state_link_put(t, &l) == -1)
		return -1;
	make_link(&l, "h:c/1@7", 3, 4);
	return state_link_put(t, &l);
}

static int
count_cb(const struct link *l, void *arg)
{
	(void)l;
	(*(int *)arg)++;
	return 0;
}

static int
check_links(struct state_txn *t, void *arg)
{
	char key[LINK_KEY_MAX];
	struct link l;
	int n = 0;

	(void)arg;
	CHECK_INT("links: count", state_link_count(t), 3);
	CHECK("links: get", state_link_get(t, "h:b/1@7", &l) == 0 &&
	    l.nsides == 2 && l.side[1].owed == -5 && l.side[0].item == 2);
	CHECK_INT("links: get missing", state_link_get(t, "h:zz@7", &l), 1);
	CHECK("links: find by level", state_link_find(t, 1, 1003, 8, key) == 0 &&
	    strcmp(key, "h:c/1@7") == 0);
	CHECK_INT("links: find wrong location", state_link_find(t, 1, 1003, 9,
	    key), 1);
	state_owed_each(t, 1, count_cb, &n);
	CHECK_INT("owed: two links owe store 1", n, 2);
	n = 0;
	state_owed_each(t, 0, count_cb, &n);
	CHECK_INT("owed: none owe store 0", n, 0);
	return 0;
}

static int
settle_one(struct state_txn *t, void *arg)
{
	struct link l;

	(void)arg;
	if (state_link_get(t, "h:b/1@7", &l) != 0)
		return -1;
	l.side[1].baseline -= 5;
	l.side[1].owed = 0;
	l.side[1].item = 4242;	/* re-linked to another item */
	if (state_link_put(t, &l) == -1)
		return -1;
	return state_link_del(t, "h:a/1@7");
}

static int
check_settled(struct state_txn *t, void *arg)
{
	char key[LINK_KEY_MAX];
	int n = 0;

	(void)arg;
	state_owed_each(t, 1, count_cb, &n);
	CHECK_INT("owed: settled link leaves the index", n, 1);
	CHECK_INT("index: old item forgotten", state_link_find(t, 1, 1002, 8,
	    key), 1);
	CHECK_INT("index: new item found", state_link_find(t, 1, 4242, 8, key),
	    0);
	CHECK_INT("index: deleted link forgotten", state_link_find(t, 0, 1, 7,
	    key), 1);
	CHECK_INT("links: count after delete", state_link_count(t), 2);
	n = 0;
	state_link_each(t, count_cb, &n);
	CHECK_INT("links: each", n, 2);
	return 0;
}

/* A link whose store 1 side is a group of 3 and holds 2 units back. */
static int
put_pool(struct state_txn *t, void *arg)
{
	struct link l;
	size_t m;

	(void)arg;
	make_link(&l, "h:p/1@7", 77, 0);
	l.pool[1].held = 2;
	l.pool[1].nmembers = 3;
	for (m = 0; m < 3; m++) {
		l.pool[1].member[m].location = 20 + m;
		l.pool[1].member[m].level = 900 + m;
		l.pool[1].member[m].quantity = 10 * (int64_t)m;
		l.pool[1].member[m].seen = 1;
	}
	l.side[1].location = 20;
	return state_link_put(t, &l);
}

static int
check_pool(struct state_txn *t, void *arg)
{
	char key[LINK_KEY_MAX];
	struct link l;

	(void)arg;
	CHECK("pool: read back", state_link_get(t, "h:p/1@7", &l) == 0 &&
	    l.pool[1].held == 2 && l.pool[1].nmembers == 3 &&
	    l.pool[1].member[2].location == 22 &&
	    l.pool[1].member[2].level == 902 &&
	    l.pool[1].member[2].quantity == 20 && l.pool[0].held == 0 &&
	    l.pool[0].nmembers == 0 && l.side[1].baseline == 45);
	CHECK("pool: each member's level finds the link",
	    state_link_find(t, 1, 1077, 21, key) == 0 &&
	    strcmp(key, "h:p/1@7") == 0 &&
	    state_link_find(t, 1, 1077, 22, key) == 0);
	CHECK("pool: a plain link reads with no pool", state_link_get(t,
	    "h:c/1@7", &l) == 0 && l.pool[1].nmembers == 0 &&
	    l.pool[1].held == 0);
	return 0;
}

/* The group shrinks to one location: its other members leave the index. */
static int
ungroup(struct state_txn *t, void *arg)
{
	struct link l;

	(void)arg;
	if (state_link_get(t, "h:p/1@7", &l) != 0)
		return -1;
	memset(&l.pool[1], 0, sizeof(l.pool[1]));
	return state_link_put(t, &l);
}

static int
check_ungrouped(struct state_txn *t, void *arg)
{
	char key[LINK_KEY_MAX];

	(void)arg;
	CHECK("pool: ungrouped: the side's location stays",
	    state_link_find(t, 1, 1077, 20, key) == 0);
	CHECK_INT("pool: ungrouped: a former member is forgotten",
	    state_link_find(t, 1, 1077, 21, key), 1);
	return 0;
}

static int
drop_pool(struct state_txn *t, void *arg)
{
	(void)arg;
	return state_link_del(t, "h:p/1@7");
}

/*
 * A level taken by a second link (its location moved to another group)
 * stays indexed to it when the first link goes.
 */
static int
taken_level(struct state_txn *t, void *arg)
{
	char key[LINK_KEY_MAX];
	struct link l;

	(void)arg;
	make_link(&l, "h:old@7", 5000, 0);
	if (state_link_put(t, &l) == -1)
		return -1;
	make_link(&l, "h:new@7", 5000, 0);
	if (state_link_put(t, &l) == -1 || state_link_del(t, "h:old@7") == -1)
		return -1;
	CHECK("index: a level another link took stays with it",
	    state_link_find(t, 1, 6000, 8, key) == 0 &&
	    strcmp(key, "h:new@7") == 0);
	return state_link_del(t, "h:new@7");
}

static int
pending_cycle(struct state_txn *t, void *arg)
{
	struct pending *p = xp_alloc(), *q = xp_alloc();
	int ok;

	(void)arg;
	snprintf(p->key, sizeof(p->key), "0123456789abcdef0123456789abcdef");
	p->store = 1;
	p->created_ms = 1234;
	p->n = 2;
	snprintf(p->ch[0].link, sizeof(p->ch[0].link), "h:b/1@7");
	p->ch[0].item = 1002;
	p->ch[0].from = 45;
	p->ch[0].delta = -5;
	p->ch[1].delta = 3;
	CHECK_INT("pending: absent", state_pending_get(t, 1, q), 1);
	CHECK_INT("pending: put", state_pending_put(t, p), 0);
	ok = state_pending_get(t, 1, q) == 0 && q->n == 2 &&
	    strcmp(q->key, p->key) == 0 && q->ch[0].from == 45 &&
	    q->ch[0].delta == -5 && q->ch[1].delta == 3 && !q->sent &&
	    strcmp(q->ch[0].link, "h:b/1@7") == 0;
	CHECK("pending: round trip", ok);
	q->sent = 1;
	state_pending_put(t, q);
	CHECK("pending: sent flag kept", state_pending_get(t, 1, p) == 0 &&
	    p->sent == 1);
	CHECK_INT("pending: other store absent", state_pending_get(t, 0, q), 1);
	CHECK_INT("pending: delete", state_pending_del(t, 1), 0);
	CHECK_INT("pending: gone", state_pending_get(t, 1, q), 1);
	free(p);
	free(q);
	return 0;
}

static int
meta_and_audit(struct state_txn *t, void *arg)
{
	struct audit_entry a;
	char buf[64];
	int64_t v = 0;
	int i;

	(void)arg;
	CHECK_INT("meta: absent", state_meta_get_i64(t, "poll.0", &v), 1);
	state_meta_put_i64(t, "poll.0", 99);
	CHECK("meta: i64", state_meta_get_i64(t, "poll.0", &v) == 0 && v == 99);
	state_meta_put_str(t, "paused", "guard: 12 of 12");
	CHECK("meta: str", state_meta_get_str(t, "paused", buf, sizeof(buf))
	    == 0 && strcmp(buf, "guard: 12 of 12") == 0);
	CHECK_INT("meta: too small a buffer", state_meta_get_str(t, "paused",
	    buf, 4), -1);
	state_meta_del(t, "paused");
	CHECK_INT("meta: deleted", state_meta_get_str(t, "paused", buf,
	    sizeof(buf)), 1);
	for (i = 0; i < AUDIT_MAX + 25; i++) {
		memset(&a, 0, sizeof(a));
		a.kind = AUDIT_APPLIED;
		a.delta = i;
		if (state_audit_append(t, &a) == -1)
			return -1;
	}
	return 0;
}

struct last {
	int	n;
	int64_t	first, last;
};

static int
last_cb(const struct audit_entry *e, void *arg)
{
	struct last *x = arg;

	if (x->n++ == 0)
		x->first = e->delta;
	x->last = e->delta;
	return 0;
}

static int
check_audit(struct state_txn *t, void *arg)
{
	struct last x = { 0, 0, 0 };

	(void)arg;
	state_audit_last(t, 3, last_cb, &x);
	CHECK("audit: last 3, oldest first", x.n == 3 &&
	    x.first == AUDIT_MAX + 22 && x.last == AUDIT_MAX + 24);
	memset(&x, 0, sizeof(x));
	state_audit_last(t, AUDIT_MAX + 100, last_cb, &x);
	CHECK_INT("audit: bounded", x.n, AUDIT_MAX);
	CHECK_INT("audit: oldest dropped", x.first, 25);
	return 0;
}

/* Fills the map past its initial size with big pending batches. */
static int
big_batch(struct state_txn *t, void *arg)
{
	struct pending *p = xp_alloc();
	int r;

	p->store = *(uint32_t *)arg;
	p->n = BATCH_MAX;
	r = state_pending_put(t, p);
	free(p);
	return r;
}

int
main(void)
{
	struct state *st;
	uint32_t s;
	int ok = 1;

	if (mkdtemp(dir) == NULL)
		return 1;
	CHECK("open: read-only needs a file", state_open(dir, 1) == NULL);
	st = state_open(dir, 0);
	CHECK("open: create", st != NULL);
	if (st == NULL)
		return check_exit();
	CHECK_INT("links: put", state_update(st, put_links, NULL), 0);
	state_view(st, check_links, NULL);
	CHECK_INT("links: settle", state_update(st, settle_one, NULL), 0);
	state_view(st, check_settled, NULL);
	CHECK_INT("pool: put", state_update(st, put_pool, NULL), 0);
	state_view(st, check_pool, NULL);
	CHECK_INT("pool: ungroup", state_update(st, ungroup, NULL), 0);
	state_view(st, check_ungrouped, NULL);
	CHECK_INT("pool: delete", state_update(st, drop_pool, NULL), 0);
	CHECK_INT("index: taken level", state_update(st, taken_level, NULL), 0);
	state_update(st, pending_cycle, NULL);
	CHECK_INT("meta/audit: update", state_update(st, meta_and_audit, NULL), 0);
	state_view(st, check_audit, NULL);
	for (s = 100; s < 500 && ok; s++)
		ok = state_update(st, big_batch, &s) == 0;
	CHECK("map: grows past its initial size (400 x 110 KB)", ok);
	state_close(st);
	st = state_open(dir, 1);
	CHECK("open: read-only after growth", st != NULL);
	if (st != NULL)
		state_view(st, check_settled, NULL);
	state_close(st);
	check_remove_state(dir);
	return check_exit();
}
