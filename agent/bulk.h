/*
 * bulk.h: the bulk operations of big stores (bulk.c, issue 7).  Called by
 * engine.c (and bulk_op_get by report.c).
 */
#ifndef BULK_H
#define BULK_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"
#include "shopify.h"
#include "state.h"

#define BULK_KINDS	2	/* enum shopify_bulk_kind: catalog, levels */

/*
 * Steps, for a store of bulk_threshold variants or more.  bulk_catalog: a
 * full catalog load is due, or one is in flight; starts, follows or
 * applies its operation.  Returns STEP_DONE, STEP_IN_PAGES when the store
 * is read in pages instead (small, or refusing bulk), STEP_STATE_FAILED;
 * a store failure is STEP_DONE (it is backed off).  bulk_levels: the same
 * for the first sighting of the links' levels, when bulk_levels_wanted();
 * STEP_DONE or STEP_STATE_FAILED.
 */
enum step bulk_catalog(struct run *e, size_t i);
enum step bulk_levels(struct run *e, size_t i);
/*
 * The periodic level reconciliation of a big store (bulk_levels_wanted()):
 * every `reconcile`, a levels operation whose file is a snapshot, dated by
 * a new epoch (META_EPOCH) kept before it starts; applied, a level the
 * polls or a write touched since then keeps its value, and any other
 * disagreement is a change no poll saw (run_observe_snapshot()).
 * STEP_DONE (a store failure included), STEP_IN_PAGES (a paced pass is
 * under way: it ends in pages), STEP_STATE_FAILED.
 */
enum step bulk_reconcile(struct run *e, size_t i);

/*
 * Predicates: 1 yes, 0 no, -1 LMDB failed.  bulk_catalog_running: a
 * catalog operation is in flight (followed every cycle, due or not).
 * bulk_levels_wanted: store i's first sighting comes from a bulk file.
 * bulk_busy: an operation of a healthy store is in flight (`once` waits).
 * bulk_loading: one of them is a first load (a store's first catalog, or
 * its links' first sighting), which the engine follows every
 * BULK_FOLLOW_MS rather than every interval.
 */
int	bulk_catalog_running(struct run *e, size_t i);
int	bulk_levels_wanted(struct run *e, size_t i);
int	bulk_busy(struct run *e);
int	bulk_loading(struct run *e);

/* A read in pages did what the operation was for: it is dropped.  0 or -1. */
int	bulk_forget(struct run *e, enum shopify_bulk_kind kind, size_t i);

/*
 * Which path store i's full reads take and why, as the agent last decided
 * ("bulk: 3000 variants >= bulk_threshold 1000", "pages: no bulk access
 * ..."), into why ("" when it never decided).  For status and check.
 * 0 or -1 (LMDB failed).
 */
int	bulk_path_why(struct state_txn *t, size_t i, char *why, size_t whysz);

/* For status: "catalog" or "levels". */
const char *bulk_kind_name(enum shopify_bulk_kind kind);
/*
 * Reads what LMDB holds of store i's operation of kind: its id into id
 * ("" when none is in flight) and when it started into *at.  0 or -1.
 */
int	bulk_op_get(struct state_txn *t, enum shopify_bulk_kind kind, size_t i,
	    char *id, size_t idsz, int64_t *at);

#endif
