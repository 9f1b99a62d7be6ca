/*
 * bulk.h: the bulk operations of big stores (bulk.c, issue 7).
 */
#ifndef BULK_H
#define BULK_H

#include <stddef.h>
#include <stdint.h>

#include "shopify.h"
#include "state.h"

struct engine;

#define BULK_KINDS	2	/* enum shopify_bulk_kind: catalog, levels */

/*
 * bulk.c (issue 7): bulk operations of a store of bulk_threshold variants
 * or more.  bulk_catalog: a full catalog load is due; starts, follows or
 * applies its operation.  Returns 0, 1 when the store is read in pages
 * instead (small, or refusing bulk), -1 when the state failed.
 * bulk_levels: the same for the first sighting of the links' levels
 * (0 or -1), when bulk_levels_wanted().  bulk_catalog_running: a catalog
 * operation is in flight (it is followed every cycle, due or not).
 * bulk_forget: a read in pages did what the operation was for; it is
 * dropped (0 or -1).  bulk_busy: an operation of a healthy store is in
 * flight (`once` waits for it).
 */
int	bulk_catalog(struct engine *e, size_t i);
int	bulk_catalog_running(struct engine *e, size_t i);
int	bulk_forget(struct engine *e, enum shopify_bulk_kind kind, size_t i);
int	bulk_levels_wanted(struct engine *e, size_t i);
int	bulk_levels(struct engine *e, size_t i);
int	bulk_busy(struct engine *e);

/* For status: "catalog" or "levels". */
const char *bulk_kind_name(enum shopify_bulk_kind kind);
/*
 * Reads what LMDB holds of store i's operation of kind: its id into id
 * ("" when none is in flight) and when it started into *at.  0 or -1.
 */
int	bulk_op_get(struct state_txn *t, enum shopify_bulk_kind kind, size_t i,
	    char *id, size_t idsz, int64_t *at);

#endif
