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

/*
 * A linked location group: per store one location, or several pooled
 * (a group side, docs/design.md §3a): member[i][0 .. nmember[i]) in the
 * listed order, loc[i] = member[i][0].  nmember[i] 0 reads as 1 (loc[i]).
 */
struct group {
	uint64_t	loc[CONF_MAX_STORES];
	uint64_t	member[CONF_MAX_STORES][GROUP_MAX];
	size_t		nmember[CONF_MAX_STORES];
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

/*
 * The linked locations of store i in groups g[0 .. ng), in group then
 * member order: linkloc_count how many, linkloc_nth the k-th (0 past the
 * end), linkloc_has 1 when loc is one of them, else 0.
 */
size_t		linkloc_count(const struct group *g, size_t ng, size_t i);
uint64_t	linkloc_nth(const struct group *g, size_t ng, size_t i,
		    size_t k);
int		linkloc_has(const struct group *g, size_t ng, size_t i,
		    uint64_t loc);
/*
 * The name the config gives location loc of store i (its part of a
 * [locations] entry), into buf: "" when loc is in no group of two or more.
 */
void		linkloc_member_name(const struct conf *c, const struct group *g,
		    size_t ng, size_t i, uint64_t loc, char *buf, size_t bufsz);
/* The members of store i in group gr: nmember[i], or 1. */
size_t		linkloc_members(const struct group *gr, size_t i);

#endif
