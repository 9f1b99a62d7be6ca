/*
 * state.c: owns the LMDB environment; the only file that includes lmdb.h.
 *
 * Records are stored in this machine's native layout (an LMDB file is not
 * portable between 32- and 64-bit builds anyway, docs/build.md §8); the meta
 * value "schema" names the layout version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "log.h"
#include "state.h"
#include "util.h"

#define STATE_FILE		"invsync.mdb"
#define STATE_SCHEMA		1
#define MAP_SIZE_INITIAL	((size_t)32 << 20)
#if SIZE_MAX > 0xffffffffu
#define MAP_SIZE_MAX		((size_t)16 << 30)
#else
#define MAP_SIZE_MAX		((size_t)1 << 30)
#endif
#define UPDATE_TRIES		8

/* touched took the padding: records of older builds keep their size */
_Static_assert(sizeof(struct link_side) == 48, "link_side layout");
_Static_assert(sizeof(struct link_member) == 32, "link_member layout");

struct state {
	MDB_env	*env;
	MDB_dbi	 links, levels, owed, pending, meta, audit;
	size_t	 mapsize;
	int	 readonly;
	MDB_txn	*dry;		/* the parent of a dry run, or NULL */
};

struct state_txn {
	struct state	*st;
	MDB_txn		*txn;
};

/*
 * The on-disk form of a link: the key is the LMDB key.  A link with a group
 * or a buffer has a trailer after its sides: a pool_rec per side, then the
 * members of each group side in side order.  Without either the record is
 * as it was before pools, so older states read unchanged.
 */
struct link_rec {
	uint32_t		nsides;
	struct link_side	side[CONF_MAX_STORES];
};

struct pool_rec {
	int64_t		held;
	uint32_t	nmembers;
	uint32_t	pad;
};

#define LINK_REC_MAX	(sizeof(struct link_rec) + CONF_MAX_STORES * \
			    (sizeof(struct pool_rec) + \
			    GROUP_MAX * sizeof(struct link_member)))

/* The on-disk head of a pending batch, followed by n changes. */
struct pending_head {
	char		key[33];
	uint32_t	store;
	int64_t		created_ms;
	int32_t		sent;
	int32_t		attempts;
	uint32_t	n;
};

static int
lmdb_failed(const char *what, int rc)
{
	log_err("state: %s: %s", what, mdb_strerror(rc));
	return -1;
}

