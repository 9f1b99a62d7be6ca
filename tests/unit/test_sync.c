/*
 * test_sync.c: the sync arithmetic of docs/design.md §3 (sync.c), by tables and by
 * a randomised model: stores that sell and restock while writes race them,
 * checked for conservation and the two-way invariant.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sync.h"

static const struct sync_policy two_way = { INITIAL_PRIMARY, DIRECTION_TWO_WAY,
    { 0 } };

static void
new_link(struct link *l, size_t nstores)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	snprintf(l->key, sizeof(l->key), "h:jacket/M@1");
	l->nsides = nstores;
	for (i = 0; i < nstores; i++) {
		l->side[i].item = 100 + i;
		l->side[i].location = 1;
	}
}

static void
test_seed_scenarios(void)
{
	struct link l;
	int64_t from, delta;

	new_link(&l, 2);
	sync_observe(&l, 0, 50, &two_way);
	sync_observe(&l, 1, 50, &two_way);
	CHECK("seed: 50/50 is in step", sync_in_step(&l));
	/* a customer buys 5 in the destination */
	CHECK_INT("seed: sale seen as -5", sync_observe(&l, 1, 45, &two_way), -5);
	CHECK("seed: source owes -5", sync_planned(&l, 0, &from, &delta));
	CHECK_INT("seed: from is 50", from, 50);
	CHECK_INT("seed: delta is -5", delta, -5);
	CHECK("seed: destination owes nothing", !sync_planned(&l, 1, &from, &delta));
	sync_applied(&l, 0, -5);
	CHECK("seed: 45/45 in step", sync_in_step(&l));
	/* our own write is no change when read back (no echo) */
	CHECK_INT("seed: no echo", sync_observe(&l, 0, 45, &two_way), 0);
	/* the merchant restocks 10 in the source */
	sync_observe(&l, 0, 55, &two_way);
	CHECK("seed: destination owes +10", sync_planned(&l, 1, &from, &delta) &&
	    from == 45 && delta == 10);
	sync_applied(&l, 1, 10);
	CHECK("seed: 55/55 in step", sync_in_step(&l) && sync_consistent(&l));
}

static void
test_concurrent_both_sides(void)
{
	struct link l;
	int64_t from, delta;

	new_link(&l, 2);
	sync_observe(&l, 0, 50, &two_way);
	sync_observe(&l, 1, 50, &two_way);
	/* sales on both sides while the agent was down: both kept */
	sync_observe(&l, 0, 47, &two_way);
	sync_observe(&l, 1, 44, &two_way);
	CHECK("both: source owes -6", sync_planned(&l, 0, &from, &delta) &&
	    from == 47 && delta == -6);
	CHECK("both: destination owes -3", sync_planned(&l, 1, &from, &delta) &&
	    from == 44 && delta == -3);
	sync_applied(&l, 0, -6);
	sync_applied(&l, 1, -3);
	CHECK("both: 41/41", l.side[0].baseline == 41 && l.side[1].baseline == 41 &&
	    sync_in_step(&l));
}

static void
test_initial_policies(void)
{
	struct sync_policy p = two_way;
	struct link l;
	int64_t from, delta;

	new_link(&l, 3);
	sync_observe(&l, 0, 10, &p);
	sync_observe(&l, 1, 7, &p);
	sync_observe(&l, 2, 12, &p);
	CHECK("primary: store 1 owes +3", sync_planned(&l, 1, &from, &delta) &&
	    delta == 3);
	CHECK("primary: store 2 owes -2", sync_planned(&l, 2, &from, &delta) &&
	    delta == -2);
	CHECK("primary: consistent", sync_consistent(&l));

	/* the primary seen last still wins */
	new_link(&l, 2);
	sync_observe(&l, 1, 7, &p);
	sync_observe(&l, 0, 10, &p);
	CHECK("primary late: store 1 owes +3", sync_planned(&l, 1, &from, &delta) &&
	    from == 7 && delta == 3);
	CHECK("primary late: primary owes nothing", !sync_planned(&l, 0, &from,
	    &delta));

	p.initial = INITIAL_KEEP;
	new_link(&l, 2);
	sync_observe(&l, 0, 10, &p);
	sync_observe(&l, 1, 7, &p);
	CHECK("keep: nothing owed", sync_in_step(&l));

	p.initial = INITIAL_MIN;
	new_link(&l, 3);
	sync_observe(&l, 0, 10, &p);
	sync_observe(&l, 1, 7, &p);
	sync_observe(&l, 2, 12, &p);
	CHECK("min: store 0 owes -3", sync_planned(&l, 0, &from, &delta) &&
	    delta == -3);
	CHECK("min: store 1 owes 0", !sync_planned(&l, 1, &from, &delta));
	CHECK("min: store 2 owes -5", sync_planned(&l, 2, &from, &delta) &&
	    delta == -5);
}

