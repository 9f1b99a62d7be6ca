/*
 * sim.c: owns the schedules and the oracle of the deterministic simulation
 * (docs/simulation.md).
 *
 *   sim [-n N] [-s FIRST] [-j JOBS]   N schedules from seed FIRST on, each in
 *                                     a child process; ends "N schedules,
 *                                     N failed"
 *   sim -t SEED                       one schedule with its step-by-step trace
 *   sim -l FILE                       the seeds FILE lists (regressions)
 *   SIM_STATS=1 sim ...               also a line a schedule: simulated
 *                                     seconds and crashes
 *   SIM_POOLS=0 sim ...               no location groups nor buffers: the
 *                                     schedules as drawn before them
 *
 * A schedule: a seed chooses 2 or 3 stores (1-3 locations, 2-8 variants),
 * the sync policy, in half the schedules stock pools (location groups of
 * 1-3 members a store, buffers of 0-5 a store), each store's idempotency
 * semantics (key retention from none to days, random eviction, what a
 * replay answers), the search index's lag and misses, outages, faults at
 * every request, crashes at every request and every LMDB commit, and
 * external sales, restocks and refunds between any two steps.  The real
 * engine (engine_run(), what `run` does) syncs through it; after a warm-up
 * the faults and changes come, then a quiet stretch, and at quiescence the
 * oracle checks every invariant.
 *
 * The oracle's unit is a link, u = (variant, group): store s's side of it,
 * the sum of its member levels, must be T_s(P_s(u)), what a buffer of N_s
 * shows of the pool P_s(u) = the `initial` base over the sides' first
 * sightings + the external changes that move s's view of it + the errors
 * of the uncertain guesses (docs/design.md §3a).  Without groups and
 * buffers a link is a level and T_s(P) = P.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "log.h"
#include "sim.h"
#include "state.h"
#include "sync.h"

#define WARMUP_MS	1500	/* no faults: every link gets its first sighting */
#define QUIET_MIN_MS	1500
#define QUIET_MAX_MS	100000	/* past sweeps and a reconciliation */
#define MAX_FAILS	8


/* ---- randomness ---------------------------------------------------------- */

static uint64_t rng;

uint64_t
sim_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);	/* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t
sim_below(uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)(sim_rand() % n);
}

int
sim_chance(unsigned permille)
{
	return permille > 0 && sim_below(1000) < permille;
}

/* ---- the schedule -------------------------------------------------------- */

static struct {
	uint64_t	seed;
	size_t		nstores, nlocs, nvariants;
	/* stock pools (issue 18): each store's locations in ngroups groups,
	   a variant's link one a group; without a [locations] section, one
	   location a group, linked by name */
	int		loc_lines;	/* a [locations] section is written */
	int		by_id;		/* ... naming locations by id */
	int		buffered;	/* `buffer =` written in every store */
	size_t		ngroups;
	size_t		store_locs[SIM_STORES];
	size_t		nmembers[SIM_STORES][SIM_LOCS];
	size_t		member[SIM_STORES][SIM_LOCS][SIM_LOCS];	/* in order */
	size_t		group_of[SIM_STORES][SIM_LOCS];
	int64_t		buffer[SIM_STORES];	/* in effect now */
	int64_t		buffer0[SIM_STORES];	/* at the first sightings */
	int		rebuffer;	/* a restart changes a store's buffer */
	size_t		rebuffer_store;
	int64_t		rebuffer_to;
	int		reload;		/* ... or a reload (SIGHUP) does, at */
	int64_t		reload_at;	/* this ms into the changes */
	size_t		new_stocked[SIM_STORES][SIM_LOCS];	/* the member
					   of each group a created variant is
					   stocked at */
	enum initial_policy initial;
	enum direction	direction;
	int64_t		active_ms;
	int64_t		active_from;	/* 0 until every link is sighted */
	size_t		nev;		/* external changes, drawn up front */
	int		ev_store[SIM_EVENTS];
	size_t		ev_level[SIM_EVENTS];
	int64_t		ev_delta[SIM_EVENTS], ev_at[SIM_EVENTS];
	size_t		nedits;		/* catalog edits (two-way only) */
	int		edit_store[2];
	size_t		edit_var[2];
	enum sim_edit	edit_kind[2];
	int64_t		edit_at[2];
	int		match_sku;	/* match = sku, else handle */
	int		copy;		/* edits 0 and 1: EDIT_COPY, EDIT_TOUCH;
					   full catalog loads less often than
					   refreshes, unless bulk */
	int64_t		downtime_ms;	/* a crashed agent is down this long */
	int		bulk;		/* full reads by bulk operations: the
					   first load, and each reconciliation
					   a levels snapshot */
	size_t		new_var;	/* created while running; SIZE_MAX none */
	int		deact;		/* a group member is deactivated */
	size_t		deact_store, deact_level, deact_unit;
	int64_t		deact_at, react_at;	/* react_at 0: never again */
	int		deact_synced[SIM_STORES];	/* the agent syncs the
					   side of deact_unit (its view) */
	int64_t		new_at[SIM_STORES];
	int		new_sighted;	/* the agent has sighted its links */
	size_t		napplied;	/* the external changes made, in order */
	int		ap_store[SIM_EVENTS];
	size_t		ap_level[SIM_EVENTS];
	int64_t		ap_delta[SIM_EVENTS], ap_time[SIM_EVENTS];
	int64_t		init[SIM_STORES][SIM_LEVELS];	/* at the start */
	int64_t		ext[SIM_STORES][SIM_LEVELS];	/* external changes */
	char		dir[256];
	struct conf	conf;
	int		stopping;
	int		collected;	/* the agent's state, read at its close */
	size_t		final_pending, final_links, final_in_step;
	size_t		final_dup_synced;
	int		dup_failed;	/* report_duplicate() failed it */
	size_t		final_uncertain;
	int64_t		next_check;
	int		nfails;
	char		fails[MAX_FAILS][256];
	size_t		nbatches;
	struct sim_batch batch[SIM_BATCHES];
} S;

int	sim_tracing;
jmp_buf	sim_crash_jmp;
int	sim_crashes;
static struct state *sim_state;	/* the agent's, while it is open */