static int
open_tables(struct state *st)
{
	struct { const char *name; MDB_dbi *dbi; } t[] = {
		{ "links", &st->links }, { "levels", &st->levels },
		{ "owed", &st->owed },
		{ "pending", &st->pending }, { "meta", &st->meta },
		{ "audit", &st->audit }
	};
	unsigned flags = st->readonly ? 0 : MDB_CREATE;
	MDB_txn *txn;
	size_t i;
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		return lmdb_failed("begin", rc);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if ((rc = mdb_dbi_open(txn, t[i].name, flags, t[i].dbi)) != 0) {
			mdb_txn_abort(txn);
			if (rc == MDB_NOTFOUND)
				log_err("state: not initialised yet (is "
				    "invsync starting? try again in a moment)");
			else
				lmdb_failed(t[i].name, rc);
			return -1;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return lmdb_failed("commit", rc);
	return 0;
}

const char *
state_version(void)
{
	return mdb_version(NULL, NULL, NULL);
}

struct state *
state_open(const char *dir, int readonly)
{
	struct state *st = xcalloc(1, sizeof(*st));
	char path[CONF_PATH_MAX + 32];
	struct stat sb;
	int rc, dead = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	if (readonly && stat(path, &sb) == -1) {
		log_err("state: %s: %s (has invsync run yet?)", path,
		    strerror(errno));
		free(st);
		return NULL;
	}
	st->readonly = readonly;
	st->mapsize = MAP_SIZE_INITIAL;
	if ((rc = mdb_env_create(&st->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, st->mapsize)) != 0)
		goto fail;
	if ((rc = mdb_env_open(st->env, path, MDB_NOSUBDIR |
	    (readonly ? MDB_RDONLY : 0), 0600)) != 0)
		goto fail;
	/* another process may have grown the map: adopt its size */
	if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
		goto fail;
	if ((rc = mdb_reader_check(st->env, &dead)) != 0)
		goto fail;
	if (dead > 0)
		log_info("state: cleared %d stale reader slot(s)", dead);
	if (open_tables(st) == -1) {
		mdb_env_close(st->env);
		free(st);
		return NULL;
	}
	return st;
fail:
	log_err("state: %s: %s", path, mdb_strerror(rc));
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return NULL;
}

int
state_lock_syncer(const char *dir)
{
	static char held[CONF_PATH_MAX + 32];	/* a reload locks again */
	char path[CONF_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/invsync.lock", dir);
	if (strcmp(held, path) == 0)
		return 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_err("state: %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_err("another invsync is already syncing with the "
			    "state in %s", dir);
		else
			log_err("state: lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(held, sizeof(held), "%s", path);
	return 0;	/* fd stays open: the lock lasts until exit */
}

int
state_exists(const char *dir)
{
	char path[CONF_PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	return stat(path, &sb) == 0;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	free(st);
}

void
state_trim(struct state *st)
{
	MDB_val k, v;
	MDB_cursor *cur;
	MDB_txn *txn;
	unsigned long lo, hi, at;
	char line[512];
	FILE *f;
	int rc;

	/*
	 * The map is read-only (no MDB_WRITEMAP: LMDB writes with pwrite), so
	 * MADV_DONTNEED only unmaps pages; their content stays in the file.
	 * mdb_env_info() names the map's address only with MDB_FIXEDMAP: a
	 * value read from it (the first meta value, whichever it is), found
	 * in /proc/self/maps, names the mapping.
	 */
	if (st == NULL || st->dry != NULL ||
	    mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
		return;
	if ((rc = mdb_cursor_open(txn, st->meta, &cur)) == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	if (rc != 0 || (f = fopen("/proc/self/maps", "r")) == NULL)
		return;
	at = (unsigned long)(uintptr_t)v.mv_data;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= at &&
		    at < hi) {
			/* the mapping's start, by pointer arithmetic */
			(void)madvise((char *)v.mv_data - (at - lo), hi - lo,
			    MADV_DONTNEED);
			break;
		}
	fclose(f);
}

/* Doubles the map, up to MAP_SIZE_MAX.  Returns 0 or -1. */
static int
grow_map(struct state *st)
{
	MDB_envinfo info;
	int rc;

	mdb_env_info(st->env, &info);
	if (info.me_mapsize > st->mapsize)
		st->mapsize = info.me_mapsize;
	if (st->mapsize >= MAP_SIZE_MAX) {
		log_err("state: map is full at its maximum size (%zu MiB)",
		    st->mapsize >> 20);
		return -1;
	}
	st->mapsize *= 2;
	if ((rc = mdb_env_set_mapsize(st->env, st->mapsize)) != 0)
		return lmdb_failed("grow map", rc);
	log_info("state: map grown to %zu MiB", st->mapsize >> 20);
	return 0;
}

static int
begin(struct state *st, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(st->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			return lmdb_failed("adopt map size", rc);
		rc = mdb_txn_begin(st->env, NULL, flags, txn);
	}
	if (rc != 0)
		return lmdb_failed("begin", rc);
	return 0;
}

/* A failure inside fn that was a full map: see put() and del(). */
static int map_full;

int
state_dry_begin(struct state *st)
{
	if (st->dry != NULL)
		fatal("state_dry_begin twice");
	return begin(st, 0, &st->dry);
}

void
state_dry_end(struct state *st)
{
	if (st->dry != NULL)
		mdb_txn_abort(st->dry);
	st->dry = NULL;
}

/* state_update() and state_view() inside a dry run: a child transaction. */
static int
dry_child(struct state *st, int (*fn)(struct state_txn *, void *), void *arg,
    int keep)
{
	struct state_txn t = { st, NULL };
	int r, rc;

	if ((rc = mdb_txn_begin(st->env, st->dry, 0, &t.txn)) != 0)
		return lmdb_failed("begin (dry run)", rc);
	r = fn(&t, arg);
	if (r != 0 || !keep) {
		mdb_txn_abort(t.txn);
		return r;
	}
	if ((rc = mdb_txn_commit(t.txn)) != 0)
		return lmdb_failed("commit (dry run)", rc);
	return 0;
}

int
state_update(struct state *st, int (*fn)(struct state_txn *, void *),
    void *arg)
{
	struct state_txn t = { st, NULL };
	int i, r, rc;

	if (st->readonly)
		fatal("state_update on a read-only state");
	if (st->dry != NULL)
		return dry_child(st, fn, arg, 1);
	for (i = 0; i < UPDATE_TRIES; i++) {
		if (begin(st, 0, &t.txn) == -1)
			return -1;
		map_full = 0;
		r = fn(&t, arg);
		if (r != 0) {
			mdb_txn_abort(t.txn);
			if (map_full && grow_map(st) == 0)
				continue;
			return r;
		}
		rc = mdb_txn_commit(t.txn);
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_FULL && grow_map(st) == 0)
			continue;
		return lmdb_failed("commit", rc);
	}
	log_err("state: update failed after %d tries", UPDATE_TRIES);
	return -1;
}

int
state_view(struct state *st, int (*fn)(struct state_txn *, void *), void *arg)
{
	struct state_txn t = { st, NULL };
	int r;

	if (st->dry != NULL)
		return dry_child(st, fn, arg, 0);
	if (begin(st, MDB_RDONLY, &t.txn) == -1)
		return -1;
	r = fn(&t, arg);
	mdb_txn_abort(t.txn);
	return r;
}

static int
put(struct state_txn *t, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };
	int rc = mdb_put(t->txn, dbi, &key, &val, 0);

	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) {
		map_full = 1;
		return -1;
	}
	if (rc != 0)
		return lmdb_failed("put", rc);
	return 0;
}

/* Returns 0 found (val set), 1 not found, -1 error. */
static int
get(struct state_txn *t, MDB_dbi dbi, const void *k, size_t klen,
    MDB_val *val)
{
	MDB_val key = { klen, (void *)k };
	int rc = mdb_get(t->txn, dbi, &key, val);

	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return lmdb_failed("get", rc);
	return 0;
}

/* Returns 0 (also when absent) or -1. */
static int
del(struct state_txn *t, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = { klen, (void *)k };
	int rc = mdb_del(t->txn, dbi, &key, NULL);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) {
		map_full = 1;
		return -1;
	}
	if (rc != 0)
		return lmdb_failed("del", rc);
	return 0;
}

static void
be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void
be64(unsigned char *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

static uint64_t
from_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The levels-index key: store, item, location, big-endian. */
static void
level_key(unsigned char k[20], uint32_t store, uint64_t item, uint64_t loc)
{
	be32(k, store);
	be64(k + 4, item);
	be64(k + 12, loc);
}

/* The owed-index key: store, then the link key. */
static size_t
owed_key(unsigned char *k, uint32_t store, const char *key)
{
	size_t n = strlen(key);

	be32(k, store);
	memcpy(k + 4, key, n);
	return n + 4;
}

/* The members a side keeps in the record: 0 for a single location. */
static size_t
kept_members(const struct link_pool *p)
{
	return p->nmembers >= 2 ? p->nmembers : 0;
}

/* 1 when link l needs the trailer (a group or held units), else 0. */
static int
has_trailer(const struct link *l)
{
	size_t i;

	for (i = 0; i < l->nsides; i++)
		if (l->pool[i].held != 0 || kept_members(&l->pool[i]) > 0)
			return 1;
	return 0;
}

/* Decodes the trailer at p (n bytes) into l's pools: 0, or -1 (corrupt). */
static int
trailer_decode(const unsigned char *p, size_t n, struct link *l)
{
	struct pool_rec pr;
	size_t i, m, off = l->nsides * sizeof(pr);

	if (n < off)
		return -1;
	for (i = 0; i < l->nsides; i++) {
		memcpy(&pr, p + i * sizeof(pr), sizeof(pr));
		if (pr.nmembers > GROUP_MAX || pr.nmembers == 1)
			return -1;
		l->pool[i].held = pr.held;
		l->pool[i].nmembers = pr.nmembers;
		m = kept_members(&l->pool[i]) * sizeof(struct link_member);
		if (n - off < m)
			return -1;
		memcpy(l->pool[i].member, p + off, m);
		off += m;
	}
	return off == n ? 0 : -1;
}

static int
link_decode(const MDB_val *k, const MDB_val *v, struct link *out)
{
	uint32_t nsides;
	size_t head = offsetof(struct link_rec, side), sides;

	if (k->mv_size == 0 || k->mv_size >= LINK_KEY_MAX ||
	    v->mv_size < head || v->mv_size > LINK_REC_MAX)
		goto corrupt;
	memcpy(&nsides, v->mv_data, sizeof(nsides));
	sides = nsides * sizeof(struct link_side);
	if (nsides > CONF_MAX_STORES || v->mv_size < head + sides)
		goto corrupt;
	memset(out, 0, sizeof(*out));
	memcpy(out->key, k->mv_data, k->mv_size);
	out->nsides = nsides;
	memcpy(out->side, (const unsigned char *)v->mv_data + head, sides);
	if (v->mv_size > head + sides && trailer_decode(
	    (const unsigned char *)v->mv_data + head + sides,
	    v->mv_size - head - sides, out) == -1)
		goto corrupt;
	return 0;
corrupt:
	log_err("state: corrupt link record");
	return -1;
}

/* Encodes l into buf (LINK_REC_MAX bytes); returns the record's size. */
static size_t
link_encode(const struct link *l, unsigned char *buf)
{
	struct pool_rec pr;
	size_t i, m, off = offsetof(struct link_rec, side);
	uint32_t nsides = (uint32_t)l->nsides;

	memcpy(buf, &nsides, sizeof(nsides));
	memcpy(buf + off, l->side, l->nsides * sizeof(struct link_side));
	off += l->nsides * sizeof(struct link_side);
	if (!has_trailer(l))
		return off;
	for (i = 0; i < l->nsides; i++) {
		memset(&pr, 0, sizeof(pr));
		pr.held = l->pool[i].held;
		pr.nmembers = (uint32_t)kept_members(&l->pool[i]);
		memcpy(buf + off, &pr, sizeof(pr));
		off += sizeof(pr);
	}
	for (i = 0; i < l->nsides; i++) {
		m = kept_members(&l->pool[i]) * sizeof(struct link_member);
		memcpy(buf + off, l->pool[i].member, m);
		off += m;
	}
	return off;
}

/*
 * Calls fn for every level of link l's sides (store, item, location):
 * each member of a group side, else the side's location.  0, or fn's -1.
 */
static int
each_level(struct state_txn *t, const struct link *l,
    int (*fn)(struct state_txn *, const unsigned char *, const char *),
    const char *key)
{
	unsigned char ik[20];
	size_t i, m, n;

	for (i = 0; i < l->nsides; i++) {
		if (l->side[i].item == 0)
			continue;
		n = kept_members(&l->pool[i]);
		for (m = 0; m < (n ? n : 1); m++) {
			level_key(ik, (uint32_t)i, l->side[i].item, n ?
			    l->pool[i].member[m].location :
			    l->side[i].location);
			if (fn(t, ik, key) == -1)
				return -1;
		}
	}
	return 0;
}

/*
 * Removes level ik's index entry if it names link key: a level another
 * link has taken since (a [locations] line edited, its location now in
 * another group) keeps that link's entry.
 */
static int
index_del(struct state_txn *t, const unsigned char *ik, const char *key)
{
	MDB_val v;
	int r;

	if ((r = get(t, t->st->levels, ik, 20, &v)) != 0)
		return r == 1 ? 0 : -1;
	if (v.mv_size != strlen(key) || memcmp(v.mv_data, key, v.mv_size) != 0)
		return 0;
	return del(t, t->st->levels, ik, 20);
}

static int
index_put(struct state_txn *t, const unsigned char *ik, const char *key)
{
	return put(t, t->st->levels, ik, 20, key, strlen(key));
}

int
state_link_get(struct state_txn *t, const char *key, struct link *out)
{
	MDB_val v, k = { strlen(key), (void *)key };
	int r = get(t, t->st->links, key, strlen(key), &v);

	if (r != 0)
		return r;
	return link_decode(&k, &v, out) == 0 ? 0 : -1;
}

/* Removes the levels-index entries of the link stored under key. */
static int
unindex(struct state_txn *t, const char *key)
{
	struct link old;
	size_t i;
	int r;

	if ((r = state_link_get(t, key, &old)) != 0)
		return r == 1 ? 0 : -1;
	if (each_level(t, &old, index_del, key) == -1)
		return -1;
	for (i = 0; i < old.nsides; i++) {
		unsigned char ok[4 + LINK_KEY_MAX];

		if (old.side[i].owed != 0 && del(t, t->st->owed, ok,
		    owed_key(ok, (uint32_t)i, key)) == -1)
			return -1;
	}
	return 0;
}

int
state_link_put(struct state_txn *t, const struct link *l)
{
	unsigned char rec[LINK_REC_MAX];
	size_t i, n, klen = strlen(l->key);

	if (klen == 0 || klen >= LINK_KEY_MAX || l->nsides > CONF_MAX_STORES)
		fatal("state_link_put: bad link");
	if (unindex(t, l->key) == -1)
		return -1;
	n = link_encode(l, rec);
	if (put(t, t->st->links, l->key, klen, rec, n) == -1 ||
	    each_level(t, l, index_put, l->key) == -1)
		return -1;
	for (i = 0; i < l->nsides; i++) {
		unsigned char ok[4 + LINK_KEY_MAX];

		if (l->side[i].owed != 0 && put(t, t->st->owed, ok,
		    owed_key(ok, (uint32_t)i, l->key), "", 0) == -1)
			return -1;
	}
	return 0;
}

int
state_link_del(struct state_txn *t, const char *key)
{
	if (unindex(t, key) == -1)
		return -1;
	return del(t, t->st->links, key, strlen(key));
}

int
state_link_find(struct state_txn *t, uint32_t store, uint64_t item,
    uint64_t location, char *key)
{
	unsigned char ik[20];
	MDB_val v;
	int r;

	level_key(ik, store, item, location);
	if ((r = get(t, t->st->levels, ik, sizeof(ik), &v)) != 0)
		return r;
	if (v.mv_size == 0 || v.mv_size >= LINK_KEY_MAX) {
		log_err("state: corrupt level index entry");
		return -1;
	}
	memcpy(key, v.mv_data, v.mv_size);
	key[v.mv_size] = '\0';
	return 0;
}

int
state_link_each(struct state_txn *t, int (*fn)(const struct link *, void *),
    void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct link *l = xmalloc(sizeof(*l));
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->st->links, &c)) != 0) {
		free(l);
		return lmdb_failed("cursor", rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (link_decode(&k, &v, l) == -1) {
			r = -1;
			break;
		}
		if ((r = fn(l, arg)) != 0)
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		r = lmdb_failed("cursor", rc);
	mdb_cursor_close(c);
	free(l);
	return r;
}

int
state_owed_each(struct state_txn *t, uint32_t s,
    int (*fn)(const struct link *, void *), void *arg)
{
	unsigned char want[4];
	char key[LINK_KEY_MAX];
	struct link *l = xmalloc(sizeof(*l));
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	be32(want, s);
	if ((rc = mdb_cursor_open(t->txn, t->st->owed, &c)) != 0) {
		free(l);
		return lmdb_failed("cursor", rc);
	}
	k.mv_size = sizeof(want);
	k.mv_data = want;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= 4 || memcmp(k.mv_data, want, 4) != 0 ||
		    k.mv_size - 4 >= LINK_KEY_MAX)
			break;
		memcpy(key, (char *)k.mv_data + 4, k.mv_size - 4);
		key[k.mv_size - 4] = '\0';
		if ((r = state_link_get(t, key, l)) != 0) {
			if (r == 1)
				log_err("state: owed index names a missing link");
			r = -1;
			break;
		}
		if ((r = fn(l, arg)) != 0)
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND && r == 0)
		r = lmdb_failed("cursor", rc);
	mdb_cursor_close(c);
	free(l);
	return r;
}