static void
test_one_way_and_inactive(void)
{
	struct sync_policy p = { INITIAL_KEEP, DIRECTION_ONE_WAY, { 0 } };
	struct link l;
	int64_t from, delta;

	new_link(&l, 2);
	sync_observe(&l, 0, 20, &p);
	sync_observe(&l, 1, 20, &p);
	sync_observe(&l, 1, 18, &p);	/* a local sale stays local */
	CHECK("one-way: source owes nothing", !sync_planned(&l, 0, &from, &delta));
	sync_observe(&l, 0, 25, &p);
	CHECK("one-way: destination owes +5 from 18",
	    sync_planned(&l, 1, &from, &delta) && from == 18 && delta == 5);

	new_link(&l, 2);
	l.side[1].status = SIDE_UNTRACKED;
	sync_observe(&l, 0, 20, &two_way);
	CHECK_INT("untracked: not observed", sync_observe(&l, 1, 5, &two_way), 0);
	sync_observe(&l, 0, 15, &two_way);
	CHECK("untracked: nothing owed to it", !sync_planned(&l, 1, &from, &delta));

	new_link(&l, 2);
	l.side[1].item = 0;	/* the product is in one store only */
	CHECK_INT("absent side: reference is store 0", sync_reference(&l), 0);
	l.side[0].item = 0;
	CHECK_INT("no side: no reference", sync_reference(&l), -1);
}