void
sim_trace(const char *fmt, ...)
{
	va_list ap;

	if (!sim_tracing)
		return;
	fprintf(stderr, "[%8.3f] ", (double)(sim_now - SIM_EPOCH_MS) / 1000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
sim_fail(const char *fmt, ...)
{
	va_list ap;

	if (S.nfails < MAX_FAILS) {
		va_start(ap, fmt);
		vsnprintf(S.fails[S.nfails], sizeof(S.fails[0]), fmt, ap);
		va_end(ap);
		sim_trace("VIOLATION: %s", S.fails[S.nfails]);
	}
	S.nfails++;
}

static int
phase_active(void)
{
	return S.active_from != 0 && sim_now >= S.active_from &&
	    sim_now < S.active_from + S.active_ms;
}

void
sim_crash_point(const char *where)
{
	sim_faults.on = phase_active();
	if (!sim_faults.on || sim_crashes >= sim_faults.max_crashes ||
	    !sim_chance(sim_faults.crash))
		return;
	sim_trace("CRASH at %s", where);
	longjmp(sim_crash_jmp, 1);
}

/* Picks one of n values. */
#define PICK(a)	((a)[sim_below(sizeof(a) / sizeof((a)[0]))])

static void
choose_shop(struct sim_shop *s)
{
	static const int64_t retention[] = { 0, 0, 300, 2000, 30000, 3600000,
	    86400000, 7 * 86400000LL };
	static const unsigned evict[] = { 0, 0, 2, 20, 100 };
	static const int64_t lag[] = { 0, 0, 400, 1500, 4000 };
	static const unsigned miss[] = { 0, 0, 0, 30, 150 };

	s->replay = (enum replay_mode)sim_below(REPLAY_MODES);
	s->retention_ms = PICK(retention);
	s->evict_permille = PICK(evict);
	s->lag_ms = PICK(lag);
	s->miss_permille = PICK(miss);
	s->down_from = s->down_until = 0;	/* offsets until activate() */
	if (sim_chance(300)) {
		s->down_from = sim_below((uint32_t)S.active_ms);
		s->down_until = s->down_from + 200 + sim_below(8000);
	}
}

static void
choose_faults(void)
{
	struct sim_faults *f = &sim_faults;
	unsigned heavy = sim_chance(700) ? 1 : 0;

	memset(f, 0, sizeof(*f));
	f->read_fail = heavy * sim_below(80);
	f->read_garbage = heavy * sim_below(30);
	f->throttle = heavy * sim_below(60);
	f->write_connect = heavy * sim_below(60);
	f->write_lost = heavy * sim_below(100);
	f->write_reply_lost = heavy * sim_below(200);
	f->write_slow = heavy * sim_below(80);
	f->crash = sim_below(40);
	f->max_crashes = (int)sim_below(7);
}

static void	choose_edits(uint64_t seed);
static void	choose_pools(uint64_t seed);
static void	choose_deactivation(uint64_t seed);
static void	choose_copy(uint64_t seed);
static size_t	unit_of(size_t s, size_t k);
static void	stock_created(size_t i, size_t v);

/*
 * Each store's cost bucket: a Standard plan's (2000 points, 100 a second)
 * or, in one store of five, a small one (100 points, 10 a second) that
 * the agent's reads and writes outrun.
 */
static void
choose_buckets(void)
{
	size_t i;

	for (i = 0; i < S.nstores; i++)
		if (sim_chance(200)) {
			sim_shops[i].bucket_size = sim_shops[i].bucket = 100;
			sim_shops[i].bucket_rate = 10;
		}
}

/*
 * This machine's clock against Shopify's: right in half the schedules;
 * else off by up to 10 minutes either way, and in half of those it jumps
 * to another error (NTP catching up, or going wrong) at some moment.
 */
static void
choose_local_clock(void)
{
	memset(&sim_local, 0, sizeof(sim_local));
	if (sim_chance(500))
		return;
	sim_local.skew_ms = (int64_t)sim_below(1200001) - 600000;
	sim_local.skew_after_ms = sim_local.skew_ms;
	if (sim_chance(500)) {
		sim_local.skew_after_ms = sim_chance(500) ? 0 :
		    (int64_t)sim_below(1200001) - 600000;
		sim_local.jump_at = sim_now + WARMUP_MS +
		    (int64_t)sim_below((uint32_t)S.active_ms);
	}
}

static void
choose_schedule(uint64_t seed)
{
	static const enum initial_policy init[] = { INITIAL_PRIMARY,
	    INITIAL_KEEP, INITIAL_MIN };
	size_t i, k, nev;

	memset(&S.init, 0, sizeof(S.init));
	memset(&S.ext, 0, sizeof(S.ext));
	S.seed = seed;
	rng = seed * 0x2545f4914f6cdd1dULL + 1;
	sim_clock_reset();
	S.nstores = 2 + sim_below(2);
	S.nlocs = 1 + sim_below(SIM_LOCS);
	S.nvariants = 2 + sim_below(SIM_VARIANTS - 1);
	S.initial = PICK(init);
	S.direction = sim_chance(250) ? DIRECTION_ONE_WAY : DIRECTION_TWO_WAY;
	S.active_ms = 1000 + sim_below(4000);
	sim_nshops = S.nstores;
	choose_pools(seed);
	for (i = 0; i < S.nstores; i++) {
		sim_shop_init(&sim_shops[i], (int)i, S.store_locs[i],
		    S.nvariants);
		choose_shop(&sim_shops[i]);
		for (k = 0; k < sim_shops[i].nlevels; k++)
			S.init[i][k] = sim_shops[i].lvl[k].available;
	}
	choose_faults();
	S.nev = nev = sim_below(SIM_EVENTS / 2);
	for (k = 0; k < nev; k++) {
		int64_t d = (int64_t)sim_below(3) + 1;

		S.ev_store[k] = (int)sim_below((uint32_t)S.nstores);
		S.ev_level[k] = sim_below((uint32_t)
		    sim_shops[S.ev_store[k]].nlevels);
		S.ev_delta[k] = sim_chance(650) ? -d : d;
		S.ev_at[k] = sim_below((uint32_t)S.active_ms);
	}
	choose_edits(seed);
	choose_deactivation(seed);
	choose_copy(seed);
}

/*
 * Up to two catalog edits (a renamed handle, an edited SKU, a deleted
 * product) of distinct variants, in two-way schedules, and how long a
 * crashed agent stays down, drawn from a stream of their own so that they
 * leave the rest of the schedule as it was.
 */
static void
choose_edits(uint64_t seed)
{
	uint64_t saved = rng;
	size_t k;

	rng = seed * 0x9e3779b97f4a7c15ULL + 0x1234567;
	S.nedits = 0;
	if (S.direction == DIRECTION_TWO_WAY && sim_chance(350))
		S.nedits = 1 + sim_below(2);
	for (k = 0; k < S.nedits; k++) {
		S.edit_store[k] = (int)sim_below((uint32_t)S.nstores);
		S.edit_var[k] = (k == 0 ? 0 : S.edit_var[0] + 1 +
		    sim_below((uint32_t)S.nvariants - 1)) % S.nvariants;
		S.edit_kind[k] = (enum sim_edit)sim_below(EDITS);
		S.edit_at[k] = sim_below((uint32_t)S.active_ms);
	}
	/* in 2 of 5 schedules, time passes before a crashed agent restarts */
	S.downtime_ms = sim_chance(400) ? 500 + sim_below(9500) : 0;
	/* in a third of those without edits, the merchant creates the last
	   variant (of a new product, or a new one of the last product) in
	   each store, at moments of their own */
	S.new_var = SIZE_MAX;
	if (S.nedits == 0 && sim_chance(330)) {
		S.new_var = S.nvariants - 1;
		for (k = 0; k < S.nstores; k++) {
			S.new_at[k] = sim_below((uint32_t)S.active_ms);
			sim_shop_hide(&sim_shops[k], S.new_var);
			stock_created(k, S.new_var);
		}
	}
	choose_local_clock();
	choose_buckets();
	/* in a third of schedules, the stores are big: bulk operations,
	   reconciled every 3 s by a snapshot the polls must not lose to */
	S.bulk = sim_chance(330);
	rng = saved;
}

/*
 * Store i's locations and their groups.  Not drawn: S.nlocs locations,
 * one a group.  Drawn: S.ngroups to 3 S.ngroups locations (at most
 * SIM_LOCS, so at most 3 a group), in an order of the draw's; the first
 * S.ngroups of it open a group each, the others join one at random.
 */
static void
choose_groups(size_t i, int drawn)
{
	size_t order[SIM_LOCS], n, k, j, g, most;

	most = 3 * S.ngroups < SIM_LOCS ? 3 * S.ngroups : SIM_LOCS;
	n = !drawn ? S.nlocs :
	    S.ngroups + sim_below((uint32_t)(most - S.ngroups + 1));
	S.store_locs[i] = n;
	for (k = 0; k < n; k++)
		order[k] = k;
	for (k = n; drawn && k > 1; k--) {	/* Fisher-Yates */
		j = sim_below((uint32_t)k);
		g = order[k - 1];
		order[k - 1] = order[j];
		order[j] = g;
	}
	for (k = 0; k < n; k++) {
		g = k < S.ngroups ? k : sim_below((uint32_t)S.ngroups);
		S.member[i][g][S.nmembers[i][g]++] = order[k];
		S.group_of[i][order[k]] = g;
	}
	for (g = 0; g < S.ngroups; g++)
		S.new_stocked[i][g] = S.member[i][g][sim_below((uint32_t)
		    S.nmembers[i][g])];
}

/*
 * A variant created while the agent runs is stocked at one member of each
 * group: the agent reads a group's members one by one (each location's
 * levels, or a bulk file's rows each as it began or ended), so it may
 * sight a side created at several members without some of them, which
 * then join the sum, and the side is sighted afresh (docs/design.md §3a):
 * the truth would hang on when each member was read.
 * The other members' levels never exist, nor count in a side.
 */
static void
stock_created(size_t i, size_t v)
{
	struct sim_shop *s = &sim_shops[i];
	size_t k;

	for (k = 0; k < s->nlevels; k++)
		if (s->lvl[k].var == v && s->lvl[k].loc !=
		    S.new_stocked[i][S.group_of[i][s->lvl[k].loc]]) {
			s->lvl[k].unstocked = 1;
			S.init[i][k] = 0;
		}
}

/*
 * Stock pools (issue 18) in half the schedules, none when SIM_POOLS=0:
 * location groups (a [locations] section, by name or by id), buffers of
 * 0-5 a store, or both.  Drawn from a stream of their own, so that a
 * schedule without them is the one its seed drew before pools.
 */
static void
choose_pools(uint64_t seed)
{
	const char *env = getenv("SIM_POOLS");
	uint64_t saved = rng;
	size_t i;
	int groups = 0;

	rng = seed * 0xd1b54a32d192ed03ULL + 0x7654321;
	if ((env == NULL || strcmp(env, "0") != 0) && sim_chance(500)) {
		groups = sim_chance(750);
		S.buffered = !groups || sim_chance(600);
	}
	S.ngroups = S.nlocs;
	if (groups) {
		S.loc_lines = 1;
		S.by_id = sim_chance(500);
		S.ngroups = 1 + sim_below(SIM_LOCS);
	}
	for (i = 0; i < S.nstores; i++) {
		choose_groups(i, groups);
		S.buffer[i] = S.buffered ? (int64_t)sim_below(6) : 0;
		S.buffer0[i] = S.buffer[i];
	}
	/* in half of those with buffers, the first restart comes with one
	   store's buffer changed */
	if (S.buffered && sim_chance(500)) {
		S.rebuffer = 1;
		S.rebuffer_store = sim_below((uint32_t)S.nstores);
		S.rebuffer_to = (S.buffer[S.rebuffer_store] + 1 +
		    (int64_t)sim_below(5)) % 6;	/* another */
	}
	/* in half of those, a reload while the agent runs changes it
	   instead; it happens even where a created variant keeps the buffer
	   as it was (rebuffer()) */
	if (S.rebuffer && sim_chance(500)) {
		S.reload = 1;
		S.reload_at = sim_below((uint32_t)S.active_ms);
	}
	rng = saved;
}

/*
 * In half the schedules with a group of two or more members, and neither
 * a catalog edit nor a created variant, the merchant deactivates one
 * member's level while the agent runs, and in half of those activates it
 * again later.  The side leaves its link, then is sighted afresh
 * (docs/design.md §3a).  Drawn from a stream of its own; none when
 * SIM_DEACT=0.
 */
static void
choose_deactivation(uint64_t seed)
{
	const char *env = getenv("SIM_DEACT");
	uint64_t saved = rng;
	size_t cand[SIM_STORES * SIM_LOCS], n = 0, s, g, m, v, k;

	rng = seed * 0xbf58476d1ce4e5b9ULL + 0x13572468;
	for (s = 0; S.loc_lines && s < S.nstores; s++)
		for (g = 0; g < S.ngroups; g++)
			if (S.nmembers[s][g] >= 2)
				cand[n++] = s * SIM_LOCS + g;
	if (n > 0 && S.nedits == 0 && S.new_var == SIZE_MAX &&
	    sim_chance(500) && (env == NULL || strcmp(env, "0") != 0)) {
		k = cand[sim_below((uint32_t)n)];
		s = k / SIM_LOCS;
		g = k % SIM_LOCS;
		m = S.member[s][g][sim_below((uint32_t)S.nmembers[s][g])];
		v = sim_below((uint32_t)S.nvariants);
		for (k = 0; k < sim_shops[s].nlevels; k++)
			if (sim_shops[s].lvl[k].var == v &&
			    sim_shops[s].lvl[k].loc == m)
				break;
		S.deact = 1;
		S.deact_store = s;
		S.deact_level = k;
		S.deact_unit = unit_of(s, k);
		S.deact_at = sim_below((uint32_t)S.active_ms);
		S.react_at = sim_chance(500) ? S.deact_at + 500 +
		    sim_below((uint32_t)S.active_ms) : 0;
	}
	rng = saved;
}

/*
 * In a quarter of the two-way schedules without another edit, a created
 * variant or a deactivation, the merchant gives a variant v's SKU to
 * another (its partner) in one store, so that v's key is a duplicate there
 * and both leave their links in that store (docs/design.md §3); and later
 * edits v's title, so that a catalog refresh reads v alone.  Under match =
 * handle the partner is v's sibling in its product; in half of these
 * schedules match = sku, and any other variant.  Drawn from a stream of
 * its own; none when SIM_COPY=0.
 */
static void
choose_copy(uint64_t seed)
{
	const char *env = getenv("SIM_COPY");
	uint64_t saved = rng;
	size_t v, w;
	int s;

	rng = seed * 0x94d049bb133111ebULL + 0x2468ace0;
	if (S.direction == DIRECTION_TWO_WAY && S.nedits == 0 &&
	    S.new_var == SIZE_MAX && !S.deact && sim_chance(250) &&
	    (env == NULL || strcmp(env, "0") != 0)) {
		S.match_sku = sim_chance(500);
		v = sim_below((uint32_t)S.nvariants);
		w = S.match_sku ? (v + 1 + sim_below((uint32_t)S.nvariants -
		    1)) % S.nvariants : v ^ 1;
		if (w < S.nvariants) {
			s = (int)sim_below((uint32_t)S.nstores);
			sim_shops[s].var[v].partner = w;
			S.copy = 1;
			S.nedits = 2;
			S.edit_store[0] = S.edit_store[1] = s;
			S.edit_var[0] = S.edit_var[1] = v;
			S.edit_kind[0] = EDIT_COPY;
			S.edit_kind[1] = EDIT_TOUCH;
			S.edit_at[0] = sim_below((uint32_t)S.active_ms);
			S.edit_at[1] = S.edit_at[0] + 1000 +
			    sim_below((uint32_t)S.active_ms);
		}
	}
	rng = saved;
}

/*
 * The faults and the external changes begin once every link has had its
 * first sighting (and WARMUP_MS has passed): a change before it is, by
 * the `initial` policy, not one to propagate.
 */
static void
activate(void)
{
	size_t k;

	S.active_from = sim_now;
	sim_trace("every link sighted: faults and changes begin");
	for (k = 0; k < S.nev; k++)
		sim_schedule_external(S.ev_store[k], S.ev_level[k],
		    S.ev_delta[k], S.active_from + S.ev_at[k]);
	for (k = 0; k < S.nedits; k++)
		sim_schedule_edit(S.edit_store[k], S.edit_var[k],
		    S.edit_kind[k], S.active_from + S.edit_at[k]);
	if (S.new_var != SIZE_MAX)
		for (k = 0; k < S.nstores; k++)
			sim_schedule_create((int)k, S.new_var,
			    S.active_from + S.new_at[k]);
	if (S.deact)
		sim_schedule_active((int)S.deact_store, S.deact_level, 0,
		    S.active_from + S.deact_at);
	if (S.deact && S.react_at != 0)
		sim_schedule_active((int)S.deact_store, S.deact_level, 1,
		    S.active_from + S.react_at);
	for (k = 0; k < S.nstores; k++)
		if (sim_shops[k].down_until != 0) {
			sim_shops[k].down_from += S.active_from;
			sim_shops[k].down_until += S.active_from;
		}
}

void
sim_external_done(int store, size_t level, int64_t delta)
{
	S.ext[store][level] += delta;
	if (S.napplied < SIM_EVENTS) {
		S.ap_store[S.napplied] = store;
		S.ap_level[S.napplied] = level;
		S.ap_delta[S.napplied] = delta;
		S.ap_time[S.napplied++] = sim_now;
	}
}

/* ---- the oracle's record of batches -------------------------------------- */

static void	check_spread(size_t s, const char *key,
		    const struct sim_change *ch, size_t n);

static struct sim_batch *
batch_find(const char *key)
{
	size_t k;

	for (k = 0; k < S.nbatches; k++)
		if (strcmp(S.batch[k].key, key) == 0)
			return &S.batch[k];
	return NULL;
}

/* Traces a batch's changes as it is first sent (it may never run). */
static void
trace_batch(int store, const char *key, const struct sim_change *ch,
    size_t n)
{
	const struct sim_level *l;
	size_t k;

	for (k = 0; sim_tracing && k < n; k++)
		if ((l = sim_shop_level(&sim_shops[store], ch[k].item,
		    ch[k].location)) != NULL)
			sim_trace("store %d: batch %.8s sent: %+" PRId64 " at "
			    "level %" PRIu64 " from %" PRId64, store, key,
			    ch[k].delta, l->id, ch[k].from);
}

int
sim_batch_sent(int store, const char *key, const struct sim_change *ch,
    size_t n)
{
	struct sim_batch *b;

	if (batch_find(key) != NULL || n == 0 || ch[0].delta == 0)
		return 0;	/* a replay or a probe */
	trace_batch(store, key, ch, n);
	check_spread((size_t)store, key, ch, n);
	if (S.nbatches == SIM_BATCHES)
		return 0;	/* too many to follow */
	b = &S.batch[S.nbatches++];
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->store = store;
	b->early = S.new_var != SIZE_MAX && !S.new_sighted;
	b->n = n < SIM_LEVELS ? n : SIM_LEVELS;
	memcpy(b->ch, ch, b->n * sizeof(*ch));
	return 1;
}

void
sim_batch_ran(const char *key)
{
	struct sim_batch *b = batch_find(key);

	if (b == NULL)
		return;		/* a probe */
	if (++b->runs > 1)
		sim_fail("batch %.8s applied %d times", key, b->runs);
}

void
sim_batch_answered(const char *key)
{
	struct sim_batch *b = batch_find(key);

	if (b != NULL)
		b->answered = 1;
}

void	__wrap_state_trim(struct state *st);
static volatile int agent_stop;	/* set at quiescence or when time is up */
static volatile int agent_reload;	/* SIGHUP: the engine returns */

/*
 * Called at the end of every cycle (engine.c).  Dropping resident pages
 * only costs page faults here: not simulated.  An agent whose cycles
 * outlast its interval (a small cost bucket) never naps, so the
 * quiescence checks run here too, where it holds nothing in hand.
 */
void
__wrap_state_trim(struct state *st)
{
	(void)st;
	sim_idle(&agent_stop);
}

/* ---- the agent's side: config, crashes, restarts ------------------------- */

struct state	*__real_state_open(const char *dir, int readonly);
void		 __real_state_close(struct state *st);
struct state	*__wrap_state_open(const char *dir, int readonly);
void		 __wrap_state_close(struct state *st);
int		 __wrap_state_lock_syncer(const char *dir);

struct state *
__wrap_state_open(const char *dir, int readonly)
{
	struct state *st = __real_state_open(dir, readonly);

	if (!readonly)
		sim_state = st;
	return st;
}

static void collect_final(struct state *st);

/* The agent's last close, at quiescence: the oracle reads its state first. */
void
__wrap_state_close(struct state *st)
{
	if (st == sim_state) {
		if (S.stopping)
			collect_final(st);
		sim_state = NULL;
	}
	__real_state_close(st);
}

int
sim_agent_open(void)
{
	return sim_state != NULL;
}

/* One process runs the agent again and again: its lock is its own. */
int
__wrap_state_lock_syncer(const char *dir)
{
	(void)dir;
	return 0;
}

/*
 * Appends group g of store s, "A + B", to buf: its members in their
 * order, by name or by id (gid://shopify/Location/N).
 */
static void
group_entry(size_t s, size_t g, char *buf, size_t bufsz)
{
	char name[64];
	size_t m, loc;

	for (m = 0; m < S.nmembers[s][g]; m++) {
		loc = S.member[s][g][m];
		if (S.by_id)
			snprintf(name, sizeof(name), "gid://shopify/Location/%"
			    PRIu64, sim_shops[s].loc[loc]);
		else
			sim_location_name(loc, name, sizeof(name));
		if (m > 0)
			strncat(buf, " + ", bufsz - strlen(buf) - 1);
		strncat(buf, name, bufsz - strlen(buf) - 1);
	}
}

/* Writes the [locations] section into buf: a line a group, "A + B = C".
   Returns its length, as snprintf() does. */
static int
locations_section(char *buf, size_t bufsz)
{
	size_t g, s;

	snprintf(buf, bufsz, "[locations]\n");
	for (g = 0; g < S.ngroups; g++) {
		for (s = 0; s < S.nstores; s++) {
			if (s > 0)
				strncat(buf, " = ", bufsz - strlen(buf) - 1);
			group_entry(s, g, buf, bufsz);
		}
		strncat(buf, "\n", bufsz - strlen(buf) - 1);
	}
	return (int)strlen(buf);
}

static int
write_conf(void)
{
	static const char *const initial[] = { "primary", "keep", "min" };
	char text[4096], tok[300];
	struct conf_errors errs;
	FILE *f;
	size_t i, n;
	int len;

	snprintf(tok, sizeof(tok), "%s/token", S.dir);
	if ((f = fopen(tok, "w")) == NULL)
		return -1;
	fputs("shpat_simulated\n", f);
	fclose(f);
	chmod(tok, 0600);
	len = snprintf(text, sizeof(text),
	    "[sync]\ninterval = 1s\nstate_dir = %s/state\ninitial = %s\n"
	    "direction = %s\noverlap = 5s\nreconcile = %s\n"
	    "catalog_refresh = 10s\nguard = 0\nbulk_threshold = %d\n"
	    "match = %s\n", S.dir, initial[S.initial],
	    S.direction == DIRECTION_ONE_WAY ? "one-way" : "two-way",
	    S.bulk ? "3s" : S.copy ? "30s" : "10s", S.bulk ? 1 : 0,
	    S.match_sku ? "sku" : "handle");
	for (i = 0; i < S.nstores; i++) {
		len += snprintf(text + len, sizeof(text) - (size_t)len,
		    "[store s%zu]\nshop = s%zu.myshopify.com\ntoken_file = %s\n",
		    i, i, tok);
		if (S.buffered)
			len += snprintf(text + len, sizeof(text) - (size_t)len,
			    "buffer = %" PRId64 "\n", S.buffer[i]);
	}
	if (S.loc_lines)
		len += locations_section(text + len,
		    sizeof(text) - (size_t)len);
	n = (size_t)len;
	memset(&errs, 0, sizeof(errs));
	if (conf_parse("sim.conf", text, n, &S.conf, &errs) != 0) {
		for (i = 0; i < errs.n; i++)
			sim_fail("the schedule's config: %s", errs.msg[i]);
		return -1;
	}
	return 0;
}

/*
 * The oracle's unit is a link: u = variant x group, the same in every
 * store, u = variant * S.ngroups + group.  Without groups, a group is a
 * location and u the level index of every store.
 */
static size_t
units(void)
{
	return S.nvariants * S.ngroups;
}

/* The unit of store s's level k. */
static size_t
unit_of(size_t s, size_t k)
{
	const struct sim_level *l = &sim_shops[s].lvl[k];

	return l->var * S.ngroups + S.group_of[s][l->loc];
}

/* Store s's side of unit u in q, one value a level of s: their sum. */
static int64_t
side_of(size_t s, size_t u, const int64_t *q)
{
	int64_t sum = 0;
	size_t k;

	for (k = 0; k < sim_shops[s].nlevels; k++)
		if (unit_of(s, k) == u)
			sum += q[k];
	return sum;
}

/* Store s's side of unit u now: what its stocked member levels have. */
static int64_t
side_now(size_t s, size_t u)
{
	int64_t sum = 0;
	size_t k;

	for (k = 0; k < sim_shops[s].nlevels; k++)
		if (unit_of(s, k) == u && !sim_shops[s].lvl[k].gone)
			sum += sim_shops[s].lvl[k].available;
	return sum;
}

/* Store s's side of unit u now over its active members only. */
static int64_t
side_active(size_t s, size_t u)
{
	int64_t sum = 0;
	size_t k;

	for (k = 0; k < sim_shops[s].nlevels; k++)
		if (unit_of(s, k) == u && !sim_shops[s].lvl[k].gone &&
		    sim_shops[s].lvl[k].active)
			sum += sim_shops[s].lvl[k].available;
	return sum;
}

/* The pool a side showing q at its first sighting implies, in store s. */
static int64_t
implied(size_t s, int64_t q)
{
	return q > 0 ? q + S.buffer0[s] : q;
}

/* What store s shows of pool p: T_s(p) = p - min(N_s, max(p, 0)). */
static int64_t
target(size_t s, int64_t p)
{
	int64_t held = p > 0 ? p : 0;

	return p - (held < S.buffer[s] ? held : S.buffer[s]);
}

/* Unit u's pool at the first sighting, as store s's view has it. */
static int64_t
base_pool(size_t s, size_t u)
{
	int64_t base = 0, p;
	size_t j;

	switch (S.initial) {
	case INITIAL_PRIMARY:
		base = implied(0, side_of(0, u, S.init[0]));
		break;
	case INITIAL_KEEP:
		base = implied(s, side_of(s, u, S.init[s]));
		break;
	case INITIAL_MIN:
		base = implied(0, side_of(0, u, S.init[0]));
		for (j = 1; j < S.nstores; j++)
			if ((p = implied(j, side_of(j, u, S.init[j]))) < base)
				base = p;
		break;
	}
	return base;
}

/*
 * Unit u's pool as store s's view has it: the base and the external
 * changes that move it, each in full, whatever member it hit: every
 * store's (two-way), or the primary's and s's own (one-way).
 */
static int64_t
pool(size_t s, size_t u)
{
	int64_t sum = 0;
	size_t j;

	if (S.direction == DIRECTION_ONE_WAY)
		return base_pool(s, u) + side_of(0, u, S.ext[0]) +
		    (s != 0 ? side_of(s, u, S.ext[s]) : 0);
	for (j = 0; j < S.nstores; j++)
		sum += side_of(j, u, S.ext[j]);
	return base_pool(s, u) + sum;
}

/* ---- quiescence and the final checks ------------------------------------- */

/*
 * The agent's verdicts, from its audit log, against what really happened;
 * the corrections of the uncertain guesses.  report: fail on a false
 * verdict (at the end; the quiescence checks only want the corrections).
 */
struct verdicts {
	size_t	uncertain;
	int	report;
};

static int	audit_txn(struct state_txn *t, void *arg);

struct agent_view {
	size_t	links, in_step, pending, sighted;
	size_t	new_sighted;	/* links of the created variant sighted */
	size_t	dup_synced;	/* sides synced of a duplicate key */
};

/*
 * 1 when side i of l is one the agent must not sync: a side, in the store
 * an EDIT_COPY made a key a duplicate in, of the variant or its partner
 * (one holds the duplicate key, the other left its link).
 */
static int
is_duplicate_side(const struct link *l, size_t i)
{
	const struct sim_variant *v;

	if (!S.copy || i != (size_t)S.edit_store[0] || l->side[i].item == 0)
		return 0;
	v = &sim_shops[i].var[S.edit_var[0]];
	return l->side[i].item == v->item ||
	    l->side[i].item == sim_shops[i].var[v->partner].item;
}

/* 1 when l is the link of the unit whose member is deactivated. */
static int
is_deact_link(const struct link *l)
{
	const char *at = strrchr(l->key, '@');
	size_t v = S.deact_unit / S.ngroups, g = S.deact_unit % S.ngroups;
	uint64_t group = sim_shops[0].loc[S.member[0][g][0]];
	size_t i;

	if (!S.deact || at == NULL || strtoull(at + 1, NULL, 10) != group)
		return 0;
	for (i = 0; i < l->nsides && i < S.nstores; i++)
		if (l->side[i].item != 0)
			return l->side[i].item == sim_shops[i].var[v].item;
	return 0;
}

static int
view_link(const struct link *l, void *arg)
{
	struct agent_view *v = arg;
	size_t i, n = 0;

	v->links++;
	v->in_step += sync_in_step(l);
	for (i = 0; i < l->nsides && i < S.nstores; i++)
		v->dup_synced += is_duplicate_side(l, i) &&
		    sync_side_active(l, i);
	if (is_deact_link(l))
		for (i = 0; i < S.nstores; i++)
			S.deact_synced[i] = sync_side_active(l, i);
	for (i = 0; i < l->nsides; i++)
		n += l->side[i].item != 0 && l->side[i].has_baseline;
	v->sighted += n == S.nstores;
	v->new_sighted += n == S.nstores && S.new_var != SIZE_MAX &&
	    l->side[0].item == sim_shops[0].var[S.new_var].item;
	return 0;
}

int
sim_external_ready(int store, size_t k)
{
	return S.new_var == SIZE_MAX || S.new_sighted ||
	    sim_shops[store].lvl[k].var != S.new_var;
}

static int
view_txn(struct state_txn *t, void *arg)
{
	struct agent_view *v = arg;
	struct pending *p = malloc(sizeof(*p));
	uint32_t i;

	for (i = 0; i < S.nstores; i++)
		if (state_pending_get(t, i, p) == 0)
			v->pending++;
	free(p);
	return state_link_each(t, view_link, v);
}

/* When an edit took unit u's variant of store s out of its links; 0
   never. */
static int64_t
detached(size_t s, size_t u)
{
	return sim_shops[s].var[u / S.ngroups].edited_ms;
}

/* Per unit of every store: what the uncertain events' guesses moved its
   pool view by. */
static int64_t correction[SIM_STORES][SIM_LEVELS];
/*
 * ... and the part that may not have reached the others: an error on a
 * side an edit then took out of the link spread only if a poll read it
 * before the agent saw the edit, each error on its own (the last one
 * holds the sum of those past LOOSE_MAX).
 */
#define LOOSE_MAX	6
static int64_t loose[SIM_LEVELS][LOOSE_MAX];
static size_t nloose[SIM_LEVELS];
/*
 * ... and the errors of guesses about a created variant's writes sent
 * before the agent had sighted it in every store: a later first sighting
 * may absorb them (`initial` decides then), or not.
 */
static int64_t absorbable[SIM_STORES][SIM_LEVELS];
enum absorbed { ABSORBED_NONE, ABSORBED_ALL, ABSORBED_EACH, ABSORBED_PART };
/* ABSORBED_PART: how much of each error was absorbed (toward 0). */
static int64_t absorbed_part;

/* What is left of error e once up to part of it is absorbed. */
static int64_t
error_left(int64_t e, int64_t part)
{
	if (e > 0)
		return e - (part < e ? part : e);
	return e + (part < -e ? part : -e);
}

static size_t
level_index(size_t s, uint64_t item, uint64_t location)
{
	size_t k;

	for (k = 0; k < sim_shops[s].nlevels; k++)
		if (sim_shops[s].lvl[k].item == item &&
		    sim_shops[s].lvl[k].location == location)
			return k;
	return SIZE_MAX;
}

/* 1 when variant v is stocked at location loc of store s (a created
   variant is at one member of each group only). */
static int
stocked(size_t s, size_t v, size_t loc)
{
	const struct sim_level *l = sim_shops[s].lvl;
	size_t k;

	for (k = 0; k < sim_shops[s].nlevels; k++)
		if (l[k].var == v && l[k].loc == loc)
			return !l[k].unstocked;
	return 0;
}

/* The position of level k of store s among the members of its side that
   stock its variant, in the group's order. */
static size_t
member_pos(size_t s, size_t k)
{
	const struct sim_level *l = &sim_shops[s].lvl[k];
	size_t g = S.group_of[s][l->loc], m, pos = 0;

	for (m = 0; m < S.nmembers[s][g] && S.member[s][g][m] != l->loc; m++)
		pos += stocked(s, l->var, S.member[s][g][m]);
	return pos;
}

/*
 * 1 when the changes ch of a batch to the members of store s's side of
 * unit u spread one owed change as docs/design.md §3a says, in the
 * members' order: an increase all to the first member; a decrease taken
 * from each member down to 0 (the last one written may keep some), and
 * what none had by the first, which then ends below 0.  Judged on what
 * the agent believed, the changes' from: a member it did not write is not
 * judged.
 */
static int
spread_ok(size_t s, size_t u, const struct sim_change *ch, size_t n)
{
	int64_t d[SIM_LOCS] = { 0 }, end[SIM_LOCS] = { 0 }, total = 0;
	size_t i, k, m, last = 0;
	int over;

	for (i = 0; i < n; i++) {
		if (ch[i].delta == 0 || (k = level_index(s, ch[i].item,
		    ch[i].location)) == SIZE_MAX || unit_of(s, k) != u)
			continue;
		m = member_pos(s, k);
		if (d[m] != 0)
			return 0;	/* one change a member */
		d[m] = ch[i].delta;
		end[m] = ch[i].from + ch[i].delta;
		total += d[m];
		last = m > last ? m : last;
	}
	if (total > 0)
		return last == 0;
	over = d[0] < 0 && end[0] < 0;	/* all drained: the first takes
					   the rest */
	for (m = 0; m <= last; m++) {
		if (d[m] == 0 || (m == 0 && over))
			continue;
		if (d[m] > 0 || end[m] < 0 || end[m] - d[m] <= 0 ||
		    ((m != last || over) && end[m] != 0))
			return 0;
	}
	return 1;
}

/*
 * Checks batch key's changes ch to store s's group sides: none to a
 * member that never stocked the variant, and each side's spread as
 * spread_ok() says.  Fails the schedule on a wrong one.
 */
static void
check_spread(size_t s, const char *key, const struct sim_change *ch,
    size_t n)
{
	int done[SIM_LEVELS] = { 0 };
	size_t i, k, u;

	for (i = 0; i < n; i++) {
		if ((k = level_index(s, ch[i].item, ch[i].location)) !=
		    SIZE_MAX && sim_shops[s].lvl[k].unstocked)
			sim_fail("store %zu: batch %.8s writes to level %" PRIu64
			    ", a member that never stocked its variant", s, key,
			    sim_shops[s].lvl[k].id);
		if (k == SIZE_MAX || done[u = unit_of(s, k)] ||
		    S.nmembers[s][u % S.ngroups] < 2 ||
		    (S.deact && s == S.deact_store && u == S.deact_unit))
			continue;	/* (a member may be inactive: not
					   judged) */
		done[u] = 1;
		if (!spread_ok(s, u, ch, n))
			sim_fail("store %zu: batch %.8s spreads link %zu's "
			    "change against the member order", s, key, u);
	}
}

/*
 * Moves (*s, *k) to the first level of unit u at or after level *k of
 * store *s in a store an edit detached u's variant from.  0 when none.
 */
static int
next_detached(size_t u, size_t *s, size_t *k)
{
	for (; *s < S.nstores; (*s)++, *k = 0) {
		if (detached(*s, u) == 0)
			continue;
		for (; *k < sim_shops[*s].nlevels; (*k)++)
			if (unit_of(*s, *k) == u)
				return 1;
	}
	return 0;
}

/*
 * 1 when x is a sum, over the levels of unit u in the stores an edit
 * detached it from (from level k of store s on), of what each level
 * changed up to some moment before the agent had to have seen the edit:
 * what it propagated of them before it knew.  Each member level has a
 * moment of its own: the agent reads a group's members one by one.
 */
static int
propagated_ok(size_t u, int64_t x, size_t s, size_t k)
{
	int64_t sum = 0, until;
	size_t j;

	if (!next_detached(u, &s, &k))
		return x == 0;
	until = detached(s, u) + sim_edit_grace(&sim_shops[s]);
	if (propagated_ok(u, x, s, k + 1))
		return 1;
	for (j = 0; j < S.napplied; j++) {
		if ((size_t)S.ap_store[j] != s || S.ap_level[j] != k ||
		    S.ap_time[j] > until)
			continue;
		sum += S.ap_delta[j];
		if (propagated_ok(u, x - sum, s, k + 1))
			return 1;
	}
	return 0;
}

/*
 * The offsets x, [*lo, *hi], by which store s's side shows a pool of
 * own + x: side == T_s(own + x).  One, but for a buffered side at 0,
 * which shows any pool from 0 to its buffer.
 */
static void
offsets(size_t s, int64_t side, int64_t own, int64_t *lo, int64_t *hi)
{
	if (S.buffer[s] == 0 || side < 0)
		*lo = *hi = side - own;
	else if (side > 0)
		*lo = *hi = side + S.buffer[s] - own;
	else {
		*lo = -own;
		*hi = S.buffer[s] - own;
	}
}

/* The sum of the loose errors of unit u that the bits of mask choose. */
static int64_t
loose_sum(size_t u, unsigned mask)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < nloose[u]; i++)
		if (mask & (1U << i))
			sum += loose[u][i];
	return sum;
}

