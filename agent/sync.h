/*
 * sync.h: the sync model of docs/design.md §3-4 as pure functions on struct link.
 * No I/O: the engine reads levels, calls these, and stores the results.
 *
 * For every link, store i has a baseline L_i (what we believe it holds),
 * an owed amount o_i (changes made elsewhere it has not received) and the
 * units its buffer holds back, h_i (link.pool[i].held).  Its pool view is
 * P_i = L_i + o_i + h_i, and its target T_i = P_i - h_i with
 * h_i = min(N_i, max(P_i, 0)) for a buffer of N_i units (docs/design.md
 * §3a).  Invariant in two-way mode: P_i is the same for every synced side
 * once the initial policy has run.  With no buffers h_i = 0: L_i + o_i.
 *
 * A group side (link.pool[i].nmembers >= 2) holds the sum of its members'
 * quantities: its members are observed one by one (sync_group_sum()) and
 * written to in their listed order (sync_spread()).
 */
#ifndef SYNC_H
#define SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "state.h"

struct sync_policy {
	enum initial_policy	initial;
	enum direction		direction;
	int64_t			buffer[CONF_MAX_STORES];	/* per store */
};

/*
 * The link key of a variant at a location group (docs/design.md §3): by handle
 * ("h:HANDLE/SKU", else "h:HANDLE/o:OPTIONS", else "h:HANDLE/-"), by SKU
 * ("s:SKU") or by barcode ("b:BARCODE"), then "@GROUP".  Writes it to out
 * (outsz bytes) and returns 0, or -1 when the variant has no such key
 * (an empty SKU under match = sku) or it does not fit.
 */
int	sync_link_key(enum match_key m, const char *handle, const char *sku,
	    const char *barcode, const char *options, uint64_t group,
	    char *out, size_t outsz);

/*
 * The inverse of sync_link_key() for `invsync explain`: 1 when link key
 * names what, else 0.  what names a key when it is the key, the key
 * without its "@GROUP", its handle, its SKU (from "s:SKU" or
 * "h:HANDLE/SKU") or its barcode.  Exact, case-sensitive comparisons.
 */
int	sync_key_matches(const char *key, const char *what);

/* A side takes part in syncing: present in the store and syncable. */
int	sync_side_active(const struct link *l, size_t s);

/*
 * The link's reference side: the first active side (the primary store when
 * it is in the link).  Returns its index, or -1 when no side is active.
 */
int	sync_reference(const struct link *l);

/*
 * Records that store s holds quantity q.  On the side's first sighting the
 * initial policy sets the owed amounts; afterwards the change since the
 * baseline (d = q - L_s) becomes owed by every other active side (only the
 * reference side's changes in one-way mode).  Returns d, 0 on a first
 * sighting.  A side that is not active is left alone (returns 0).
 */
int64_t	sync_observe(struct link *l, size_t s, int64_t q,
	    const struct sync_policy *p);

/* A write of delta to store s was applied: L_s += delta, o_s -= delta. */
void	sync_applied(struct link *l, size_t s, int64_t delta);

/*
 * The pool a store showing q implies under a buffer of n units: q + n when
 * q > 0 (it shows what the buffer left), else q.
 */
int64_t	sync_implied(int64_t q, int64_t n);

/* Side s's pool view P_s = L_s + o_s + h_s. */
int64_t	sync_pool(const struct link *l, size_t s);

/*
 * Re-derives side s's held units and owed amount from its pool view under
 * the policy's buffer (a buffer changed in the config).  Returns 1 when
 * the owed amount changed, else 0; a side without a baseline is left.
 */
int	sync_rebuffer(struct link *l, size_t s, const struct sync_policy *p);

/*
 * Groups.  sync_member: the index of location loc among store s's levels
 * in l (0 for a single-location side at loc), or -1 when loc is not the
 * side's.  sync_group_sum: *sum is the sum of the quantities of group side
 * s's members with status SIDE_OK that were seen; returns 1 when each of
 * them was seen (the side can be sighted), else 0.
 */
#define sync_is_group(l, s)	((l)->pool[s].nmembers >= 2)
int	sync_member(const struct link *l, size_t s, uint64_t loc);
int	sync_group_sum(const struct link *l, size_t s, int64_t *sum);

/*
 * A change into group side s spread over its members (docs/design.md §3a):
 * delta < 0 takes from the first seen active member down to 0, then the
 * next, and what no member has goes to the first; delta > 0 goes to the
 * first.  Fills out (GROUP_MAX entries) with each member's change, from
 * its last seen quantity, and returns how many (0 when no member can take
 * it).  A single-location side gives one change: (side, L_s, delta).
 */
struct member_change {
	size_t		member;
	int64_t		from;
	int64_t		delta;
};
size_t	sync_spread(const struct link *l, size_t s, int64_t delta,
	    struct member_change *out);

/* A write of delta at location loc of side s was applied (member too). */
void	sync_applied_at(struct link *l, size_t s, uint64_t loc, int64_t delta);

/*
 * The change to write to store s now: fills *from (changeFromQuantity =
 * L_s) and *delta (o_s) and returns 1, or returns 0 when nothing is owed
 * or the side is not active or has no baseline yet.
 */
int	sync_planned(const struct link *l, size_t s, int64_t *from,
	    int64_t *delta);

/*
 * Two-way invariant: 1 when every active side with a baseline has the
 * same L_i + o_i, else 0.
 */
int	sync_consistent(const struct link *l);

/* 1 when every active side has a baseline and owes nothing. */
int	sync_in_step(const struct link *l);

/*
 * What status and the metrics file call a link: not synced (fewer than two
 * active sides), in step (sync_in_step()), or waiting for writes.
 */
enum link_state {
	LINK_IN_STEP,
	LINK_WAITING,
	LINK_NOT_SYNCED
};
enum link_state sync_link_state(const struct link *l);

/*
 * The absurd-change guard (docs/design.md §6) looks for what a bulk-import mistake
 * does, not what selling does: a large change is at least GUARD_MIN_UNITS
 * units and at least half of what the level held before (a level zeroed,
 * doubled, or set from nothing).  Sales of a few units never are.
 * sync_change_large() returns 1 for a large change d from before, else 0.
 */
#define GUARD_MIN_UNITS		5
int	sync_change_large(int64_t before, int64_t d);

/*
 * 1 when large of total links changed largely in one cycle is more than
 * percent % (0 disables) and at least GUARD_MIN_CHANGED links, else 0.
 */
#define GUARD_MIN_CHANGED	10
int	sync_guard_trips(size_t large, size_t total, int percent);

#endif