static void
test_keys_and_guard(void)
{
	char k[LINK_KEY_MAX];

	CHECK("key: handle+sku", sync_link_key(MATCH_HANDLE, "jacket", "J-M", "",
	    "Size=M", 7, k, sizeof(k)) == 0 && strcmp(k, "h:jacket/J-M@7") == 0);
	CHECK("key: handle+options", sync_link_key(MATCH_HANDLE, "jacket", "", "",
	    "Size=M", 7, k, sizeof(k)) == 0 &&
	    strcmp(k, "h:jacket/o:Size=M@7") == 0);
	CHECK("key: handle only", sync_link_key(MATCH_HANDLE, "jacket", "", "", "",
	    7, k, sizeof(k)) == 0 && strcmp(k, "h:jacket/-@7") == 0);
	CHECK("key: no sku under match=sku", sync_link_key(MATCH_SKU, "jacket",
	    "", "", "", 7, k, sizeof(k)) == -1);
	CHECK("key: barcode", sync_link_key(MATCH_BARCODE, "jacket", "J", "123",
	    "", 7, k, sizeof(k)) == 0 && strcmp(k, "b:123@7") == 0);
	CHECK("key: too long refused", sync_link_key(MATCH_SKU, "", "x", "", "",
	    7, k, 4) == -1);
	CHECK("match: the key", sync_key_matches("h:jacket/J-M@7",
	    "h:jacket/J-M@7"));
	CHECK("match: the key without its group",
	    sync_key_matches("h:jacket/J-M@7", "h:jacket/J-M"));
	CHECK("match: the handle", sync_key_matches("h:jacket/J-M@7", "jacket"));
	CHECK("match: the sku in a handle key",
	    sync_key_matches("h:jacket/J-M@7", "J-M"));
	CHECK("match: a sku with '/' and '@'",
	    sync_key_matches("h:jacket/A/B@C@7", "A/B@C"));
	CHECK("match: the sku", sync_key_matches("s:J-M@7", "J-M"));
	CHECK("match: the barcode", sync_key_matches("b:0123@7", "0123"));
	CHECK("match: not a prefix", !sync_key_matches("h:jacket/J-M@7", "jack"));
	CHECK("match: not the group", !sync_key_matches("s:J-M@7", "7"));
	CHECK("match: not '-' of a key without sku",
	    !sync_key_matches("h:jacket/-@7", "-"));
	CHECK("match: not options", !sync_key_matches("h:jacket/o:Size=M@7",
	    "o:Size=M"));
	CHECK("match: nothing matches empty", !sync_key_matches("s:@7", ""));
	CHECK("match: a key with no '@' or ':'", !sync_key_matches("x", "y") &&
	    sync_key_matches("x", "x"));
	CHECK("large: zeroed from 10", sync_change_large(10, -10));
	CHECK("large: doubled from 8", sync_change_large(8, 8));
	CHECK("large: set from nothing", sync_change_large(0, 40));
	CHECK("large: a sale of 3 is not", !sync_change_large(50, -3));
	CHECK("large: 4 units never are", !sync_change_large(2, -4));
	CHECK("large: a restock of 20 on 50 is not", !sync_change_large(50, 20));
	CHECK("large: negative stock", sync_change_large(-20, 25));
	CHECK("guard: 9 of 10 is below the minimum", !sync_guard_trips(9, 10, 50));
	CHECK("guard: 11 of 20 trips at 50%", sync_guard_trips(11, 20, 50));
	CHECK("guard: 10 of 20 does not", !sync_guard_trips(10, 20, 50));
	CHECK("guard: 0% disables", !sync_guard_trips(100, 100, 0));
}

/*
 * The model: nstores stores hold q[i]; customers change them at random;
 * the agent observes some stores, plans, and writes with compare-and-set,
 * and some writes fail.  Afterwards the agent runs until in step, and every
 * store must hold the initial quantity plus every external change.
 */
static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int
model_run(unsigned seed, size_t nstores)
{
	struct link l;
	int64_t q[CONF_MAX_STORES], total = 0, from, delta;
	size_t i, step;
	int inconsistent = 0;

	rng = seed * 2654435761ULL + 1;
	new_link(&l, nstores);
	for (i = 0; i < nstores; i++)
		q[i] = 100;
	for (i = 0; i < nstores; i++)
		sync_observe(&l, i, q[i], &two_way);
	for (step = 0; step < 2000; step++) {
		i = rnd((unsigned)nstores);
		switch (rnd(4)) {
		case 0: {	/* a sale, restock or refund */
			int64_t d = (int64_t)rnd(7) - 3;

			q[i] += d;
			total += d;
			break;
		}
		case 1:
			sync_observe(&l, i, q[i], &two_way);
			break;
		default:	/* a write, which may fail or go stale */
			if (!sync_planned(&l, i, &from, &delta) || rnd(4) == 0)
				break;
			if (from != q[i])
				break;	/* CHANGE_FROM_QUANTITY_STALE */
			q[i] += delta;
			sync_applied(&l, i, delta);
		}
		inconsistent += !sync_consistent(&l);
	}
	/* quiesce: observe every store, write what is owed, until in step */
	for (step = 0; step < 10; step++) {
		for (i = 0; i < nstores; i++)
			sync_observe(&l, i, q[i], &two_way);
		if (sync_in_step(&l))
			break;
		for (i = 0; i < nstores; i++)
			if (sync_planned(&l, i, &from, &delta) && from == q[i]) {
				q[i] += delta;
				sync_applied(&l, i, delta);
			}
	}
	for (i = 0; i < nstores; i++)
		if (q[i] != 100 + total)
			return -1;
	return inconsistent == 0 && sync_in_step(&l) ? 0 : -1;
}

