/*
 * state.h: invsync's durable state, kept in one LMDB environment
 * (state_dir/invsync.mdb).  Only state.c includes LMDB.
 *
 * Tables:
 *   links    link key -> struct link (per store: ids, baseline, owed)
 *   levels   (store, item id, location id) -> link key (the index that maps
 *            a level read from a store back to its link)
 *   owed     (store, link key) -> nothing: the links that owe that store a
 *            change, so planning costs what changed, not the catalog
 *   pending  store index -> the write batch in flight to that store
 *   meta     small named values: cursors, paused flag, store list, errors
 *   audit    sequence -> one audit entry (bounded, oldest dropped)
 *
 * Every change goes through state_update(), which runs a callback inside one
 * write transaction, grows the map when it is full and commits durably.
 * Readers (status, log) use state_view() and never block the writer.
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define LINK_KEY_MAX	400	/* handle + variant key + location group */
#define BATCH_MAX	250	/* changes per inventoryAdjustQuantities */
#define AUDIT_MAX	10000	/* audit entries kept */
#define META_STR_MAX	512
#define AUDIT_NOTE_MAX	160	/* an audit entry's note, with its NUL */

enum side_status {
	SIDE_OK = 0,
	SIDE_UNTRACKED,		/* inventoryItem.tracked is false */
	SIDE_BUNDLE,		/* requiresComponents: not mutable */
	SIDE_INACTIVE,		/* the level is inactive at the location */
	SIDE_DUPLICATE,		/* the key is not unique inside the store */
	SIDE_MISSING		/* the level does not exist at the location */
};

/* One store's part of a link. item == 0: the store is not in the link. */
struct link_side {
	uint64_t	item;		/* numeric InventoryItem id */
	uint64_t	location;	/* numeric Location id */
	uint64_t	level;		/* numeric InventoryLevel id, 0 = not read yet */
	int64_t		baseline;	/* L_i: what we believe the store holds */
	int64_t		owed;		/* o_i: changes the store has not received */
	uint32_t	catalog_gen;	/* full catalog load that last saw it */
	uint8_t		has_baseline;
	uint8_t		status;		/* enum side_status */
	uint16_t	touched;	/* the store's snapshot epoch (META_EPOCH)
					   when a live read or a write last
					   touched it: a levels snapshot of
					   that epoch is older news (run.c) */
};

/*
 * One location of a group side (docs/design.md §3a): the side's quantity
 * is the sum of its members' with status SIDE_OK.
 */
struct link_member {
	uint64_t	location;	/* numeric Location id */
	uint64_t	level;		/* numeric InventoryLevel id, 0 = not read */
	int64_t		quantity;	/* available, as last seen */
	uint8_t		seen;		/* quantity holds a reading */
	uint8_t		status;		/* SIDE_OK, SIDE_INACTIVE, SIDE_MISSING */
	uint16_t	pass;		/* the store's full passes done
					   (META_PASSES) when a read last
					   found the level: a pass that ends
					   with it older did not (run.c) */
	uint8_t		pad[4];
};

/*
 * What a side has beyond struct link_side, kept only when the link has a
 * group or a buffer, so that states without either keep their records
 * (state.c): held, the units a buffer holds back from the side (the
 * side's pool view is baseline + owed + held); its members, when the side
 * is a group of nmembers >= 2 locations, in the listed order, the first
 * at side.location.
 */
struct link_pool {
	int64_t			held;
	uint32_t		nmembers;
	uint32_t		pad;
	struct link_member	member[GROUP_MAX];
};

struct link {
	char		 key[LINK_KEY_MAX];
	size_t		 nsides;	/* = number of configured stores */
	struct link_side side[CONF_MAX_STORES];
	struct link_pool pool[CONF_MAX_STORES];
};

struct pending_change {
	char		link[LINK_KEY_MAX];
	uint64_t	item;
	uint64_t	location;
	uint64_t	level;		/* for fresh reads by id */
	int64_t		from;		/* changeFromQuantity */
	int64_t		delta;
};

/* A write batch journaled before it is sent (docs/design.md §4). */
struct pending {
	char			key[33];	/* idempotency key, 32 hex digits */
	uint32_t		store;
	int64_t			created_ms;
	int			sent;		/* bytes may have left the machine */
	int			attempts;
	size_t			n;
	struct pending_change	ch[BATCH_MAX];
};

enum audit_kind {
	AUDIT_APPLIED = 1,	/* a change written to a store */
	AUDIT_UNCERTAIN,	/* outcome ambiguous, taken as applied */
	AUDIT_OBSERVED,		/* a change seen in a store */
	AUDIT_LINKED,		/* a link created or re-linked */
	AUDIT_UNLINKED,
	AUDIT_PAUSED,
	AUDIT_RESUMED,
	AUDIT_DROPPED,		/* a batch that did not run: re-planned */
	AUDIT_UNCERTAIN_REPLANNED	/* outcome ambiguous, taken as not
					   applied: re-planned */
};

