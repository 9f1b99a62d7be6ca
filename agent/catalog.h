/*
 * catalog.h: linking (catalog.c, docs/design.md §3): a store's product
 * variants become sides of links.  Called by engine.c and bulk.c.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/*
 * Why a store's side left its link: the note of the AUDIT_UNLINKED entry
 * unlink_side() records (`invsync explain` reads them back).  A re-linked
 * side's note is CATALOG_WHY_RELINKED followed by its new key.
 */
#define CATALOG_WHY_RELINKED	"re-linked as "
#define CATALOG_WHY_GONE	"gone from the store"
#define CATALOG_WHY_LOCATION	"its location is no longer linked"

/*
 * Loads (full) or refreshes store i's catalog into links, in pages.
 * Returns STEP_DONE, STEP_STORE_FAILED (backed off) or STEP_STATE_FAILED.
 */
enum step catalog_refresh(struct run *e, size_t i, int full);

/* The next catalog load generation into *gen (META_GEN).  0 or -1. */
int	catalog_new_gen(struct run *e, uint32_t *gen);

/*
 * A full load fed from a bulk file: begin (gen from catalog_new_gen()),
 * a variant at a time (0, or -1 when the state failed), then end, which
 * reads what changed since the last refresh on top and unlinks what the
 * load did not see, recording start as the load's time.  End frees x and
 * returns STEP_DONE, STEP_STORE_FAILED or STEP_STATE_FAILED.
 * catalog_full_abort drops a load that could not be read whole: nothing
 * is unlinked.
 */
struct catalog_ctx;
struct catalog_ctx *catalog_full_begin(struct run *e, size_t i,
	    uint32_t gen);
int	catalog_full_variant(struct catalog_ctx *x,
	    const struct client_variant *v);
enum step catalog_full_end(struct catalog_ctx *x, int64_t start);
void	catalog_full_abort(struct catalog_ctx *x);

#endif
