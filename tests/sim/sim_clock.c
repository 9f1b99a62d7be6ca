/*
 * sim_clock.c: owns simulated time, replacing agent/clock.c at link time.
 *
 * Time moves only when the agent sleeps or waits on a store; whatever the
 * schedule put in that stretch of time (an external sale, the end of a
 * slow request) happens then, in time order.  Randomness, idempotency keys
 * included, comes from the seed, so one seed is one exact run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define SIM_QUEUE	(SIM_EVENTS + 64)

int64_t	sim_now = SIM_EPOCH_MS;	/* Shopify's clock */

enum ev_kind { EV_EXTERNAL, EV_FINISH, EV_EDIT, EV_CREATE, EV_ACTIVE };

struct event {
	int64_t		at;
	enum ev_kind	kind;
	int		store;
	size_t		level;		/* EV_EXTERNAL, EV_ACTIVE */
	int64_t		delta;		/* EV_EXTERNAL; EV_EDIT: enum sim_edit;
					   EV_ACTIVE: 1 active, 0 not */
	char		key[33];	/* EV_FINISH */
};

static struct event	queue[SIM_QUEUE];
static size_t		nqueue;


static void
push(const struct event *ev)
{
	if (nqueue < SIM_QUEUE)
		queue[nqueue++] = *ev;
}

void
sim_schedule_external(int store, size_t level, int64_t delta, int64_t at)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = at;
	ev.kind = EV_EXTERNAL;
	ev.store = store;
	ev.level = level;
	ev.delta = delta;
	push(&ev);
}


void
sim_schedule_edit(int store, size_t variant, enum sim_edit e, int64_t at)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = at;
	ev.kind = EV_EDIT;
	ev.store = store;
	ev.level = variant;
	ev.delta = (int64_t)e;
	push(&ev);
}

void
sim_schedule_active(int store, size_t level, int active, int64_t at)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = at;
	ev.kind = EV_ACTIVE;
	ev.store = store;
	ev.level = level;
	ev.delta = active;
	push(&ev);
}

void
sim_schedule_create(int store, size_t variant, int64_t at)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = at;
	ev.kind = EV_CREATE;
	ev.store = store;
	ev.level = variant;
	push(&ev);
}

void
sim_schedule_finish(int store, const char *key, int64_t at)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = at;
	ev.kind = EV_FINISH;
	ev.store = store;
	memcpy(ev.key, key, sizeof(ev.key) - 1);
	push(&ev);
}


/* Runs the earliest event due by `until`; 0 when none is. */
static int
run_one(int64_t until)
{
	size_t k, best = nqueue;
	struct event ev;

	for (k = 0; k < nqueue; k++)
		if (queue[k].at <= until &&
		    (best == nqueue || queue[k].at < queue[best].at))
			best = k;
	if (best == nqueue)
		return 0;
	ev = queue[best];
	queue[best] = queue[--nqueue];
	if (ev.at > sim_now)
		sim_now = ev.at;
	if (ev.kind == EV_EXTERNAL && !sim_external_ready(ev.store, ev.level)) {
		ev.at = sim_now + 500;		/* not yet: later */
		push(&ev);
	} else if (ev.kind == EV_EXTERNAL) {
		/* no sale, restock or refund where nothing is stocked */
		if (!sim_shops[ev.store].lvl[ev.level].gone &&
		    sim_shops[ev.store].lvl[ev.level].active) {
			sim_shop_change(&sim_shops[ev.store],
			    &sim_shops[ev.store].lvl[ev.level], ev.delta);
			sim_external_done(ev.store, ev.level, ev.delta);
		}
	} else if (ev.kind == EV_EDIT)
		sim_shop_edit(&sim_shops[ev.store], ev.level,
		    (enum sim_edit)ev.delta);
	else if (ev.kind == EV_CREATE)
		sim_shop_create(&sim_shops[ev.store], ev.level);
	else if (ev.kind == EV_ACTIVE)
		sim_shop_set_active(&sim_shops[ev.store],
		    &sim_shops[ev.store].lvl[ev.level], (int)ev.delta);
	else
		sim_shop_finish(&sim_shops[ev.store], ev.key);
	return 1;
}

size_t
sim_externals_due(void)
{
	size_t k, n = 0;

	for (k = 0; k < nqueue; k++)
		n += queue[k].kind == EV_EXTERNAL;
	return n;
}

void
sim_advance(int64_t ms)
{
	int64_t until = sim_now + (ms > 0 ? ms : 0);

	while (run_one(until))
		;
	sim_now = until;
}


void
sim_clock_reset(void)
{
	nqueue = 0;
	sim_now = SIM_EPOCH_MS;
}

/* ---- agent/clock.c's functions ------------------------------------------ */

struct sim_local_clock sim_local;

/* This machine's clock: Shopify's off by the schedule's skew. */
int64_t
util_now_ms(void)
{
	return sim_now + (sim_local.jump_at != 0 && sim_now >= sim_local.jump_at ?
	    sim_local.skew_after_ms : sim_local.skew_ms);
}

int64_t
util_mono_ms(void)
{
	return sim_now - SIM_EPOCH_MS + 1000000;
}

int
util_random_key(char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++)
		hex[i] = digits[sim_below(16)];
	hex[32] = '\0';
	return 0;
}

