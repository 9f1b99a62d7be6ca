/*
 * groupcache.h: the linked location groups kept in the state
 * (META_GROUPS), so that a start that cannot read some store's locations
 * links the stores as the last start did (docs/design.md §2).
 */
#ifndef GROUPCACHE_H
#define GROUPCACHE_H

#include <stddef.h>

#include "conf.h"
#include "linkloc.h"
#include "state.h"

/*
 * Keeps groups g[0 .. ng) as those config c links to; writes nothing when
 * they are kept already.  0 or -1 (LMDB).
 */
int	groupcache_put(struct state_txn *t, const struct conf *c,
	    const struct group *g, size_t ng);
/*
 * The groups kept for config c into g (room for CONF_MAX_LOCLINKS), their
 * count in *ng.  0 found; 1 none usable (none kept, kept for another
 * [locations], or not readable as groups); -1 LMDB failed.
 */
int	groupcache_get(struct state_txn *t, const struct conf *c,
	    struct group *g, size_t *ng);

#endif
