/*
 * test_timing.c: unit tests of agent/timing.c, the engine's pure timing
 * decisions: the poll window (since, sweep, full) as a table, when a
 * catalog step and a reconciliation are due, the paced reconciliation's
 * budget and its place.  End to end they are exercised by the simulation
 * (tests/sim/) and tests/e2e/test_e2e.py; here every row is one decision.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "timing.h"

#define S	1000		/* ms */
#define T0	1800000000000LL	/* a wall clock, ms */

/* ---- the poll window --------------------------------------------------- */

static const struct {
	const char	*name;
	int64_t		 last, lastrec, lastsweep, now, overlap;
	int		 full, sweep;
	int64_t		 since;
} windows[] = {
	/* never polled: every level */
	{ "never polled", 0, T0, 0, T0, 60 * S, 1, 1, 0 },
	/* links await a first sighting (reconcile.N = 0): every level */
	{ "first sighting due", T0 - 5 * S, 0, T0 - 30 * S, T0, 60 * S,
	    1, 1, 0 },
	/* an ordinary poll: since the last one, less the 2 s margin */
	{ "incremental", T0 - 5 * S, T0 - 600 * S, T0 - 30 * S, T0, 60 * S,
	    0, 0, T0 - 5 * S - 2 * S },
	/* an overlap smaller than the margin is the margin */
	{ "margin capped by overlap", T0 - 500, T0 - 600 * S, T0 - 800, T0,
	    1 * S, 0, 0, T0 - 500 - 1 * S },
	/* once per overlap: a sweep since the last sweep less the overlap */
	{ "sweep due", T0 - 5 * S, T0 - 600 * S, T0 - 60 * S, T0, 60 * S,
	    0, 1, T0 - 60 * S - 60 * S },
	{ "sweep not yet", T0 - 5 * S, T0 - 600 * S, T0 - 59 * S, T0,
	    60 * S, 0, 0, T0 - 7 * S },
	/* no sweep yet: one now, since the last poll less the overlap */
	{ "first sweep", T0 - 5 * S, T0 - 600 * S, 0, T0, 60 * S,
	    0, 1, T0 - 5 * S - 60 * S },
	/* a sweep newer than the last poll (a clock step): from the poll */
	{ "sweep after poll", T0 - 5 * S, T0 - 600 * S, T0 - 1 * S, T0,
	    60 * S, 0, 1, T0 - 5 * S - 60 * S },
};

static void
test_poll_window(void)
{
	char name[160];
	size_t k;

	for (k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		struct poll_window w;
		int full = timing_poll_full(windows[k].last, windows[k].lastrec);

		w = timing_poll_window(full, windows[k].now, windows[k].last,
		    windows[k].lastsweep, windows[k].overlap);
		snprintf(name, sizeof(name), "poll window %s: full",
		    windows[k].name);
		CHECK_INT(name, w.full, windows[k].full);
		snprintf(name, sizeof(name), "poll window %s: sweep",
		    windows[k].name);
		CHECK_INT(name, w.sweep, windows[k].sweep);
		snprintf(name, sizeof(name), "poll window %s: since",
		    windows[k].name);
		CHECK_INT(name, w.since, windows[k].since);
	}
}

/* A big store's first sighting comes from a bulk file: polls go on. */
static void
test_poll_window_bulk(void)
{
	struct poll_window w;

	/* timing_poll_full() says full; the engine polls incrementally */
	CHECK_INT("bulk sighting: full by the meta", timing_poll_full(T0, 0), 1);
	w = timing_poll_window(0, T0, T0 - 5 * S, T0 - 10 * S, 60 * S);
	CHECK_INT("bulk sighting: not full", w.full, 0);
	CHECK_INT("bulk sighting: since", w.since, T0 - 7 * S);
}

/* ---- catalog and reconciliation ---------------------------------------- */

static const struct {
	const char	*name;
	int64_t		 now, last, lastfull;
	int		 due, full;
} catalogs[] = {
	{ "never loaded", T0, 0, 0, 1, 1 },
	{ "refresh due", T0, T0 - 300 * S, T0 - 600 * S, 1, 0 },
	{ "refresh not yet", T0, T0 - 299 * S, T0 - 600 * S, 0, 0 },
	{ "full load due", T0, T0 - 10 * S, T0 - 900 * S, 1, 1 },
	{ "full load not yet", T0, T0 - 10 * S, T0 - 899 * S, 0, 0 },
};

static void
test_catalog_due(void)
{
	char name[160];
	size_t k;
	int due, full;

	for (k = 0; k < sizeof(catalogs) / sizeof(catalogs[0]); k++) {
		/* reconcile 15 min, catalog_refresh 5 min: the defaults */
		due = timing_catalog_due(catalogs[k].now, catalogs[k].last,
		    catalogs[k].lastfull, 900 * S, 300 * S, &full);
		snprintf(name, sizeof(name), "catalog %s: due",
		    catalogs[k].name);
		CHECK_INT(name, due, catalogs[k].due);
		snprintf(name, sizeof(name), "catalog %s: full",
		    catalogs[k].name);
		CHECK_INT(name, full, catalogs[k].full);
	}
}

static void
test_reconcile_due(void)
{
	CHECK_INT("reconcile: first sighting under way",
	    timing_reconcile_due(T0, 0, 900 * S), 0);
	CHECK_INT("reconcile: not yet",
	    timing_reconcile_due(T0, T0 - 899 * S, 900 * S), 0);
	CHECK_INT("reconcile: due",
	    timing_reconcile_due(T0, T0 - 900 * S, 900 * S), 1);
}

static void
test_budget(void)
{
	/* the first turn accrues nothing: there is no earlier turn */
	CHECK("budget: first turn", timing_budget(0, 0, 5000, 100) == 0);
	/* 10 % of 100 points/s for 10 s: 100 points */
	CHECK("budget: accrues", timing_budget(0, 1000, 11000, 100) == 100);
	CHECK("budget: no restore rate known",
	    timing_budget(50, 1000, 11000, 0) == 50);
	CHECK("budget: capped at two pages",
	    timing_budget(0, 1000, 1000000, 1000) == 2 * RECONCILE_PAGE_POINTS);
	CHECK("budget: a debt is kept",
	    timing_budget(-300, 1000, 11000, 100) == -200);
}

static void
test_pass_place(void)
{
	const char *cursor;
	char buf[64];
	size_t g;

	timing_pass_parse("0:", 2, &g, &cursor);
	CHECK("pass: start", g == 0 && strcmp(cursor, "") == 0);
	timing_pass_parse("1:eyJsYXN0", 2, &g, &cursor);
	CHECK("pass: group and cursor", g == 1 &&
	    strcmp(cursor, "eyJsYXN0") == 0);
	timing_pass_parse("2:abc", 2, &g, &cursor);
	CHECK("pass: a group gone starts over", g == 0 &&
	    strcmp(cursor, "") == 0);
	timing_pass_parse("garbage", 2, &g, &cursor);
	CHECK("pass: garbage starts over", g == 0 && strcmp(cursor, "") == 0);
	CHECK_INT("pass: format", timing_pass_format(buf, sizeof(buf), 1,
	    "abc"), 0);
	CHECK_STR("pass: formatted", buf, "1:abc");
	CHECK_INT("pass: too long", timing_pass_format(buf, 4, 1, "abc"), -1);
}

int
main(void)
{
	test_poll_window();
	test_poll_window_bulk();
	test_catalog_due();
	test_reconcile_due();
	test_budget();
	test_pass_place();
	return check_exit();
}
