/*
 * linkloc.c: owns the rule that links one location per store into a group.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkloc.h"

/* s without its leading and trailing blanks (in place). */
static char *
trim_space(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Finds a location of list by name or gid://shopify/Location/N. */
static const struct client_location *
find_location(const struct client_location *list, size_t n, const char *want)
{
	static const char prefix[] = "gid://shopify/Location/";
	uint64_t id = 0;
	size_t i;

	char *end;

	if (strncmp(want, prefix, sizeof(prefix) - 1) == 0) {
		id = strtoull(want + sizeof(prefix) - 1, &end, 10);
		if (*end != '\0')
			id = UINT64_MAX;	/* "gid://...1 + ...": no one id */
	}
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

/*
 * Resolves entry want of store i (a location, or several joined by '+')
 * into gr's members.  The whole entry is tried as one name first, so that
 * a location whose name holds '+' is still found.  0, or -1 with err set.
 */
static int
resolve_entry(const struct conf *c, size_t i, const char *want, int line,
    const struct client_location *list, size_t n, struct group *gr,
    char *err, size_t errsz)
{
	char buf[CONF_STR_MAX], have[512], *part, *next;
	const struct client_location *l;
	size_t m = 0;

	if ((l = find_location(list, n, want)) != NULL) {
		gr->member[i][gr->nmember[i]++] = l->id;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", want);
	for (part = buf; part != NULL; part = next, m++) {
		if ((next = strchr(part, '+')) != NULL)
			*next++ = '\0';
		part = trim_space(part);
		if ((l = find_location(list, n, part)) == NULL) {
			names_of(list, n, have, sizeof(have));
			snprintf(err, errsz, "%s:%d: store %s has no active "
			    "location '%s' (it has: %s)", c->path, line,
			    c->stores[i].name, part, have);
			return -1;
		}
		if (m == GROUP_MAX) {
			snprintf(err, errsz, "%s:%d: store %s: more than %d "
			    "locations in one group", c->path, line,
			    c->stores[i].name, GROUP_MAX);
			return -1;
		}
		gr->member[i][gr->nmember[i]++] = l->id;
	}
	return 0;
}

/* Refuses a location of store i in two groups (or twice in one). */
static int
check_once(const struct conf *c, const struct group *g, size_t ng, size_t i,
    char *err, size_t errsz)
{
	size_t k, n = linkloc_count(g, ng, i), j;

	for (k = 0; k < n; k++)
		for (j = k + 1; j < n; j++)
			if (linkloc_nth(g, ng, i, k) == linkloc_nth(g, ng, i,
			    j)) {
				snprintf(err, errsz, "%s: store %s: location "
				    "%" PRIu64 " is linked twice in "
				    "[locations]", c->path, c->stores[i].name,
				    linkloc_nth(g, ng, i, k));
				return -1;
			}
	return 0;
}

static int
from_conf(const struct conf *c, struct client_location *const *loc,
    const size_t *n, struct group *g, size_t *ng, char *err, size_t errsz)
{
	const struct client_location *l;
	size_t k, i;

	for (k = 0; k < c->nloclinks; k++) {
		for (i = 0; i < c->nstores; i++) {
			if (resolve_entry(c, i, c->loclinks[k].names[i],
			    c->loclinks[k].line, loc[i], n[i], &g[k], err,
			    errsz) == -1)
				return -1;
			g[k].loc[i] = g[k].member[i][0];
		}
		for (l = loc[0]; l < loc[0] + n[0]; l++)
			if (l->id == g[k].loc[0])
				snprintf(g[k].name, sizeof(g[k].name), "%s",
				    l->name);
	}
	*ng = c->nloclinks;
	for (i = 0; i < c->nstores; i++)
		if (check_once(c, g, *ng, i, err, errsz) == -1)
			return -1;
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
			gr->loc[i] = gr->member[i][0] = l->id;
			gr->nmember[i] = 1;
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

size_t
linkloc_members(const struct group *gr, size_t i)
{
	return gr->nmember[i] > 0 ? gr->nmember[i] : 1;
}

size_t
linkloc_count(const struct group *g, size_t ng, size_t i)
{
	size_t k, n = 0;

	for (k = 0; k < ng; k++)
		n += linkloc_members(&g[k], i);
	return n;
}

uint64_t
linkloc_nth(const struct group *g, size_t ng, size_t i, size_t k)
{
	size_t j;

	for (j = 0; j < ng; j++) {
		if (k < linkloc_members(&g[j], i))
			return g[j].nmember[i] > 0 ? g[j].member[i][k] :
			    g[j].loc[i];
		k -= linkloc_members(&g[j], i);
	}
	return 0;
}

int
linkloc_has(const struct group *g, size_t ng, size_t i, uint64_t loc)
{
	size_t k, n = linkloc_count(g, ng, i);

	for (k = 0; k < n; k++)
		if (linkloc_nth(g, ng, i, k) == loc)
			return 1;
	return 0;
}

void
linkloc_member_name(const struct conf *c, const struct group *g, size_t ng,
    size_t i, uint64_t loc, char *buf, size_t bufsz)
{
	char entry[CONF_STR_MAX], *part, *next;
	size_t k, m;

	buf[0] = '\0';
	for (k = 0; k < ng && k < c->nloclinks; k++)
		for (m = 0; m < g[k].nmember[i] && g[k].nmember[i] >= 2; m++) {
			if (g[k].member[i][m] != loc)
				continue;
			snprintf(entry, sizeof(entry), "%s",
			    c->loclinks[k].names[i]);
			for (part = entry; part != NULL; part = next) {
				if ((next = strchr(part, '+')) != NULL)
					*next++ = '\0';
				if (m-- == 0) {
					snprintf(buf, bufsz, "%s",
					    trim_space(part));
					return;
				}
			}
			return;
		}
}
