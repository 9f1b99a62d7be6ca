/*
 * writes.h: the write protocol (writes.c; docs/write-protocol.md):
 * journal, send once, settle, resolve a lost answer.  Called by engine.c.
 */
#ifndef WRITES_H
#define WRITES_H

#include <stddef.h>

#include "run.h"

/*
 * Resolves store i's pending batch first (docs/design.md §4).  Returns
 * STEP_DONE when no batch is left (the store may be polled and written),
 * STEP_PENDING when one still is, STEP_STATE_FAILED.
 */
enum step writes_resolve(struct run *e, size_t i);

/*
 * The rest return 0, or -1 when the state failed.  writes_plan: journals
 * every healthy store's owed changes as pending batches in one
 * transaction.  writes_send: sends store i's freshly planned batch and
 * settles it, and sets e->s[i].again when that left owed changes another
 * plan may send at once (a full batch applied; a batch dropped unsent or
 * stale, its levels read afresh).  writes_report_plan: a dry run logs the
 * batches writes_plan() journaled.  writes_drop_unsent: on start, drops
 * batches that never left the machine.
 */
int	writes_plan(struct run *e);
int	writes_send(struct run *e, size_t i);
int	writes_report_plan(struct run *e);
int	writes_drop_unsent(struct run *e);

#endif