size_t
state_link_count(struct state_txn *t)
{
	MDB_stat ms;

	if (mdb_stat(t->txn, t->st->links, &ms) != 0)
		return 0;
	return ms.ms_entries;
}

int
state_pending_get(struct state_txn *t, uint32_t store, struct pending *out)
{
	struct pending_head h;
	unsigned char k[4];
	MDB_val v;
	int r;

	be32(k, store);
	if ((r = get(t, t->st->pending, k, sizeof(k), &v)) != 0)
		return r;
	if (v.mv_size < sizeof(h))
		goto corrupt;
	memcpy(&h, v.mv_data, sizeof(h));
	if (h.n > BATCH_MAX || h.key[32] != '\0' ||
	    v.mv_size != sizeof(h) + h.n * sizeof(struct pending_change))
		goto corrupt;
	memcpy(out->key, h.key, sizeof(out->key));
	out->store = h.store;
	out->created_ms = h.created_ms;
	out->sent = h.sent;
	out->attempts = h.attempts;
	out->n = h.n;
	memcpy(out->ch, (const char *)v.mv_data + sizeof(h),
	    h.n * sizeof(struct pending_change));
	return 0;
corrupt:
	log_err("state: corrupt pending batch for store %u", store);
	return -1;
}

int
state_pending_put(struct state_txn *t, const struct pending *p)
{
	struct pending_head h;
	unsigned char k[4];
	size_t len;
	char *buf;
	int r;

	if (p->n > BATCH_MAX)
		fatal("state_pending_put: %zu changes", p->n);
	memset(&h, 0, sizeof(h));
	memcpy(h.key, p->key, sizeof(h.key));
	h.key[32] = '\0';
	h.store = p->store;
	h.created_ms = p->created_ms;
	h.sent = p->sent;
	h.attempts = p->attempts;
	h.n = (uint32_t)p->n;
	len = sizeof(h) + p->n * sizeof(struct pending_change);
	buf = xmalloc(len);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p->ch, p->n * sizeof(struct pending_change));
	be32(k, p->store);
	r = put(t, t->st->pending, k, sizeof(k), buf, len);
	free(buf);
	return r;
}

