/*
 * sim.h: the deterministic simulation of invsync (tests/sim/README.md).
 *
 * The real engine, write protocol, catalog linking, sync arithmetic and
 * LMDB state run against simulated Shopify stores held in memory.  The
 * seam is client.h: sim_client.c implements it over sim_shop.c, and
 * sim_clock.c replaces agent/clock.c, so time moves only when the agent
 * sleeps or waits on a store.  One seed chooses everything: the stores,
 * their semantics (key retention, what a replay answers, index lag), the
 * external sales, the faults and the crashes.
 */
#ifndef SIM_H
#define SIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

#define SIM_STORES	3
#define SIM_LOCS	3
#define SIM_VARIANTS	8	/* per store: products x variants */
#define SIM_LEVELS	(SIM_VARIANTS * SIM_LOCS)
#define SIM_KEYS	64	/* idempotency keys a store remembers */
#define SIM_BATCHES	192	/* batches the oracle follows */
#define SIM_EVENTS	64	/* external changes of one schedule */
#define SIM_EPOCH_MS	1795000000000LL	/* 2026-11-19, Shopify's clock */

/* ---- the deterministic random source (sim.c) ---------------------------- */
uint64_t sim_rand(void);
/* Uniform in [0, n); 0 when n == 0. */
uint32_t sim_below(uint32_t n);
/* 1 with probability per-mille / 1000. */
int	 sim_chance(unsigned permille);

/*
 * A catalog edit that takes a variant out of its links (the first EDITS
 * are drawn at random): EDIT_COPY also gives its partner variant its SKU,
 * so that both leave their links in that store, its key a duplicate;
 * EDIT_TOUCH only moves its updatedAt (as a title edit does).
 */
enum sim_edit { EDIT_RENAME, EDIT_SKU, EDIT_DELETE, EDITS,
    EDIT_COPY = EDITS, EDIT_TOUCH };

/* ---- the simulated clock (sim_clock.c) --------------------------------- */
extern int64_t	 sim_now;		/* ms since the epoch, Shopify's time */
/* The agent's wall clock (util_now_ms()) is sim_now + skew_ms, and after
   jump_at (0: never), as when NTP catches up, sim_now + skew_after_ms. */
struct sim_local_clock {
	int64_t	skew_ms, skew_after_ms, jump_at;
};
extern struct sim_local_clock sim_local;
/* Moves time forward by ms, running every event that falls due. */
void	 sim_advance(int64_t ms);
/* Events: an external change of a store's level; a slow request's end. */
void	 sim_schedule_external(int store, size_t level, int64_t delta,
	    int64_t at);
void	 sim_schedule_finish(int store, const char *key, int64_t at);
void	 sim_schedule_edit(int store, size_t variant, enum sim_edit e,
	    int64_t at);
/* The merchant deactivates a level of a store, or activates it again. */
void	 sim_schedule_active(int store, size_t level, int active,
	    int64_t at);
/* The merchant creates a variant (new, or of a new product) in a store. */
void	 sim_schedule_create(int store, size_t variant, int64_t at);
void	 sim_clock_reset(void);
/* External changes still to come (some wait for a created variant). */
size_t	 sim_externals_due(void);
/* sim.c's hooks: the agent naps (may raise *stop); a change happened. */
void	 sim_idle(volatile int *stop);
void	 sim_external_done(int store, size_t level, int64_t delta);
/* 0 while an external change of store's level index k must wait: a
   created variant's levels change only once the agent has sighted its
   links. */
int	 sim_external_ready(int store, size_t k);

/* ---- one simulated store (sim_shop.c) ---------------------------------- */

enum replay_mode {
	REPLAY_ORIGINAL,	/* a known key answers the original result */
	REPLAY_STALE,		/* ... CHANGE_FROM_QUANTITY_STALE when it applied
				   (what Shopify was seen to do) */
	REPLAY_REEXECUTE,	/* ... runs again, under compare-and-set */
	REPLAY_MODES
};

