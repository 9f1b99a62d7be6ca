/*
 * meta.h: the named values of LMDB's meta table (state.h), in one place.
 *
 * Every meta value the agent keeps is one row of meta_table[] in meta.c:
 * its name, its unit, what it means and who writes it.  A value of one
 * store is named "NAME.STORE" ("sweep.1": store 1's last sweep), a value
 * of the whole state "NAME".  Nothing else spells a meta name: every read
 * and write goes through the accessors below, with an enum meta_id.
 */
#ifndef META_H
#define META_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* One row of meta_table[] each; see meta.c for units and meanings. */
enum meta_id {
	/* of the whole state */
	META_STORES,		/* str: the store names, in config order */
	META_PAUSED,		/* str: why writing is paused; absent: not */
	META_CYCLE,		/* str: the last cycle's summary */
	META_UNCERTAIN,		/* count: batches settled as uncertain */
	META_GEN,		/* counter: the last catalog load generation */
	/* of one store (the accessors' store argument) */
	META_POLL,		/* wall ms: start of the last good level poll */
	META_SWEEP,		/* wall ms: start of the last sweep poll */
	META_RECONCILE,		/* wall ms: start of the last full level pass */
	META_RPASS,		/* str: a paced reconciliation's place */
	META_RSTART,		/* wall ms: start of that paced pass */
	META_CATALOG,		/* wall ms: start of the last catalog refresh */
	META_CATALOGFULL,	/* wall ms: start of the last full catalog load */
	META_VARIANTS,		/* count: the store's variants (bulk or not) */
	META_OK,		/* wall ms: the store's last success */
	META_ERRTIME,		/* wall ms: the store's last failure */
	META_ERRCOUNT,		/* count: the store's failures */
	META_ERR,		/* str: the store's last failure */
	META_CLOCK,		/* ms: Shopify's clock minus ours */
	META_VCOUNT,		/* count: variants at the last catalog check */
	META_BULKPATH,		/* str: bulk or pages for full reads, and why */
	/* bulk operations in flight, one row per enum shopify_bulk_kind */
	META_BULK_CATALOG,	/* str: the catalog operation's id */
	META_BULK_LEVELS,	/* str: the levels operation's id */
	META_BULKAT_CATALOG,	/* wall ms: when it started */
	META_BULKAT_LEVELS,
	META_BULKGEN_CATALOG,	/* generation: the load it feeds */
	META_BULKGEN_LEVELS,
	META_EPOCH,		/* counter: the store's levels snapshot epoch */
	META_BUFFER,		/* count: the buffer the store's sides hold */
	META_PASSES,		/* counter: the store's full passes done */
	META_GROUPS,		/* bytes: the location groups last resolved */
	META_COUNT
};

enum meta_type {
	META_I64,
	META_STR,
	META_BLOB
};

struct meta_def {
	const char	*name;
	int		 per_store;	/* named "NAME.STORE" */
	enum meta_type	 type;
	const char	*unit;
	const char	*meaning;
	const char	*writers;	/* the functions that write it */
};

extern const struct meta_def meta_table[META_COUNT];

/*
 * The accessors.  store is the store index of a per-store value and is
 * ignored otherwise.  Like state.h's meta functions, they return 0 (found,
 * or done), 1 (get: absent; *v is then 0 and buf ""), -1 (LMDB failed, or
 * a value of the other type was asked for).
 */
int	meta_get_i64(struct state_txn *t, enum meta_id id, size_t store,
	    int64_t *v);
int	meta_put_i64(struct state_txn *t, enum meta_id id, size_t store,
	    int64_t v);
int	meta_get_str(struct state_txn *t, enum meta_id id, size_t store,
	    char *buf, size_t bufsz);
int	meta_put_str(struct state_txn *t, enum meta_id id, size_t store,
	    const char *v);
int	meta_get_blob(struct state_txn *t, enum meta_id id, size_t store,
	    void *buf, size_t bufsz, size_t *len);
int	meta_put_blob(struct state_txn *t, enum meta_id id, size_t store,
	    const void *v, size_t len);
int	meta_del(struct state_txn *t, enum meta_id id, size_t store);

/* The LMDB name of value id of store into buf ("sweep.1").  0 or -1. */
int	meta_name(enum meta_id id, size_t store, char *buf, size_t bufsz);

#endif
