/*
 * linkloc.h: linking locations across stores (docs/design.md §2): by the
 * [locations] lines of the config, else the only location of each store,
 * else equal names.
 */
#ifndef LINKLOC_H
#define LINKLOC_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "conf.h"

/* A linked location group: one location per store. */
struct group {
	uint64_t	loc[CONF_MAX_STORES];
	char		name[CLIENT_NAME_MAX];	/* the primary's location name */
};

/*
 * Links the active locations loc[i] (n[i] each) of every store of c into
 * groups g (room for CONF_MAX_LOCLINKS), count in *ng.  Returns 0, or -1
 * with a message a merchant can act on in err.
 */
int	link_locations(const struct conf *c, struct client_location *const *loc,
	    const size_t *n, struct group *g, size_t *ng, char *err,
	    size_t errsz);

#endif