struct sim_level {
	uint64_t	id;
	size_t		var;		/* its variant's index */
	size_t		loc;		/* its location's index */
	int		gone;		/* in no answer: its product deleted,
					   its variant not created yet, or
					   never stocked here */
	int		unstocked;	/* stays gone when its variant is
					   created */
	uint64_t	item;
	uint64_t	location;
	int64_t		available;
	int		active;
	int64_t		updated_ms;	/* Shopify's updatedAt */
	int64_t		indexed_ms;	/* what the updated_at search sees */
	int64_t		index_due_ms;	/* when it will see updated_ms */
};

struct sim_variant {
	uint64_t	id;
	uint64_t	item;
	uint64_t	product;
	char		handle[32];
	char		sku[32];
	int64_t		updated_ms;	/* for products(query: updated_at) */
	int64_t		edited_ms;	/* when an edit unlinked it; 0 never */
	size_t		partner;	/* EDIT_COPY gives it this one's SKU */
	int		deleted;
};

/* How long the agent may take to see an edit: a catalog refresh and a
   reconciliation (a deletion shows only in a full load), and a cycle; and
   after an outage, a backoff that grows to a minute (run.c). */
#define SIM_EDIT_GRACE_MS	25000
#define SIM_BACKOFF_CAP_MS	60000

struct sim_change {
	uint64_t	item;
	uint64_t	location;
	int64_t		delta;
	int		has_from;
	int64_t		from;
};

enum key_state { KEY_FREE, KEY_IN_FLIGHT, KEY_DONE };

struct sim_key {
	char			key[33];
	enum key_state		state;
	enum adjust_outcome	outcome;	/* the first run's */
	int64_t			forget_ms;	/* when the store forgets it */
	size_t			n;
	struct sim_change	ch[SIM_LEVELS];	/* its parameters */
	uint64_t		params;		/* hash of all of them */
};

/*
 * A bulk query operation (sim_client.c): its file is a snapshot whose
 * levels are each read when it begins or, taken at random, when it ends
 * (Shopify reads rows while it runs); a catalog's variants as it began.
 */
#define SIM_BULK_OPS	4		/* operations a store keeps */
struct sim_bulk_op {
	uint64_t		 id;		/* 0: none */
	int			 kind;		/* enum shopify_bulk_kind */
	int64_t			 done_ms;	/* RUNNING until then */
	int			 fixed;		/* the late values are taken */
	int			 late[SIM_LEVELS];	/* read when it ends */
	struct sim_level	 lvl[SIM_LEVELS];
	struct sim_variant	 var[SIM_VARIANTS];
};

struct sim_shop {
	int			 index;
	size_t			 nlocs;
	uint64_t		 loc[SIM_LOCS];
	size_t			 nvariants;
	struct sim_variant	 var[SIM_VARIANTS];
	size_t			 nlevels;
	struct sim_level	 lvl[SIM_LEVELS];
	struct sim_key		 keys[SIM_KEYS];
	/* the semantics the seed chose */
	enum replay_mode	 replay;
	int64_t			 retention_ms;	/* 0: forgotten at once */
	unsigned		 evict_permille;	/* per request */
	int64_t			 lag_ms;	/* the index's lag, at most */
	unsigned		 miss_permille;	/* the index misses a change */
	int64_t			 down_from, down_until;	/* an outage */
	/* the cost bucket: points, restored per second up to the size */
	double			 bucket_size, bucket_rate, bucket;
	int64_t			 bucket_at;
	struct sim_bulk_op	 bulk[SIM_BULK_OPS];
	uint64_t		 bulk_next;	/* the last operation's number */
};

extern struct sim_shop	sim_shops[SIM_STORES];
extern size_t		sim_nshops;

/* Builds store i from the seed (the same catalog in every store). */
void	sim_shop_init(struct sim_shop *s, int i, size_t nlocs,
	    size_t nvariants);
/* The name of a store's location k, the same in every store. */
void	sim_location_name(size_t k, char *buf, size_t bufsz);
struct sim_level *sim_shop_level(struct sim_shop *s, uint64_t item,
	    uint64_t location);