int
state_pending_del(struct state_txn *t, uint32_t store)
{
	unsigned char k[4];

	be32(k, store);
	return del(t, t->st->pending, k, sizeof(k));
}

int
state_meta_get_i64(struct state_txn *t, const char *name, int64_t *v)
{
	MDB_val val;
	int r = get(t, t->st->meta, name, strlen(name), &val);

	if (r != 0)
		return r;
	if (val.mv_size != sizeof(*v)) {
		log_err("state: meta %s: bad size", name);
		return -1;
	}
	memcpy(v, val.mv_data, sizeof(*v));
	return 0;
}

int
state_meta_put_i64(struct state_txn *t, const char *name, int64_t v)
{
	return put(t, t->st->meta, name, strlen(name), &v, sizeof(v));
}

int
state_meta_get_str(struct state_txn *t, const char *name, char *buf,
    size_t bufsz)
{
	MDB_val val;
	int r = get(t, t->st->meta, name, strlen(name), &val);

	if (r != 0)
		return r;
	if (val.mv_size >= bufsz) {
		log_err("state: meta %s: too long", name);
		return -1;
	}
	memcpy(buf, val.mv_data, val.mv_size);
	buf[val.mv_size] = '\0';
	return 0;
}

int
state_meta_put_str(struct state_txn *t, const char *name, const char *v)
{
	return put(t, t->st->meta, name, strlen(name), v, strlen(v));
}

