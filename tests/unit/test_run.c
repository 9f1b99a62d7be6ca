/*
 * test_run.c: unit tests of agent/run.c, the services the cycle's files
 * share, against a real LMDB state in a temporary directory: observing
 * levels (a change moves into the other store's owed amount, a level
 * nobody links is ignored, a gone level stops syncing, a first sighting
 * from a snapshot never overrides the polls, nor does a reconciliation's
 * snapshot a side read since it began, a link changing largely is
 * counted once), meta values in their own transaction, the paused flag,
 * a first sighting recorded, store health, and the tallies of the metrics
 * file (a change's seen time carried to its batch).  The cycle itself runs in
 * the simulation (tests/sim/) and end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run.h"
#include "util.h"

#define KEY	"h:slim-fit-denim-jacket/-@Main"

static struct conf conf;
static struct run run;

static int
put_link(struct state_txn *t, void *arg)
{
	struct link l;
	size_t i;

	(void)arg;
	memset(&l, 0, sizeof(l));
	snprintf(l.key, sizeof(l.key), "%s", KEY);
	l.nsides = 2;
	for (i = 0; i < 2; i++) {
		l.side[i].item = 100 + i;
		l.side[i].location = 10 + i;
		l.side[i].baseline = 50;
		l.side[i].has_baseline = 1;
		l.side[i].status = SIDE_OK;
	}
	return state_link_put(t, &l);
}

static int
get_link(struct state_txn *t, void *arg)
{
	return state_link_get(t, KEY, arg) == 0 ? 0 : -1;
}

static struct link
link_now(void)
{
	struct link l;

	memset(&l, 0, sizeof(l));
	if (state_view(run.st, get_link, &l) != 0)
		printf("FAIL reading the link\n"), check_failures++;
	return l;
}

static struct client_level
level(size_t store, int64_t available)
{
	struct client_level lv;

	memset(&lv, 0, sizeof(lv));
	lv.item = 100 + store;
	lv.location = 10 + store;
	lv.available = available;
	lv.active = lv.found = 1;
	return lv;
}

static void
test_observe(void)
{
	struct client_level lv;
	struct link l;

	lv = level(0, 45);		/* a sale of 5 in the source */
	CHECK_INT("observe: ok", run_observe_levels(&run, 0, &lv, 1), 0);
	l = link_now();
	CHECK_INT("observe: the baseline follows", l.side[0].baseline, 45);
	CHECK_INT("observe: the other store owes the change", l.side[1].owed,
	    -5);
	CHECK_INT("observe: counted", run.changed, 1);
	CHECK("observe: the store owed is owed since now",
	    run.s[1].tally.owed_since > 0 && run.s[0].tally.owed_since == 0);
	CHECK_INT("observe: a sale is not large", run.large, 0);

	CHECK_INT("observe again: ok", run_observe_levels(&run, 0, &lv, 1), 0);
	CHECK_INT("observe again: no change", run.changed, 1);

	lv = level(0, 0);		/* zeroed: large */
	CHECK_INT("large: ok", run_observe_levels(&run, 0, &lv, 1), 0);
	CHECK_INT("large: counted", run.large, 1);
	lv = level(1, 200);		/* the same link moves largely elsewhere */
	CHECK_INT("large twice: ok", run_observe_levels(&run, 1, &lv, 1), 0);
	CHECK_INT("large twice: the link counts once", run.large, 1);
	run_seen_clear(&run);
	run.large = 0;
	lv = level(1, 20);
	CHECK_INT("a new cycle: ok", run_observe_levels(&run, 1, &lv, 1), 0);
	CHECK_INT("a new cycle: counted again", run.large, 1);

	lv = level(0, 7);
	lv.item = 999;			/* nobody links it */
	CHECK_INT("unlinked level: ignored", run_observe_levels(&run, 0, &lv,
	    1), 0);

	lv = level(0, 30);
	CHECK_INT("first sighting only: ok", run_observe_first(&run, 0, &lv,
	    1), 0);
	CHECK_INT("first sighting only: a sighted side keeps the polls' value",
	    link_now().side[0].baseline, 0);

	lv = level(1, 0);
	lv.found = 0;
	CHECK_INT("gone level: ok", run_observe_levels(&run, 1, &lv, 1), 0);
	l = link_now();
	CHECK_INT("gone level: not synced", l.side[1].status, SIDE_MISSING);
	CHECK_INT("gone level: no baseline", l.side[1].has_baseline, 0);
}