/* A request asking for requested points, costing actual: 0 with them
   taken from the store's bucket, or -1 (THROTTLED: fewer than requested
   left, nothing taken) with *wait_ms until there will be enough. */
int	sim_shop_spend(struct sim_shop *s, double requested, double actual,
	    int64_t *wait_ms);
/* Variant v does not exist yet (no answer shows it) ... until created. */
void	sim_shop_hide(struct sim_shop *s, size_t v);
void	sim_shop_create(struct sim_shop *s, size_t v);
/* How long after an edit the agent may still write to the level. */
int64_t	sim_edit_grace(const struct sim_shop *s);
/* Deactivates level l of store s, or activates it again. */
void	sim_shop_set_active(struct sim_shop *s, struct sim_level *l,
	    int active);
/* Applies catalog edit e to variant v of store s. */
void	sim_shop_edit(struct sim_shop *s, size_t v, enum sim_edit e);
/* An external change: a sale, a restock or a refund. */
void	sim_shop_change(struct sim_shop *s, struct sim_level *l, int64_t d);
/*
 * Runs one inventoryAdjustQuantities under key as Shopify would, the key
 * table first.  in_flight: the request arrives but its run finishes only
 * at sim_shop_finish() (a slow request: the key is busy meanwhile).
 */
void	sim_shop_adjust(struct sim_shop *s, const char *key,
	    const struct sim_change *ch, size_t n, int in_flight,
	    struct adjust_result *res);
/* Finishes the run of a key left in flight. */
void	sim_shop_finish(struct sim_shop *s, const char *key);
/* Forgets keys past their retention, and one at random now and then. */
void	sim_shop_tick(struct sim_shop *s);

/* ---- the oracle (sim.c) ------------------------------------------------ */

/* What really happened to one batch, by its key. */
struct sim_batch {
	char		key[33];
	int		store;
	size_t		n;
	struct sim_change ch[SIM_LEVELS];
	int		runs;		/* times it applied */
	int		answered;	/* a definitive answer reached the agent
					   (since its last crash) */
	size_t		judged;		/* uncertain audit entries read */
	int		early;		/* sent before the agent had sighted
					   the created variant in every store */
};

/* The oracle learns of a batch: 1 on its first send, 0 for a replay. */
int	 sim_batch_sent(int store, const char *key,
	    const struct sim_change *ch, size_t n);
void	 sim_batch_ran(const char *key);
void	 sim_batch_answered(const char *key);
/* A violation: recorded with the step it happened at. */
void	 sim_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* A step of the trace (SEED=N runs print it). */
void	 sim_trace(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
extern int	 sim_tracing;

/* ---- faults and crashes (sim_client.c) --------------------------------- */

struct sim_faults {
	unsigned	read_fail;	/* per mille: 5xx, reset, timeout */
	unsigned	read_garbage;	/* garbage or null fields */
	unsigned	throttle;
	unsigned	write_connect;	/* fails before any byte */
	unsigned	write_lost;	/* lost before Shopify */
	unsigned	write_reply_lost;	/* ran, answer lost */
	unsigned	write_slow;	/* still running when the agent gives up */
	unsigned	crash;		/* at each crash point */
	int		max_crashes;
	int		on;		/* 0 at quiescence */
};

extern struct sim_faults sim_faults;
extern jmp_buf		 sim_crash_jmp;
extern int		 sim_crashes;
/* The agent's heap (sim_clock.c): tracked while sim_heap_on. */
extern int	 sim_heap_on;
size_t		 sim_heap_drop(void);
/* A crash point: longjmp()s to sim_crash_jmp when the seed says so. */
void	 sim_crash_point(const char *where);
/* 1 while the agent has its state open (sim.c). */
int	 sim_agent_open(void);

/* ---- the agent's LMDB (sim_lmdb.c) ------------------------------------- */

/* The agent died: its open cursors and transactions end. */
void	 sim_lmdb_crash(void);
/* Before a schedule: the worker's file emptied.  0 or -1. */
int	 sim_lmdb_fresh(void);
/* The worker is done: its environment closed for real. */
void	 sim_lmdb_close(void);

#endif