int
state_meta_get_blob(struct state_txn *t, const char *name, void *buf,
    size_t bufsz, size_t *len)
{
	MDB_val val;
	int r = get(t, t->st->meta, name, strlen(name), &val);

	if (r != 0)
		return r;
	*len = val.mv_size;
	if (val.mv_size <= bufsz)
		memcpy(buf, val.mv_data, val.mv_size);
	return 0;
}

int
state_meta_put_blob(struct state_txn *t, const char *name, const void *v,
    size_t len)
{
	return put(t, t->st->meta, name, strlen(name), v, len);
}

int
state_meta_del(struct state_txn *t, const char *name)
{
	return del(t, t->st->meta, name, strlen(name));
}

/* Drops the oldest entries while more than AUDIT_MAX are kept. */
static int
audit_trim(struct state_txn *t)
{
	MDB_cursor *c;
	MDB_stat ms;
	MDB_val k, v;
	size_t extra;
	int rc;

	if (mdb_stat(t->txn, t->st->audit, &ms) != 0 ||
	    ms.ms_entries <= AUDIT_MAX)
		return 0;
	extra = ms.ms_entries - AUDIT_MAX;
	if ((rc = mdb_cursor_open(t->txn, t->st->audit, &c)) != 0)
		return lmdb_failed("cursor", rc);
	while (extra-- > 0 &&
	    (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0)
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
			map_full = 1;
		return lmdb_failed("audit trim", rc);
	}
	return 0;
}