/* 1 when unit u's stores, which show pools off by [lo, hi], received as
   much of the detached stores' changes and of the loose errors (any of
   them) as they may have (see below). */
static int
offset_ok(size_t u, int64_t lo, int64_t hi)
{
	int64_t x;
	unsigned mask;

	for (x = lo; x <= hi; x++)
		for (mask = 0; mask < 1U << nloose[u]; mask++)
			if (propagated_ok(u, x - loose_sum(u, mask), 0, 0))
				return 1;
	return 0;
}

/*
 * Unit u of every store as the model says: store s's side is T_s of its
 * pool view, pool() plus the uncertain guesses' corrections, and the
 * absorbable ones but as absorbed says (in no view, in all, or in each
 * view whose side shows it absorbed).  When an edit took stores out of
 * the link (two-way only), the pool lacks their changes but what it
 * received of them before the agent saw the edit, an
 * offset x all stores left must agree on (propagated_ok()); a detached
 * side is not checked.  T_s is not linear: x is found in the pool's terms,
 * each store's range of it (offsets()) intersected.
 */
static int
unit_fits(size_t u, enum absorbed absorbed, int report)
{
	int64_t own[SIM_STORES], side[SIM_STORES];
	int64_t lo = INT64_MIN, hi = INT64_MAX, a, b;
	size_t s, j, left = 0;
	int ok = 1;

	for (s = 0; s < S.nstores; s++) {
		if (detached(s, u) != 0)
			continue;
		own[s] = pool(s, u) + correction[s][u];
		if (absorbed == ABSORBED_NONE || (absorbed == ABSORBED_EACH &&
		    side_now(s, u) != target(s, own[s])))
			own[s] += absorbable[s][u];
		else if (absorbed == ABSORBED_PART)
			own[s] += error_left(absorbable[s][u], absorbed_part);
		for (j = 0; j < S.nstores; j++)
			if (detached(j, u) != 0)
				own[s] -= side_of(j, u, S.ext[j]);
		side[s] = side_now(s, u);
		offsets(s, side[s], own[s], &a, &b);
		if (left++ > 0 && (b < lo || a > hi)) {
			ok = 0;
			if (report)
				sim_fail("store %zu link %zu: %" PRId64
				    ", want %" PRId64 " like the others", s, u,
				    side[s], target(s, own[s] + lo));
			continue;
		}
		lo = a > lo ? a : lo;
		hi = b < hi ? b : hi;
	}
	if (left == 0 || !ok || offset_ok(u, lo, hi))
		return ok;
	for (s = 0; report && s < S.nstores; s++) {
		if (detached(s, u) != 0)
			continue;
		offsets(s, side[s], own[s], &a, &b);
		if (a <= 0 && b >= 0)
			continue;	/* it shows its own pool view */
		sim_fail("store %zu link %zu: %" PRId64 ", want %" PRId64
		    " (pool off by %" PRId64 ": a change lost or applied twice)",
		    s, u, side[s], target(s, own[s]), a > 0 ? a : b < 0 ? b : 0);
	}
	return 0;
}