static void
test_model(void)
{
	char name[64];
	unsigned seed;
	size_t n;

	for (n = 2; n <= 4; n++)
		for (seed = 1; seed <= 50; seed++) {
			snprintf(name, sizeof(name), "model: %zu stores, seed %u",
			    n, seed);
			CHECK(name, model_run(seed, n) == 0);
		}
}

/* What store s shows once every owed change is written. */
static int64_t
shown(const struct link *l, size_t s)
{
	return l->side[s].baseline + l->side[s].owed;
}

/* Writes every owed change, as the store would take it. */
static void
write_all(struct link *l)
{
	int64_t from, delta;
	size_t s;

	for (s = 0; s < l->nsides; s++)
		if (sync_planned(l, s, &from, &delta))
			sync_applied(l, s, delta);
}

/* docs/design.md §3a's example: buffer 2 in store 1. */
static void
test_buffers(void)
{
	struct sync_policy p = two_way;
	struct link l;

	p.buffer[1] = 2;
	new_link(&l, 2);
	sync_observe(&l, 0, 3, &p);
	sync_observe(&l, 1, 3, &p);
	CHECK("buffer: the buffered store shows P - 2", shown(&l, 1) == 1 &&
	    shown(&l, 0) == 3 && sync_consistent(&l));
	write_all(&l);
	sync_observe(&l, 1, 0, &p);	/* sells 1 */
	CHECK("buffer: its sale counts in full", shown(&l, 0) == 2 &&
	    shown(&l, 1) == 0);
	write_all(&l);
	sync_observe(&l, 0, 1, &p);	/* sells 1 */
	CHECK("buffer: at 0 while the other has 1", shown(&l, 0) == 1 &&
	    shown(&l, 1) == 0 && l.pool[1].held == 1);
	write_all(&l);
	sync_observe(&l, 1, 5, &p);	/* restocked to 5 */
	CHECK("buffer: a restock in it counts in full, less the buffer",
	    shown(&l, 0) == 6 && shown(&l, 1) == 4);
	write_all(&l);
	sync_observe(&l, 0, -2, &p);	/* oversold: P = -2 */
	CHECK("buffer: an oversold pool shows as it is", shown(&l, 1) == -2 &&
	    l.pool[1].held == 0);
	write_all(&l);
	sync_observe(&l, 0, 1, &p);	/* P = 1 */
	write_all(&l);
	sync_observe(&l, 1, -1, &p);	/* sells one it did not show: P = 0 */
	CHECK("buffer: an oversell below 0 is brought back to 0",
	    shown(&l, 1) == 0 && shown(&l, 0) == 0);
}

static void
test_buffer_initial_and_change(void)
{
	struct sync_policy p = two_way;
	struct link l;

	p.buffer[1] = 2;
	p.initial = INITIAL_MIN;
	new_link(&l, 2);
	sync_observe(&l, 0, 7, &p);
	sync_observe(&l, 1, 4, &p);	/* implies a pool of 6 */
	CHECK("buffer: min takes the implied pool", shown(&l, 0) == 6 &&
	    shown(&l, 1) == 4 && sync_pool(&l, 1) == 6);
	CHECK("implied: 0 implies 0", sync_implied(0, 2) == 0 &&
	    sync_implied(-1, 2) == -1 && sync_implied(3, 2) == 5);
	write_all(&l);
	p.buffer[1] = 5;
	CHECK("buffer changed: the side re-derives", sync_rebuffer(&l, 1, &p) &&
	    shown(&l, 1) == 1 && shown(&l, 0) == 6);
	p.buffer[1] = 0;
	CHECK("buffer removed: the pool shows", sync_rebuffer(&l, 1, &p) &&
	    shown(&l, 1) == 6 && !sync_rebuffer(&l, 1, &p));
	p.initial = INITIAL_KEEP;
	p.buffer[1] = 2;
	new_link(&l, 2);
	sync_observe(&l, 0, 7, &p);
	sync_observe(&l, 1, 4, &p);
	CHECK("buffer: keep writes nothing at first", sync_in_step(&l));
	sync_observe(&l, 0, 5, &p);
	CHECK("buffer: keep moves each pool view", shown(&l, 1) == 2);
}