int
state_audit_append(struct state_txn *t, struct audit_entry *e)
{
	MDB_cursor *c;
	MDB_val k, v;
	unsigned char key[8];
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->st->audit, &c)) != 0)
		return lmdb_failed("cursor", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size == 8)
		e->seq = from_be64(k.mv_data) + 1;
	else if (rc == MDB_NOTFOUND)
		e->seq = 1;
	else
		return lmdb_failed("audit", rc);
	if (e->time_ms == 0)
		e->time_ms = util_now_ms();
	be64(key, e->seq);
	if (put(t, t->st->audit, key, sizeof(key), e, sizeof(*e)) == -1)
		return -1;
	return audit_trim(t);
}

int
state_audit_last(struct state_txn *t, size_t n,
    int (*fn)(const struct audit_entry *, void *), void *arg)
{
	struct audit_entry e;
	MDB_cursor *c;
	MDB_val k, v;
	size_t back = 0;
	int rc, r = 0;

	if (n == 0)
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->st->audit, &c)) != 0)
		return lmdb_failed("cursor", rc);
	/* walk back n-1 entries from the last, then forward */
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	while (rc == 0 && back + 1 < n) {
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		if (rc == 0)
			back++;
	}
	if (rc == MDB_NOTFOUND && back > 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != sizeof(e)) {
			log_err("state: corrupt audit entry");
			r = -1;
			break;
		}
		memcpy(&e, v.mv_data, sizeof(e));
		e.link[LINK_KEY_MAX - 1] = '\0';
		e.note[sizeof(e.note) - 1] = '\0';
		e.batch[32] = '\0';
		if ((r = fn(&e, arg)) != 0)
			break;
	}
	if (rc != 0 && rc != MDB_NOTFOUND && r == 0)
		r = lmdb_failed("audit", rc);
	mdb_cursor_close(c);
	return r;
}