/*
 * 1 when every synced side of the deactivated unit shows one pool, each
 * store's view own[s] plus an offset they share: any offset (exact 0), or
 * none (exact 1).
 */
static int
deact_in_step(const int64_t *own, int exact)
{
	int64_t lo = exact ? 0 : INT64_MIN, hi = exact ? 0 : INT64_MAX, a, b;
	size_t s;

	for (s = 0; s < S.nstores; s++) {
		if (!S.deact_synced[s])
			continue;
		offsets(s, side_active(s, S.deact_unit), own[s], &a, &b);
		if (b < lo || a > hi)
			return 0;
		lo = a > lo ? a : lo;
		hi = b < hi ? b : hi;
	}
	return 1;
}

/*
 * Under primary, two-way, with the member in another store than the
 * primary: sighting that side afresh takes the primary's pool, which
 * never moved, so every view is pool() but for the deactivating store's
 * own changes, of which those made while its side was out were not passed
 * on.  1 when some subset of them completes every synced side exactly.
 */
static int
primary_pool_ok(void)
{
	int64_t own[SIM_STORES], d[SIM_EVENTS], x, try[SIM_STORES];
	size_t s = S.deact_store, u = S.deact_unit, n = 0, j, i;
	unsigned mask;

	for (j = 0; j < S.napplied; j++)
		if ((size_t)S.ap_store[j] == s && unit_of(s, S.ap_level[j]) == u)
			d[n++] = S.ap_delta[j];
	if (n > 12)
		return 1;	/* too many to try: in step is checked */
	for (j = 0; j < S.nstores; j++)
		own[j] = pool(j, u) + correction[j][u] -
		    side_of(s, u, S.ext[s]);
	for (mask = 0; mask < 1U << n; mask++) {
		for (x = 0, i = 0; i < n; i++)
			x += mask & (1U << i) ? d[i] : 0;
		for (j = 0; j < S.nstores; j++)
			try[j] = own[j] + x;
		if (deact_in_step(try, 1))
			return 1;
	}
	return 0;
}

