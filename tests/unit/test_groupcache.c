/*
 * test_groupcache.c: the location groups kept in the state (groupcache.c):
 * read back as kept for the config that made them, and no copy at all for
 * another [locations], or for bytes that do not read as groups.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "groupcache.h"
#include "meta.h"

static struct client_location a_locs[] = {
	{ 1, "Main Warehouse", 1 }, { 2, "Overflow", 1 }
};
static struct client_location b_locs[] = { { 11, "US Warehouse", 1 } };
static char token[] = "/tmp/test_groupcache.XXXXXX";
static char dir[] = "/tmp/test_groupcache_state.XXXXXX";

static struct group	kept[CONF_MAX_LOCLINKS], got[CONF_MAX_LOCLINKS];
static size_t		nkept, ngot;
static struct conf	conf_a, conf_b;

static int
parse(struct conf *c, const char *locations)
{
	char text[2048];
	struct conf_errors e;

	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = %s\n[store b]\nshop = b.myshopify.com\n"
	    "token_file = %s\n[locations]\n%s\n", token, token, locations);
	memset(&e, 0, sizeof(e));
	return conf_parse("t.conf", text, strlen(text), c, &e);
}

static int
put_txn(struct state_txn *t, void *arg)
{
	return groupcache_put(t, arg, kept, nkept);
}

static int
get_txn(struct state_txn *t, void *arg)
{
	return groupcache_get(t, arg, got, &ngot);
}

/* The kept copy cut or padded to len (0: as it is), n bytes from off set
   to byte. */
struct raw {
	size_t	len;
	size_t	off, n;
	int	byte;
};

static int
raw_txn(struct state_txn *t, void *arg)
{
	const struct raw *w = arg;
	size_t len = 0, cap = 16 + 2 * CONF_MAX_LOCLINKS * sizeof(struct group);
	unsigned char *buf = calloc(1, cap);
	int r;

	if (buf == NULL)
		abort();
	if (groupcache_put(t, &conf_a, kept, nkept) != 0 ||
	    meta_get_blob(t, META_GROUPS, 0, buf, cap, &len) != 0) {
		free(buf);
		return -1;
	}
	if (w->off < cap)
		memset(buf + w->off, w->byte, w->n);
	r = meta_put_blob(t, META_GROUPS, 0, buf, w->len ? w->len : len);
	free(buf);
	return r;
}

static void
test_bad(struct state *st, const char *name, struct raw w)
{
	char what[160];

	snprintf(what, sizeof(what), "no copy: %s", name);
	CHECK_INT(what, state_update(st, raw_txn, &w) == 0 &&
	    state_view(st, get_txn, &conf_a) == 1 ? (long long)ngot : -1, 0);
}

int
main(void)
{
	struct client_location *loc[CONF_MAX_STORES] = { a_locs, b_locs };
	size_t n[CONF_MAX_STORES] = { 2, 1 }, head = 16;
	struct state *st;
	char err[512];
	int fd = mkstemp(token);

	if (fd == -1 || write(fd, "shpat_test\n", 11) != 11 ||
	    mkdtemp(dir) == NULL)
		return 1;
	close(fd);
	CHECK_INT("config a", parse(&conf_a,
	    "Main Warehouse + Overflow = US Warehouse"), 0);
	CHECK_INT("config b", parse(&conf_b, "Overflow = US Warehouse"), 0);
	CHECK_INT("linked", link_locations(&conf_a, loc, n, kept, &nkept, err,
	    sizeof(err)), 0);
	if ((st = state_open(dir, 0)) == NULL)
		return 1;
	CHECK_INT("none kept", state_view(st, get_txn, &conf_a), 1);
	CHECK_INT("kept", state_update(st, put_txn, &conf_a), 0);
	CHECK_INT("read back", state_view(st, get_txn, &conf_a), 0);
	CHECK("the same groups", ngot == nkept && nkept == 1 &&
	    memcmp(got, kept, nkept * sizeof(*kept)) == 0 &&
	    got[0].nmember[0] == 2 && got[0].member[0][1] == 2);
	CHECK_INT("another [locations]: none", state_view(st, get_txn,
	    &conf_b), 1);
	test_bad(st, "too short", (struct raw){ 10, SIZE_MAX, 0, 0 });
	test_bad(st, "too long", (struct raw){ head + (CONF_MAX_LOCLINKS + 1) *
	    sizeof(struct group), SIZE_MAX, 0, 0 });
	test_bad(st, "another version", (struct raw){ 0, 0, 1, 9 });
	test_bad(st, "a group count past the groups", (struct raw){ 0, 4, 1,
	    2 });
	test_bad(st, "more members than a group has", (struct raw){ 0, head +
	    offsetof(struct group, nmember), 1, GROUP_MAX + 1 });
	test_bad(st, "a location of 0", (struct raw){ 0, head +
	    offsetof(struct group, loc) + sizeof(uint64_t), sizeof(uint64_t),
	    0 });
	test_bad(st, "a name without its end", (struct raw){ 0, head +
	    offsetof(struct group, name), sizeof(kept[0].name), 'x' });
	CHECK_INT("kept again", state_update(st, put_txn, &conf_a), 0);
	CHECK_INT("read back again", state_view(st, get_txn, &conf_a), 0);
	state_close(st);
	check_remove_state(dir);
	unlink(token);
	return check_exit();
}