/* A link whose store 0 side is a group of n members holding q[]. */
static void
new_group(struct link *l, size_t n, const int64_t *q)
{
	size_t m;

	new_link(l, 2);
	l->pool[0].nmembers = (uint32_t)n;
	for (m = 0; m < n; m++) {
		l->pool[0].member[m].location = 10 + m;
		l->pool[0].member[m].quantity = q[m];
		l->pool[0].member[m].seen = 1;
	}
	l->side[0].location = 10;
}

static void
test_spread(void)
{
	static const int64_t q[3] = { 3, 10, 4 }, none[3] = { 0, 0, 0 },
	    neg[3] = { -1, 2, 0 };
	struct member_change mc[GROUP_MAX];
	struct link l;
	int64_t sum;
	size_t n;

	new_group(&l, 3, q);
	CHECK("group: the sum of its members", sync_group_sum(&l, 0, &sum) &&
	    sum == 17);
	n = sync_spread(&l, 0, -5, mc);
	CHECK("spread: a decrease takes from the first down to 0", n == 2 &&
	    mc[0].member == 0 && mc[0].from == 3 && mc[0].delta == -3 &&
	    mc[1].member == 1 && mc[1].from == 10 && mc[1].delta == -2);
	n = sync_spread(&l, 0, 6, mc);
	CHECK("spread: an increase goes to the first", n == 1 &&
	    mc[0].member == 0 && mc[0].from == 3 && mc[0].delta == 6);
	n = sync_spread(&l, 0, -20, mc);
	CHECK("spread: what none has goes to the first", n == 3 &&
	    mc[0].member == 0 && mc[0].delta == -6 && mc[1].delta == -10 &&
	    mc[2].delta == -4);
	new_group(&l, 3, none);
	n = sync_spread(&l, 0, -2, mc);
	CHECK("spread: all at 0: the first takes it", n == 1 &&
	    mc[0].member == 0 && mc[0].delta == -2);
	new_group(&l, 3, neg);
	n = sync_spread(&l, 0, -3, mc);
	CHECK("spread: a member below 0 is passed over", n == 2 &&
	    mc[0].member == 0 && mc[0].from == -1 && mc[0].delta == -1 &&
	    mc[1].member == 1 && mc[1].delta == -2);
	new_group(&l, 3, q);
	l.pool[0].member[0].status = SIDE_INACTIVE;
	n = sync_spread(&l, 0, 4, mc);
	CHECK("spread: an inactive member gets nothing", n == 1 &&
	    mc[0].member == 1 && sync_group_sum(&l, 0, &sum) && sum == 14);
	l.pool[0].member[2].seen = 0;
	CHECK("group: a member not read yet holds the side back",
	    !sync_group_sum(&l, 0, &sum) && sum == 10);
	CHECK("member: by location", sync_member(&l, 0, 11) == 1 &&
	    sync_member(&l, 0, 99) == -1 && sync_member(&l, 1, 1) == 0);
	new_group(&l, 2, q);
	sync_observe(&l, 0, 13, &two_way);
	sync_observe(&l, 1, 13, &two_way);
	sync_applied_at(&l, 0, 11, -4);
	CHECK("applied at a member: the member and the side move",
	    l.pool[0].member[1].quantity == 6 && l.side[0].baseline == 9);
}

int
main(void)
{
	test_seed_scenarios();
	test_concurrent_both_sides();
	test_initial_policies();
	test_one_way_and_inactive();
	test_keys_and_guard();
	test_model();
	test_buffers();
	test_buffer_initial_and_change();
	test_spread();
	return check_exit();
}