/*
 * The unit one of whose members was deactivated (and maybe activated
 * again).  Its side left the link and was sighted afresh when another
 * member read active (docs/design.md §3a), its pool then whatever the
 * `initial` policy made of that moment.  What must hold, two-way: under
 * primary and min, every side the agent syncs shows one pool (over its
 * active members), but for the moves of wrong uncertain guesses; under
 * primary with the member outside the primary store, that pool is the
 * oracle's, less some of that store's changes (primary_pool_ok()).  Under
 * keep or one-way each store's view stands on its own.  The other units
 * are checked in full.
 */
static int
rebased_ok(int report)
{
	int64_t zero[SIM_STORES] = { 0 }, corr[SIM_STORES];
	size_t s;

	if (S.initial == INITIAL_KEEP || S.direction == DIRECTION_ONE_WAY)
		return 1;
	for (s = 0; s < S.nstores; s++)
		corr[s] = correction[s][S.deact_unit];
	if (!deact_in_step(zero, 0) && !deact_in_step(corr, 0)) {
		for (s = 0; report && s < S.nstores; s++)
			if (S.deact_synced[s])
				sim_fail("store %zu link %zu: %" PRId64 " over "
				    "its active members, after one was "
				    "deactivated: not in step with the other "
				    "synced sides", s, S.deact_unit,
				    side_active(s, S.deact_unit));
		return 0;
	}
	if (S.initial != INITIAL_PRIMARY || S.deact_store == 0 ||
	    primary_pool_ok())
		return 1;
	if (report)
		sim_fail("link %zu: a member of store %zu deactivated, and the "
		    "primary's pool moved (a change lost or applied twice, or "
		    "the member's units passed on)", S.deact_unit,
		    S.deact_store);
	return 0;
}