uint32_t
util_random_below(uint32_t n)
{
	return sim_below(n);
}

int
util_sleep_ms(int64_t ms, volatile int *stop)
{
	sim_advance(ms);
	if (stop != NULL)
		sim_idle(stop);
	return stop != NULL && *stop;
}

/*
 * The agent's heap.  A crash throws the agent's memory away: every block
 * it allocated (through util.c's xmalloc() family) and has not freed is
 * freed then (sim_heap_drop()), so that one process runs schedule after
 * schedule; LMDB's own memory goes with state_close().  Large blocks (a struct pending
 * is about 110 kB) are kept for the next request instead of going back to
 * the kernel, whose TLB flushes made schedules ten times slower.
 */
#define BIG_MIN		(16u << 10)
#define BIG_CACHE	48
#define HEAP_SLOTS	(1u << 13)	/* the agent's live blocks, at most */
#define TOMB		((void *)1)

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	 __real_free(void *);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	 __wrap_free(void *);
void	*__real_xmalloc(size_t);
void	*__real_xcalloc(size_t, size_t);
void	*__real_xreallocarray(void *, size_t, size_t);
char	*__real_xstrdup(const char *);
void	*__wrap_xmalloc(size_t);
void	*__wrap_xcalloc(size_t, size_t);
void	*__wrap_xreallocarray(void *, size_t, size_t);
char	*__wrap_xstrdup(const char *);

struct block {
	void	*p;
	size_t	 size;
};

static struct block	heap[HEAP_SLOTS], cache[BIG_CACHE];
static size_t		nheap, ncache;
int			sim_heap_on;

static size_t
slot_of(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 51) & (HEAP_SLOTS - 1);
}

static void
heap_add(void *p, size_t size)
{
	size_t k;

	if (!sim_heap_on || p == NULL)
		return;
	if (nheap >= HEAP_SLOTS / 2)
		abort();	/* the agent holds far more than it should */
	for (k = slot_of(p); heap[k].p != NULL && heap[k].p != TOMB;
	    k = (k + 1) & (HEAP_SLOTS - 1))
		;
	heap[k].p = p;
	heap[k].size = size;
	nheap++;
}

/* Removes p; its size, or 0 when the agent's heap does not hold it. */
static size_t
heap_del(void *p)
{
	size_t k, size;

	for (k = slot_of(p); heap[k].p != NULL; k = (k + 1) & (HEAP_SLOTS - 1))
		if (heap[k].p == p) {
			size = heap[k].size;
			heap[k].p = TOMB;
			nheap--;
			return size ? size : 1;
		}
	return 0;
}

/* The smallest kept block that holds n bytes (and not four times more). */
static void *
big_get(size_t n)
{
	size_t k, best = ncache;
	void *p;

	for (k = 0; k < ncache; k++)
		if (cache[k].size >= n && cache[k].size / 4 <= n &&
		    (best == ncache || cache[k].size < cache[best].size))
			best = k;
	if (best == ncache)
		return NULL;
	p = cache[best].p;
	cache[best] = cache[--ncache];
	return p;
}

/* Frees p, keeping a large one for later. */
static void
release(void *p, size_t size)
{
	if (size >= BIG_MIN && ncache < BIG_CACHE) {
		cache[ncache].p = p;
		cache[ncache++].size = size;
	} else
		__real_free(p);
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (n >= BIG_MIN && (p = big_get(n)) != NULL)
		return p;
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if (n * size >= BIG_MIN && (p = big_get(n * size)) != NULL) {
		memset(p, 0, n * size);
		return p;
	}
	return __real_calloc(n, size);
}

size_t	malloc_usable_size(void *);

/* Frees p, whoever allocated it; a large block is kept for later. */
void
__wrap_free(void *p)
{
	if (p == NULL)
		return;
	heap_del(p);
	release(p, malloc_usable_size(p));
}

void *
__wrap_realloc(void *p, size_t n)
{
	if (p != NULL)
		heap_del(p);
	return __real_realloc(p, n);
}

void *
__wrap_xmalloc(size_t n)
{
	void *p = __real_xmalloc(n);

	heap_add(p, n);
	return p;
}

void *
__wrap_xcalloc(size_t n, size_t size)
{
	void *p = __real_xcalloc(n, size);

	heap_add(p, n * size);
	return p;
}

void *
__wrap_xreallocarray(void *p, size_t n, size_t size)
{
	if (p != NULL)
		heap_del(p);
	p = __real_xreallocarray(p, n, size);
	heap_add(p, n * size);
	return p;
}

char *
__wrap_xstrdup(const char *s)
{
	char *p = __real_xstrdup(s);

	heap_add(p, strlen(s) + 1);
	return p;
}

/*
 * The agent's process died: frees every block it still held.  Returns how
 * many there were (after a clean exit, a leak).
 */
size_t
sim_heap_drop(void)
{
	size_t k, n = nheap;

	for (k = 0; k < HEAP_SLOTS; k++) {
		if (heap[k].p != NULL && heap[k].p != TOMB)
			release(heap[k].p, malloc_usable_size(heap[k].p));
		heap[k].p = NULL;
	}
	nheap = 0;
	return n;
}
