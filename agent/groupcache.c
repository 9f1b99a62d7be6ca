/*
 * groupcache.c: owns the copy of the linked location groups in the state
 * (META_GROUPS): a header, then the groups as linkloc.h lays them out.
 * The copy is valid only for the config that made it: the state already
 * belongs to one list of stores (META_STORES), and the header holds a
 * hash of the [locations] lines.  Whatever does not read back as that is
 * no copy at all: a missing optimisation must not stop the sync.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "groupcache.h"
#include "meta.h"
#include "util.h"

#define GROUPCACHE_VERSION	1

struct cache_head {
	uint32_t	version;
	uint32_t	ngroups;
	uint64_t	conf_hash;
};

/* FNV-1a of s and its NUL into h. */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	while (*s++ != '\0');
	return h;
}

/* What the groups hang on in c: the stores and the [locations] lines. */
static uint64_t
conf_hash(const struct conf *c)
{
	uint64_t h = 14695981039346656037ULL;
	size_t k, i;

	for (i = 0; i < c->nstores; i++)
		h = hash_str(h, c->stores[i].name);
	for (k = 0; k < c->nloclinks; k++)
		for (i = 0; i < c->nstores; i++)
			h = hash_str(h, c->loclinks[k].names[i]);
	return hash_str(h, c->nloclinks > 0 ? "lines" : "by name");
}

int
groupcache_put(struct state_txn *t, const struct conf *c,
    const struct group *g, size_t ng)
{
	struct cache_head head = { GROUPCACHE_VERSION, (uint32_t)ng,
	    conf_hash(c) };
	size_t len = sizeof(head) + ng * sizeof(*g), had = 0;
	unsigned char *buf = xmalloc(2 * len);
	int r;

	memcpy(buf, &head, sizeof(head));
	memcpy(buf + sizeof(head), g, ng * sizeof(*g));
	/* the same groups as kept: no write, so a start costs no sync */
	if ((r = meta_get_blob(t, META_GROUPS, 0, buf + len, len, &had)) == 0 &&
	    had == len && memcmp(buf, buf + len, len) == 0)
		r = 0;
	else if (r != -1)
		r = meta_put_blob(t, META_GROUPS, 0, buf, len);
	free(buf);
	return r;
}

/* 1 when gr reads as a group of c's stores, else 0. */
static int
group_ok(const struct conf *c, const struct group *gr)
{
	size_t i;

	if (memchr(gr->name, '\0', sizeof(gr->name)) == NULL)
		return 0;
	for (i = 0; i < CONF_MAX_STORES; i++)
		if (gr->nmember[i] > GROUP_MAX ||
		    (i < c->nstores && gr->loc[i] == 0))
			return 0;
	return 1;
}

int
groupcache_get(struct state_txn *t, const struct conf *c, struct group *g,
    size_t *ng)
{
	size_t cap = sizeof(struct cache_head) + CONF_MAX_LOCLINKS *
	    sizeof(*g), len = 0, k;
	unsigned char *buf = xmalloc(cap);
	struct cache_head head;
	int r;

	*ng = 0;
	if ((r = meta_get_blob(t, META_GROUPS, 0, buf, cap, &len)) != 0 ||
	    len < sizeof(head) || len > cap) {
		free(buf);
		return r == -1 ? -1 : 1;
	}
	memcpy(&head, buf, sizeof(head));
	if (head.version != GROUPCACHE_VERSION || head.ngroups == 0 ||
	    head.ngroups > CONF_MAX_LOCLINKS ||
	    len != sizeof(head) + head.ngroups * sizeof(*g) ||
	    head.conf_hash != conf_hash(c)) {
		free(buf);
		return 1;
	}
	memset(g, 0, CONF_MAX_LOCLINKS * sizeof(*g));
	memcpy(g, buf + sizeof(head), head.ngroups * sizeof(*g));
	free(buf);
	for (k = 0; k < head.ngroups; k++)
		if (!group_ok(c, &g[k]))
			return 1;
	*ng = head.ngroups;
	return 0;
}