/*
 * Unit u as the model says, with the absorbable errors or without: a
 * first sighting after a guess absorbs its error under primary (the
 * primary's), in every store's view; under min, any part of it (the
 * lowest side may be anywhere between the pool with the error and the
 * pool without it: seed 149574), in every view; under keep, in the view
 * of the store sighted only.  (A created variant: no edits.)
 */
static int
unit_matches(size_t u, int report)
{
	int64_t most = 0, e;
	size_t s;

	for (s = 0; s < S.nstores; s++) {
		e = absorbable[s][u] < 0 ? -absorbable[s][u] : absorbable[s][u];
		most = e > most ? e : most;
	}
	if (most == 0)
		return unit_fits(u, ABSORBED_NONE, report);
	if (S.initial == INITIAL_KEEP)
		return unit_fits(u, ABSORBED_EACH, report);
	if (S.initial == INITIAL_MIN) {
		for (absorbed_part = 1; absorbed_part <= most; absorbed_part++)
			if (unit_fits(u, ABSORBED_PART, 0))
				return 1;
	}
	return unit_fits(u, ABSORBED_NONE, 0) ||
	    unit_fits(u, ABSORBED_ALL, report);
}

static int
units_match(int report)
{
	size_t u;
	int ok = 1;

	for (u = 0; u < units(); u++)
		ok &= S.deact && u == S.deact_unit ? rebased_ok(report) :
		    unit_matches(u, report);
	return ok;
}

/* Fails the schedule, once, when synced sides of a duplicate key. */
static void
report_duplicate(size_t synced)
{
	int s = S.edit_store[0];

	if (synced == 0 || S.dup_failed)
		return;
	S.dup_failed = 1;
	sim_fail("store %d: a key made a duplicate is synced (%zu sides of "
	    "variants %zu and %zu)", s, synced, S.edit_var[0],
	    sim_shops[s].var[S.edit_var[0]].partner);
}

/*
 * Once the agent has had time to see an EDIT_COPY, whenever it naps: no
 * side of the duplicate key's two variants synced in that store.  A
 * refresh that reads one of them alone must not bring it back (the old
 * catalog.c did: the final state alone did not show it, as the next full
 * load marked it again).
 */
static void
check_duplicate(void)
{
	struct agent_view v = { 0, 0, 0, 0, 0, 0 };

	if (S.copy && !S.dup_failed && sim_now >= S.active_from +
	    S.edit_at[0] + sim_edit_grace(&sim_shops[S.edit_store[0]]) && sim_state != NULL &&
	    state_view(sim_state, view_txn, &v) == 0)
		report_duplicate(v.dup_synced);
}

void
sim_idle(volatile int *stop)
{
	struct agent_view v = { 0, 0, 0, 0, 0, 0 }, nv = { 0, 0, 0, 0, 0, 0 };
	struct verdicts vd = { 0, 0 };
	int64_t quiet;
	size_t k;

	if (S.active_from == 0) {
		if (sim_now - SIM_EPOCH_MS >= WARMUP_MS && sim_state != NULL &&
		    state_view(sim_state, view_txn, &v) == 0 &&
		    v.links == (S.nvariants - (S.new_var != SIZE_MAX)) *
		    S.ngroups && v.sighted == v.links)
			activate();
		else if (sim_now - SIM_EPOCH_MS >= QUIET_MAX_MS) {
			sim_fail("links never all sighted");
			S.stopping = 1;
			*stop = 1;
		}
		return;
	}
	check_duplicate();
	if (S.reload && S.rebuffer && sim_now >= S.active_from + S.reload_at)
		agent_reload = 1;	/* as SIGHUP does */
	if (S.new_var != SIZE_MAX && !S.new_sighted && sim_state != NULL &&
	    state_view(sim_state, view_txn, &nv) == 0)
		S.new_sighted = nv.new_sighted == S.ngroups;
	quiet = S.active_from + S.active_ms;
	for (k = 0; k < S.nedits; k++) {	/* time to see the edits */
		int64_t seen = S.active_from + S.edit_at[k] +
		    sim_edit_grace(&sim_shops[S.edit_store[k]]);

		if (seen > quiet)
			quiet = seen;
	}
	for (k = 0; S.new_var != SIZE_MAX && k < S.nstores; k++)
		if (S.active_from + S.new_at[k] > quiet)	/* created */
			quiet = S.active_from + S.new_at[k];
	if (S.deact) {		/* a full pass finds the member */
		int64_t seen = S.active_from + (S.react_at != 0 ?
		    S.react_at : S.deact_at) + SIM_EDIT_GRACE_MS;

		if (seen > quiet)
			quiet = seen;
	}
	sim_faults.on = phase_active();
	if (sim_now < quiet + QUIET_MIN_MS || sim_now < S.next_check)
		return;
	S.next_check = sim_now + 500;
	if (sim_now >= quiet + QUIET_MAX_MS) {
		sim_trace("quiet for %d s: stopping", QUIET_MAX_MS / 1000);
		S.stopping = 1;
		*stop = 1;
		return;
	}
	if (sim_state == NULL || state_view(sim_state, view_txn, &v) != 0)
		return;
	if (v.pending != 0 || v.in_step != v.links ||
	    (S.new_var != SIZE_MAX && !S.new_sighted) ||
	    sim_externals_due() > 0 ||
	    state_view(sim_state, audit_txn, &vd) != 0)
		return;
	if (units_match(0)) {
		sim_trace("quiescent: %zu links in step", v.links);
		S.stopping = 1;
		*stop = 1;
	}
}