/*
 * A reconciliation's snapshot of epoch E: a side a live read touched in E
 * keeps its value; a side last touched before E takes the snapshot's as a
 * change no poll saw, once.
 */
static void
test_snapshot(void)
{
	struct client_level lv;
	size_t found = 0;
	int64_t src;

	CHECK_INT("snapshot: a fresh link", state_update(run.st, put_link, NULL),
	    0);
	CHECK_INT("snapshot: epoch 3", run_meta_set(&run, META_EPOCH, 0, 3), 0);
	run_meta_set(&run, META_EPOCH, 1, 3);
	lv = level(0, 44);		/* a poll in epoch 3 */
	CHECK_INT("snapshot: a poll", run_observe_levels(&run, 0, &lv, 1), 0);
	CHECK_INT("snapshot: the poll stamps the side", link_now().side[0].touched,
	    3);
	lv = level(0, 30);		/* the file: older news */
	CHECK_INT("snapshot: ok", run_observe_snapshot(&run, 0, &lv, 1, 3,
	    &found), 0);
	CHECK_INT("snapshot: a side touched since keeps its value",
	    link_now().side[0].baseline, 44);
	CHECK_INT("snapshot: nothing found", (int)found, 0);

	run_meta_set(&run, META_EPOCH, 0, 4);	/* the next snapshot */
	src = link_now().side[1].owed;
	lv = level(0, 41);		/* a change the index missed */
	CHECK_INT("snapshot: next epoch", run_observe_snapshot(&run, 0, &lv, 1,
	    4, &found), 0);
	CHECK_INT("snapshot: an untouched side takes it", link_now().side[0].baseline,
	    41);
	CHECK_INT("snapshot: a change found", (int)found, 1);
	CHECK_INT("snapshot: the other store owes it",
	    (int)(link_now().side[1].owed - src), -3);
	CHECK_INT("snapshot: the file does not stamp the side",
	    link_now().side[0].touched, 3);
	lv = level(0, 41);		/* a poll then reads the same: no change */
	found = 0;
	CHECK_INT("snapshot: the poll after", run_observe_levels(&run, 0, &lv, 1),
	    0);
	CHECK_INT("snapshot: counted once", (int)(link_now().side[1].owed - src),
	    -3);
}

static void
test_meta(void)
{
	char buf[META_STR_MAX];
	int64_t v = 7;
	int paused = -1;

	CHECK_INT("meta: absent", run_meta_get(&run, META_SWEEP, 1, &v), 0);
	CHECK_INT("meta: absent reads 0", v, 0);
	CHECK_INT("meta: set", run_meta_set(&run, META_SWEEP, 1, 1234), 0);
	CHECK("meta: get", run_meta_get(&run, META_SWEEP, 1, &v) == 0 &&
	    v == 1234);
	CHECK("meta: the other store's is apart",
	    run_meta_get(&run, META_SWEEP, 0, &v) == 0 && v == 0);
	CHECK_INT("meta: a string", run_meta_set_str(&run, META_RPASS, 1,
	    "0:abc"), 0);
	CHECK("meta: the string back", run_meta_get_str(&run, META_RPASS, 1,
	    buf, sizeof(buf)) == 0 && strcmp(buf, "0:abc") == 0);

	CHECK("paused: not", run_paused(&run, &paused, buf, sizeof(buf)) == 0 &&
	    paused == 0 && buf[0] == '\0');
	run_meta_set_str(&run, META_PAUSED, 0, "by the operator");
	CHECK("paused: with its reason", run_paused(&run, &paused, buf,
	    sizeof(buf)) == 0 && paused == 1 &&
	    strcmp(buf, "by the operator") == 0);

	run_meta_set(&run, META_RSTART, 1, 99);
	CHECK_INT("sighted: ok", run_levels_sighted(&run, 1, 5678), 0);
	CHECK("sighted: reconcile.1 is its time",
	    run_meta_get(&run, META_RECONCILE, 1, &v) == 0 && v == 5678);
	CHECK("sighted: a paced pass under way is over",
	    run_meta_get(&run, META_RSTART, 1, &v) == 0 && v == 0 &&
	    run_meta_get_str(&run, META_RPASS, 1, buf, sizeof(buf)) == 0 &&
	    buf[0] == '\0');
}