struct audit_entry {
	uint64_t	seq;
	int64_t		time_ms;
	uint32_t	kind;		/* enum audit_kind */
	uint32_t	store;
	int64_t		from;
	int64_t		delta;
	char		batch[33];
	char		link[LINK_KEY_MAX];
	char		note[AUDIT_NOTE_MAX];
};

struct state;
struct state_txn;

/* "LMDB 0.9.24: (July 24, 2019)", for `invsync version`. */
const char	*state_version(void);

/*
 * Opens (creating when needed) the environment in dir, which must exist.
 * Clears stale reader slots.  Returns NULL and logs why on failure.
 * readonly: for status/log, never creates.
 */
struct state	*state_open(const char *dir, int readonly);
/*
 * Makes st's process the only syncing one: an exclusive lock on
 * dir/invsync.lock held until exit.  Returns 0, or -1 (logged) when
 * another `run` or `once` holds it.
 */
int		 state_lock_syncer(const char *dir);
/* 1 when dir holds a state file, else 0. */
int		 state_exists(const char *dir);
void		 state_close(struct state *st);
/*
 * Drops this process's resident pages of the (read-only) map: they stay in
 * the page cache, and the next read faults them back in.  Between
 * transactions only; keeps idle RSS small after a full pass (docs/design.md §9).
 */
void		 state_trim(struct state *st);

/*
 * Runs fn inside one write transaction and commits it durably when fn
 * returns 0; aborts when fn returns non-zero.  A full map is grown and fn
 * run again, so fn must not keep side effects outside the transaction.
 * Returns fn's result, or -1 on an LMDB error (logged).
 */
int	state_update(struct state *st,
	    int (*fn)(struct state_txn *, void *), void *arg);
/* The same with a read-only transaction. */
int	state_view(struct state *st,
	    int (*fn)(struct state_txn *, void *), void *arg);

/*
 * A dry run (--dry-run): from state_dry_begin() to state_dry_end(), every
 * state_update() and state_view() runs in a child of one write transaction
 * that state_dry_end() aborts, so the dry run sees its own changes and
 * leaves nothing behind.  Other processes see none of it.  0 or -1.
 */
int	state_dry_begin(struct state *st);
void	state_dry_end(struct state *st);

/* Links.  Getters return 0 found, 1 not found, -1 error. */
int	state_link_get(struct state_txn *t, const char *key, struct link *out);
/* Stores the link and points the levels index at it. Returns 0 or -1. */
int	state_link_put(struct state_txn *t, const struct link *l);
/* Removes the link and its index entries. Returns 0 or -1. */
int	state_link_del(struct state_txn *t, const char *key);
/* Looks up the link of a level; key must hold LINK_KEY_MAX bytes. */
int	state_link_find(struct state_txn *t, uint32_t store, uint64_t item,
	    uint64_t location, char *key);
/* Calls fn for every link in key order; stops early when fn returns non-zero. */
int	state_link_each(struct state_txn *t,
	    int (*fn)(const struct link *, void *), void *arg);
/*
 * Calls fn for every link that owes store s a change (owed != 0), in key
 * order, until fn returns non-zero.  Returns 0, fn's value, or -1.
 */
int	state_owed_each(struct state_txn *t, uint32_t s,
	    int (*fn)(const struct link *, void *), void *arg);
/* Number of links. */
size_t	state_link_count(struct state_txn *t);

/* Pending batches: at most one per store. Getters as above. */
int	state_pending_get(struct state_txn *t, uint32_t store, struct pending *out);
int	state_pending_put(struct state_txn *t, const struct pending *p);
int	state_pending_del(struct state_txn *t, uint32_t store);

/* Named meta values. Getters return 0 found, 1 not found, -1 error. */
int	state_meta_get_i64(struct state_txn *t, const char *name, int64_t *v);
int	state_meta_put_i64(struct state_txn *t, const char *name, int64_t v);
int	state_meta_get_str(struct state_txn *t, const char *name, char *buf,
	    size_t bufsz);
int	state_meta_put_str(struct state_txn *t, const char *name, const char *v);
int	state_meta_del(struct state_txn *t, const char *name);
/*
 * A meta value of any bytes: get sets *len to its size and copies it into
 * buf when it fits (*len <= bufsz); 0 found, 1 not found, -1 error.
 */
int	state_meta_get_blob(struct state_txn *t, const char *name, void *buf,
	    size_t bufsz, size_t *len);
int	state_meta_put_blob(struct state_txn *t, const char *name,
	    const void *v, size_t len);

/* Appends e (seq and time filled in when zero), dropping the oldest past AUDIT_MAX. */
int	state_audit_append(struct state_txn *t, struct audit_entry *e);
/* Calls fn for the last n entries, oldest first. */
int	state_audit_last(struct state_txn *t, size_t n,
	    int (*fn)(const struct audit_entry *, void *), void *arg);

#endif