static void
judge(const struct audit_entry *a, struct verdicts *v)
{
	struct sim_batch *b = batch_find(a->batch);
	int64_t (*errors)[SIM_LEVELS];
	size_t k, s, lvl, u;
	int guess;

	if (b == NULL)
		return;
	switch (a->kind) {
	case AUDIT_APPLIED:
		if (b->runs != 1 && v->report)
			sim_fail("batch %.8s taken as applied, ran %d times",
			    b->key, b->runs);
		return;
	case AUDIT_DROPPED:
		if (b->runs != 0 && v->report)
			sim_fail("batch %.8s dropped as not run, ran %d times",
			    b->key, b->runs);
		return;
	case AUDIT_UNCERTAIN:
	case AUDIT_UNCERTAIN_REPLANNED:
		break;
	default:
		return;
	}
	if (b->answered && v->report)
		sim_fail("batch %.8s uncertain, but its answer had come",
		    b->key);
	guess = a->kind == AUDIT_UNCERTAIN;
	/* one entry per change, in the batch's order; a change to a member
	   is one to its unit (a batch may hold several of one unit) */
	if ((k = b->judged++) >= b->n || (lvl = level_index((size_t)b->store,
	    b->ch[k].item, b->ch[k].location)) == SIZE_MAX)
		return;
	u = unit_of((size_t)b->store, lvl);
	if (k == 0)
		v->uncertain++;
	/*
	 * A wrong guess shifts the link's pool by its error, as a change
	 * would: every store's view when two-way, or when one-way and the
	 * write was to the primary (store 0: an `initial` alignment, whose
	 * error the agent takes for the primary's own change and passes on);
	 * else the view of the store written only.
	 */
	if (detached((size_t)b->store, u) != 0) {
		if ((b->runs - guess) * b->ch[k].delta == 0)
			return;
		if (nloose[u] < LOOSE_MAX)
			nloose[u]++;
		loose[u][nloose[u] - 1] += (b->runs - guess) * b->ch[k].delta;
		return;
	}
	errors = b->early && u / S.ngroups == S.new_var ? absorbable :
	    correction;
	for (s = 0; s < S.nstores; s++)
		if (S.direction == DIRECTION_TWO_WAY || b->store == 0 ||
		    s == (size_t)b->store)
			errors[s][u] += (b->runs - guess) * b->ch[k].delta;
}

static int
audit_one(const struct audit_entry *a, void *arg)
{
	judge(a, arg);
	return 0;
}

static int
audit_txn(struct state_txn *t, void *arg)
{
	size_t k;

	memset(correction, 0, sizeof(correction));
	memset(loose, 0, sizeof(loose));
	memset(nloose, 0, sizeof(nloose));
	memset(absorbable, 0, sizeof(absorbable));
	for (k = 0; k < S.nbatches; k++)
		S.batch[k].judged = 0;
	return state_audit_last(t, AUDIT_MAX, audit_one, arg);
}

/* Links at the end: one a unit, one more a group of a renamed variant. */
static size_t
expected_links(void)
{
	size_t n = units(), k;

	for (k = 0; k < S.nedits; k++)
		if (S.edit_kind[k] == EDIT_RENAME || S.edit_kind[k] == EDIT_SKU)
			n += S.ngroups;
	return n;
}

/* Reads what the oracle needs of the agent's state st. */
static void
collect_final(struct state *st)
{
	struct agent_view v = { 0, 0, 0, 0, 0, 0 };
	struct verdicts vd = { 0, 1 };

	if (state_view(st, audit_txn, &vd) != 0 ||
	    state_view(st, view_txn, &v) != 0) {
		sim_fail("the state cannot be read");
		return;
	}
	S.final_pending = v.pending;
	S.final_links = v.links;
	S.final_in_step = v.in_step;
	S.final_dup_synced = v.dup_synced;
	S.final_uncertain = vd.uncertain;
	S.collected = 1;
}

static void
final_checks(size_t *uncertain)
{
	char path[300];
	struct state *st;
	size_t k;

	if (!S.collected) {	/* the agent stopped by itself */
		snprintf(path, sizeof(path), "%s/state", S.dir);
		if ((st = __real_state_open(path, 1)) == NULL) {
			sim_fail("the state cannot be opened");
			return;
		}
		collect_final(st);
		__real_state_close(st);
		if (!S.collected)
			return;
	}
	for (k = 0; k < S.nbatches; k++)
		if (S.batch[k].runs > 1)
			sim_fail("batch %.8s ran %d times", S.batch[k].key,
			    S.batch[k].runs);
	if (S.final_pending != 0)
		sim_fail("%zu batches still pending at quiescence",
		    S.final_pending);
	if (S.final_links != expected_links())
		sim_fail("%zu links, want %zu", S.final_links, expected_links());
	report_duplicate(S.final_dup_synced);
	if (S.final_in_step != S.final_links)
		sim_fail("%zu of %zu links not in step",
		    S.final_links - S.final_in_step, S.final_links);
	for (k = 0; S.deact && k < S.nstores; k++)
		sim_trace("store %zu: link %zu %s, %" PRId64 " over its active "
		    "members", k, S.deact_unit, S.deact_synced[k] ? "synced" :
		    "not synced", side_active(k, S.deact_unit));
	units_match(1);
	*uncertain = S.final_uncertain;
}

static const char *
replay_name(enum replay_mode m)
{
	return m == REPLAY_ORIGINAL ? "original-result" :
	    m == REPLAY_STALE ? "stale-if-applied" : "re-execute";
}

/* Store i's groups, "[B + A] [C]", and buffer. */
static void
describe_pools(size_t i)
{
	char text[600] = "", entry[300];
	size_t g;

	for (g = 0; g < S.ngroups; g++) {
		entry[0] = '\0';
		group_entry(i, g, entry, sizeof(entry));
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "%s[%s]", g > 0 ? " " : "", entry);
	}
	sim_trace("store %zu: %zu locations in groups %s%s, buffer %" PRId64,
	    i, S.store_locs[i], text, S.loc_lines ? "" : " (by name)",
	    S.buffer[i]);
}

static void
describe(void)
{
	size_t i;

	sim_trace("seed %" PRIu64 ": %zu stores x %zu locations x %zu variants,"
	    " initial %d, %s, active %" PRId64 " ms, crashes <= %d (%u/1000), "
	    "%zu catalog edits%s", S.seed, S.nstores, S.nlocs, S.nvariants,
	    (int)S.initial, S.direction == DIRECTION_ONE_WAY ? "one-way" :
	    "two-way", S.active_ms, sim_faults.max_crashes, sim_faults.crash,
	    S.nedits, S.bulk ? ", bulk operations" : "");
	if (sim_local.skew_ms != 0)
		sim_trace("this machine's clock is %+" PRId64 " ms off Shopify's"
		    "%s, then %+" PRId64 " ms", sim_local.skew_ms,
		    sim_local.jump_at ? "" : " (no jump)",
		    sim_local.skew_after_ms);
	for (i = 0; (S.loc_lines || S.buffered) && i < S.nstores; i++)
		describe_pools(i);
	for (i = 0; S.new_var != SIZE_MAX && i < S.nstores; i++)
		sim_trace("store %zu creates variant %zu %" PRId64 " ms into the "
		    "changes", i, S.new_var, S.new_at[i]);
	if (S.copy)
		sim_trace("store %d gives variant %zu's SKU to variant %zu %"
		    PRId64 " ms into the changes, match = %s; v's title %" PRId64
		    " ms", S.edit_store[0], S.edit_var[0],
		    sim_shops[S.edit_store[0]].var[S.edit_var[0]].partner,
		    S.edit_at[0], S.match_sku ? "sku" : "handle", S.edit_at[1]);
	if (S.reload)
		sim_trace("a reload %" PRId64 " ms into the changes%s",
		    S.reload_at, S.new_var == SIZE_MAX ? " changes a buffer" :
		    "");
	if (S.deact)
		sim_trace("store %zu deactivates level %" PRIu64 " (link %zu) %"
		    PRId64 " ms into the changes%s", S.deact_store,
		    sim_shops[S.deact_store].lvl[S.deact_level].id,
		    S.deact_unit, S.deact_at, S.react_at != 0 ?
		    ", and activates it again" : "");
	for (i = 0; i < S.nstores; i++)
		sim_trace("store %zu: replay %s, keys kept %" PRId64 " ms, evict "
		    "%u/1000, index lag %" PRId64 " ms, misses %u/1000, outage "
		    "%" PRId64 " ms, bucket %.0f (%.0f/s)", i,
		    replay_name(sim_shops[i].replay),
		    sim_shops[i].retention_ms, sim_shops[i].evict_permille,
		    sim_shops[i].lag_ms, sim_shops[i].miss_permille,
		    sim_shops[i].down_until - sim_shops[i].down_from,
		    sim_shops[i].bucket_size, sim_shops[i].bucket_rate);
}

/*
 * Removes the worker's directory and what the agent puts in it.  A run
 * that was killed leaves its directory behind, and a later worker given
 * the same pid would otherwise open that run's state as its own.
 */
static void
remove_dir(void)
{
	static const char *const files[] = { "state/invsync.mdb",
	    "state/invsync.mdb-lock", "state/invsync.lock", "state", "token" };
	char path[300];
	size_t k;

	for (k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", S.dir, files[k]);
		(void)remove(path);
	}
	(void)remove(S.dir);
}