static void
test_health(void)
{
	int64_t v = 0;

	run.s[0].retry_at = util_mono_ms() + 60000;
	run.s[0].failures = 3;
	CHECK_INT("health: backed off", run_store_ok(&run, 0), 0);
	CHECK_INT("health: the other store is fine", run_store_ok(&run, 1), 1);
	run_store_succeeded(&run, 0);
	CHECK_INT("health: a success ends the backoff", run_store_ok(&run, 0),
	    1);
	CHECK_INT("health: failures reset", run.s[0].failures, 0);
	CHECK("health: ok.0 recorded", run_meta_get(&run, META_OK, 0, &v) == 0 &&
	    v > 0);
	CHECK_INT("health: no state failure", run.state_failed, 0);
}

/*
 * A change's seen time (owed_since) goes to the batch planned for it and
 * is cleared once the plan commits, unless the batch is full (the rest is
 * owed since the same time); the latency runs from it to the write.
 */
static void
test_tally(void)
{
	struct store_tally *t = &run.s[1].tally;
	struct pending *p = xcalloc(1, sizeof(*p));
	const int64_t seen = 1800000000000LL;

	t->owed_since = seen;
	snprintf(p->key, sizeof(p->key), "%032d", 1);
	p->store = 1;
	p->created_ms = seen + 5000;
	p->n = 1;
	run_tally_plan(&run, 1, p);
	CHECK_INT("tally: the batch is seen when its change was", t->batch_seen,
	    seen);
	CHECK_INT("tally: kept until the plan commits", t->owed_since, seen);
	run_tally_planned(&run);
	CHECK_INT("tally: cleared once it did", t->owed_since, 0);
	run_tally_applied(&run, p, seen + 2500);
	CHECK_INT("tally: one latency", t->latency.n, 1);
	CHECK("tally: 2.5 s", t->latency.sum == 2.5 &&
	    t->latency.count[4] == 1 && t->latency.count[3] == 0);

	t->owed_since = seen;
	p->n = BATCH_MAX;
	run_tally_plan(&run, 1, p);
	run_tally_planned(&run);
	CHECK_INT("tally: a full batch leaves the rest owed since then",
	    t->owed_since, seen);

	snprintf(p->key, sizeof(p->key), "%032d", 2);	/* planned before */
	run_tally_applied(&run, p, p->created_ms + 500);
	CHECK("tally: a batch of an earlier run counts from its planning",
	    t->latency.n == 2 && t->latency.sum == 3.0);
	run_tally_plan(&run, 0, p);
	CHECK_INT("tally: another store's plan leaves it alone",
	    t->owed_since, seen);
	free(p);
}

int
main(void)
{
	char dir[] = "/tmp/test_run.XXXXXX", cmd[64];

	if (mkdtemp(dir) == NULL) {
		SKIP("run", "no temporary directory");
		return 0;
	}
	snprintf(conf.stores[0].name, sizeof(conf.stores[0].name), "source");
	snprintf(conf.stores[1].name, sizeof(conf.stores[1].name),
	    "destination");
	conf.nstores = 2;
	run.c = &conf;
	run.nstores = 2;
	run.pol.initial = INITIAL_PRIMARY;
	run.pol.direction = DIRECTION_TWO_WAY;
	if ((run.st = state_open(dir, 0)) == NULL ||
	    state_update(run.st, put_link, NULL) != 0) {
		printf("FAIL run: cannot make a state in %s\n", dir);
		return 1;
	}
	test_observe();
	test_snapshot();
	test_meta();
	test_health();
	test_tally();
	state_close(run.st);
	free(run.seen.h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	return check_exit();
}
