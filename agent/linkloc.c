/*
 * linkloc.c: owns the rule that links one location per store into a group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkloc.h"

/* Finds a location of list by name or gid://shopify/Location/N. */
static const struct client_location *
find_location(const struct client_location *list, size_t n, const char *want)
{
	static const char prefix[] = "gid://shopify/Location/";
	uint64_t id = 0;
	size_t i;

	if (strncmp(want, prefix, sizeof(prefix) - 1) == 0)
		id = strtoull(want + sizeof(prefix) - 1, NULL, 10);
	for (i = 0; i < n; i++)
		if ((id != 0 && list[i].id == id) ||
		    (id == 0 && strcmp(list[i].name, want) == 0))
			return &list[i];
	return NULL;
}

static void
names_of(const struct client_location *list, size_t n, char *buf,
    size_t bufsz)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, ", ", bufsz - strlen(buf) - 1);
		strncat(buf, list[i].name, bufsz - strlen(buf) - 1);
	}
	if (n == 0)
		snprintf(buf, bufsz, "none");
}

static int
from_conf(const struct conf *c, struct client_location *const *loc,
    const size_t *n, struct group *g, size_t *ng, char *err, size_t errsz)
{
	char have[512];
	size_t k, i;

	for (k = 0; k < c->nloclinks; k++) {
		for (i = 0; i < c->nstores; i++) {
			const char *want = c->loclinks[k].names[i];
			const struct client_location *l =
			    find_location(loc[i], n[i], want);

			if (l == NULL) {
				names_of(loc[i], n[i], have, sizeof(have));
				snprintf(err, errsz, "%s:%d: store %s has no "
				    "active location '%s' (it has: %s)",
				    c->path, c->loclinks[k].line,
				    c->stores[i].name, want, have);
				return -1;
			}
			g[k].loc[i] = l->id;
			if (i == 0)
				snprintf(g[k].name, sizeof(g[k].name), "%s",
				    l->name);
		}
	}
	*ng = c->nloclinks;
	return 0;
}

static int
by_name(const struct conf *c, struct client_location *const *loc,
    const size_t *n, struct group *g, size_t *ng, char *err, size_t errsz)
{
	size_t i, k;
	int single = 1;

	for (i = 0; i < c->nstores; i++)
		single &= n[i] == 1;
	*ng = 0;
	for (k = 0; k < n[0] && *ng < CONF_MAX_LOCLINKS; k++) {
		struct group *gr = &g[*ng];

		for (i = 0; i < c->nstores; i++) {
			const struct client_location *l = single ? &loc[i][0] :
			    find_location(loc[i], n[i], loc[0][k].name);

			if (l == NULL)
				break;
			gr->loc[i] = l->id;
		}
		if (i < c->nstores)
			continue;
		snprintf(gr->name, sizeof(gr->name), "%s", loc[0][k].name);
		(*ng)++;
	}
	if (*ng == 0) {
		snprintf(err, errsz, "no location is linked: the stores have "
		    "several locations and no names in common; add a "
		    "[locations] section to %s", c->path);
		return -1;
	}
	return 0;
}

int
link_locations(const struct conf *c, struct client_location *const *loc,
    const size_t *n, struct group *g, size_t *ng, char *err, size_t errsz)
{
	memset(g, 0, CONF_MAX_LOCLINKS * sizeof(*g));
	if (c->nloclinks > 0)
		return from_conf(c, loc, n, g, ng, err, errsz);
	return by_name(c, loc, n, g, ng, err, errsz);
}