/* The worker is done: its state closed, its directory removed. */
static void
worker_done(void)
{
	sim_lmdb_close();
	remove_dir();
}

/*
 * Changes a store's buffer in the config, once, as the agent restarts or
 * (by_reload) as it reloads (docs/design.md §3a: every side of the store
 * re-derives its target from its pool view).  Not in a schedule that
 * creates a variant, whose sides may be sighted before or after the
 * change: the oracle would not know which buffer implied their pools.
 */
static void
rebuffer(int by_reload)
{
	size_t s = S.rebuffer_store;

	if (!S.rebuffer || S.reload != by_reload)
		return;
	S.rebuffer = 0;
	if (S.new_var != SIZE_MAX)
		return;
	sim_trace("store %zu: buffer %" PRId64 " -> %" PRId64 " in the config%s",
	    s, S.buffer[s], S.rebuffer_to, by_reload ? ", reloaded" : "");
	S.buffer[s] = S.rebuffer_to;
	(void)write_conf();	/* a bad config fails the schedule */
}

/* Runs schedule seed to quiescence and checks it.  0 passed, 1 failed. */
static int
run_schedule(uint64_t seed, size_t *uncertain)
{
	static int rc;
	static pid_t worker;
	struct engine_opts opts;
	char cmd[600];
	int k;

	memset(&S, 0, sizeof(S));
	sim_crashes = 0;
	sim_state = NULL;
	/* the worker's directory: its LMDB file outlives each schedule */
	snprintf(S.dir, sizeof(S.dir), "/dev/shm/invsync-sim.%ld",
	    (long)getpid());
	if (worker != getpid()) {	/* the worker's first: no stale state */
		worker = getpid();
		remove_dir();
	}
	snprintf(cmd, sizeof(cmd), "%s/state", S.dir);
	if ((mkdir(S.dir, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(cmd, 0700) == -1 && errno != EEXIST)) {
		perror(S.dir);
		return 1;
	}
	if (sim_lmdb_fresh() == -1) {
		printf("FAIL seed %" PRIu64 ": cannot empty the state\n", seed);
		return 1;
	}
	choose_schedule(seed);
	describe();
	if (write_conf() == -1) {
		printf("FAIL seed %" PRIu64 ": %s\n", seed, S.nfails > 0 ?
		    S.fails[0] : "cannot write the schedule's config");
		return 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.reload = &agent_reload;
	agent_stop = agent_reload = 0;
	rc = 0;
	if (setjmp(sim_crash_jmp) != 0) {
		/* the process died: its memory and its LMDB handle go */
		sim_crashes++;
		for (k = 0; k < (int)S.nbatches; k++)
			S.batch[k].answered = 0;	/* died with the process */
		sim_lmdb_crash();
		if (sim_state != NULL)
			__real_state_close(sim_state);
		sim_state = NULL;
		sim_heap_drop();
		if (S.downtime_ms > 0) {	/* sales and edits go on */
			sim_trace("down for %" PRId64 " ms", S.downtime_ms);
			sim_advance(S.downtime_ms);
		}
		sim_trace("restart #%d", sim_crashes);
		rebuffer(0);
	}
	sim_heap_on = 1;
	while (!agent_stop &&
	    (rc = engine_run(&S.conf, &opts, &agent_stop)) == ENGINE_RELOAD) {
		rc = 0;
		agent_reload = 0;	/* as main.c cmd_sync() does */
		if (agent_stop)
			break;		/* never ran with the new config */
		sim_trace("reload");
		rebuffer(1);
	}
	sim_heap_on = 0;
	if (sim_heap_drop() > 0)
		sim_fail("the agent leaked memory");
	if (rc != 0)
		sim_fail("the agent exited %d", rc);
	final_checks(uncertain);
	if (getenv("SIM_STATS") != NULL)	/* for tuning: one line a schedule */
		printf("STAT seed %" PRIu64 ": %.1f s simulated, %d crashes\n",
		    seed, (double)(sim_now - SIM_EPOCH_MS) / 1000, sim_crashes);
	for (k = 0; k < S.nfails && k < MAX_FAILS; k++)
		printf("FAIL seed %" PRIu64 ": %s\n", seed, S.fails[k]);
	if (S.nfails > 0)
		fflush(stdout);
	return S.nfails > 0;
}

/* ---- the runner ---------------------------------------------------------- */

static int
usage(void)
{
	fprintf(stderr, "usage: sim [-n SCHEDULES] [-s FIRST_SEED] [-j JOBS]\n"
	    "       sim -x [-n SCHEDULES] [-s FIRST_SEED]\n"
	    "       sim -t SEED\n       sim -l FILE\n");
	return 2;
}

struct tally {
	unsigned long	failed, uncertain;
};

/* Worker w of jobs runs seeds first + w, + w + jobs, ... below first + n. */
static void
work(uint64_t first, unsigned long n, int w, int jobs, struct tally *t)
{
	uint64_t seed;

	for (seed = first + (uint64_t)w; seed < first + n; seed += (uint64_t)jobs) {
		size_t u = 0;

		t->failed += (unsigned long)run_schedule(seed, &u);
		t->uncertain += u;
	}
	worker_done();
}

/* Runs n schedules in jobs worker processes; the tally of them all. */
static struct tally
run_many(uint64_t first, unsigned long n, int jobs)
{
	struct tally all = { 0, 0 }, t;
	int w, status, fds[2];

	if (pipe(fds) == -1) {
		all.failed = n;
		return all;
	}
	for (w = 0; w < jobs; w++) {
		pid_t pid = fork();

		if (pid == 0) {
			unsigned long cpus = 1UL << (w % 64);

			/* one CPU a worker: unmapping then flushes one TLB */
			(void)syscall(SYS_sched_setaffinity, 0, sizeof(cpus), &cpus);
			close(fds[0]);
			if (freopen("/dev/null", "w", stderr) == NULL)
				_exit(3);
			memset(&t, 0, sizeof(t));
			work(first, n, w, jobs, &t);
			_exit(write(fds[1], &t, sizeof(t)) == sizeof(t) ? 0 : 3);
		}
		if (pid == -1)
			all.failed = n;
	}
	close(fds[1]);
	while (read(fds[0], &t, sizeof(t)) == sizeof(t)) {
		all.failed += t.failed;
		all.uncertain += t.uncertain;
	}
	close(fds[0]);
	while (wait(&status) != -1)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("a worker died (status %d): its schedules count "
			    "as failed\n", status);
			all.failed += n / (unsigned long)jobs + 1;
		}
	return all;
}

/*
 * Runs seeds first, first + 1, ... in this process until one fails: how
 * soon the simulator catches a broken agent (tests/sim/mutants.sh).
 * Prints "caught: seed N after T s" and returns 1, or 0 if none failed.
 */
static int
run_until_failure(uint64_t first, unsigned long n)
{
	struct timespec a, b;
	uint64_t seed;

	if (freopen("/dev/null", "w", stderr) == NULL)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (seed = first; seed < first + n; seed++) {
		size_t u = 0;

		if (run_schedule(seed, &u)) {
			clock_gettime(CLOCK_MONOTONIC, &b);
			printf("caught: seed %" PRIu64 " after %.2f s\n", seed,
			    (double)(b.tv_sec - a.tv_sec) +
			    (double)(b.tv_nsec - a.tv_nsec) / 1e9);
			worker_done();
			return 1;
		}
	}
	worker_done();
	printf("not caught in %lu schedules\n", n);
	return 0;
}

/* Runs the seeds listed in path, one a line ('#' comments). */
static int
run_list(const char *path)
{
	char line[256];
	unsigned long n = 0, failed = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return 2;
	}
	if (freopen("/dev/null", "w", stderr) == NULL)
		return 2;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *end;
		uint64_t seed = strtoull(line, &end, 10);
		size_t u = 0;

		if (end == line)
			continue;	/* a comment or a blank line */
		n++;
		if (run_schedule(seed, &u))
			failed++;
		else
			printf("PASS regression seed %" PRIu64 "\n", seed);
	}
	fclose(f);
	worker_done();
	printf("%lu schedules, %lu failed\n", n, failed);
	return failed != 0;
}

int
main(int argc, char **argv)
{
	unsigned long n = 1000;
	struct tally t;
	uint64_t first = 1, trace = 0;
	int c, jobs = 2, one = 0, until_failure = 0;

	while ((c = getopt(argc, argv, "n:s:j:t:l:x")) != -1)
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 's': first = strtoull(optarg, NULL, 10); break;
		case 'j': jobs = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 't': trace = strtoull(optarg, NULL, 10); one = 1; break;
		case 'l': log_init(-1); return run_list(optarg);
		case 'x': until_failure = 1; break;
		default: return usage();
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (until_failure) {
		log_init(-1);
		return run_until_failure(first, n);
	}
	if (one) {
		size_t u = 0;
		int r;

		sim_tracing = 1;
		log_init(2);
		r = run_schedule(trace, &u);
		worker_done();
		printf("seed %" PRIu64 ": %s, %d crashes, %zu uncertain\n", trace,
		    r ? "FAILED" : "passed", sim_crashes, u);
		printf("1 schedules, %d failed\n", r);
		return r;
	}
	log_init(-1);
	t = run_many(first, n, jobs);
	printf("%lu uncertain events (writes whose answer was lost)\n",
	    t.uncertain);
	if (t.failed == 0)
		printf("PASS simulation: seeds %" PRIu64 "-%" PRIu64 "\n", first,
		    first + n - 1);
	printf("%lu schedules, %lu failed\n", n, t.failed);
	return t.failed != 0;
}
