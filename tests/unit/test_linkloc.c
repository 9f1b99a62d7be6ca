/*
 * test_linkloc.c: linking locations into groups (linkloc.c), and the
 * [locations] entries and `buffer` that conf.c takes for them
 * (docs/design.md §2, §3a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "linkloc.h"

/*
 * Store a: Main Warehouse (1), Overflow (2), Shoes + Bags (3); b: US
 * Warehouse (11), US Overflow (12).
 */
static struct client_location a_locs[] = {
	{ 1, "Main Warehouse", 1 }, { 2, "Overflow", 1 },
	{ 3, "Shoes + Bags", 1 }
};
static struct client_location b_locs[] = {
	{ 11, "US Warehouse", 1 }, { 12, "US Overflow", 1 }
};
static char token[] = "/tmp/test_linkloc.XXXXXX";

/* Parses a config of stores a and b with [locations] lines (and extra). */
static int
parse(struct conf *c, const char *store_b, const char *locations)
{
	char text[2048];
	struct conf_errors e;
	size_t i;
	int r;

	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = %s\n[store b]\nshop = b.myshopify.com\n"
	    "token_file = %s\n%s\n[locations]\n%s\n", token, token, store_b,
	    locations);
	memset(&e, 0, sizeof(e));
	r = conf_parse("t.conf", text, strlen(text), c, &e);
	for (i = 0; i < e.n; i++)
		printf("# %s\n", e.msg[i]);
	return r;
}

/* Links c's locations; 0 or -1 with err. */
static int
link_all(const struct conf *c, struct group *g, size_t *ng, char *err,
    size_t errsz)
{
	struct client_location *loc[CONF_MAX_STORES] = { a_locs, b_locs };
	size_t n[CONF_MAX_STORES] = { 3, 2 };

	return link_locations(c, loc, n, g, ng, err, errsz);
}

static void
test_groups(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	struct group *g = calloc(CONF_MAX_LOCLINKS, sizeof(*g));
	char err[1024], name[CONF_STR_MAX];
	size_t ng = 0;

	CHECK("group: parses", parse(c, "buffer = 2",
	    "Main Warehouse + Overflow = US Warehouse") == 0);
	CHECK_INT("buffer: taken", c->stores[1].buffer, 2);
	CHECK_INT("buffer: default 0", c->stores[0].buffer, 0);
	CHECK("group: links", link_all(c, g, &ng, err, sizeof(err)) == 0 &&
	    ng == 1);
	CHECK("group: members in the listed order", g[0].nmember[0] == 2 &&
	    g[0].member[0][0] == 1 && g[0].member[0][1] == 2 &&
	    g[0].loc[0] == 1 && linkloc_members(&g[0], 1) == 1 &&
	    g[0].loc[1] == 11);
	CHECK("group: every linked location of a store",
	    linkloc_count(g, ng, 0) == 2 && linkloc_nth(g, ng, 0, 1) == 2 &&
	    linkloc_nth(g, ng, 0, 2) == 0 && linkloc_has(g, ng, 0, 2) &&
	    !linkloc_has(g, ng, 0, 3));
	linkloc_member_name(c, g, ng, 0, 2, name, sizeof(name));
	CHECK_STR("group: a member's name", name, "Overflow");
	linkloc_member_name(c, g, ng, 1, 11, name, sizeof(name));
	CHECK_STR("group: one location has no member name", name, "");

	CHECK("group: a name holding '+' is one location", parse(c, "",
	    "Shoes + Bags = US Warehouse") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == 0 &&
	    g[0].nmember[0] == 1 && g[0].loc[0] == 3);
	CHECK("group: by ids", parse(c, "", "gid://shopify/Location/2 + "
	    "gid://shopify/Location/1 = US Warehouse") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == 0 &&
	    g[0].nmember[0] == 2 && g[0].member[0][0] == 2 &&
	    g[0].member[0][1] == 1);
	CHECK("group: an unknown member is refused", parse(c, "",
	    "Main Warehouse + Attic = US Warehouse") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == -1 &&
	    strstr(err, "no active location 'Attic'") != NULL);
	CHECK("group: a location in two groups is refused", parse(c, "",
	    "Main Warehouse + Overflow = US Warehouse\n"
	    "Overflow = US Overflow") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == -1 &&
	    strstr(err, "linked twice") != NULL);
	CHECK("group: a bad id in a group is refused", parse(c, "",
	    "gid://shopify/Location/x + Overflow = US Warehouse") == -1);
	CHECK("group: more than 8 members is refused", parse(c, "",
	    "a+b+c+d+e+f+g+h+i = US Warehouse") == -1);
	CHECK("group: a member named twice is refused", parse(c, "",
	    "Main Warehouse + Main Warehouse = US Warehouse") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == -1 &&
	    strstr(err, "linked twice") != NULL);
	CHECK("group: an empty member is refused", parse(c, "",
	    "Main Warehouse + = US Warehouse") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == -1 &&
	    strstr(err, "no active location ''") != NULL);
	CHECK("group: '+' without blanks", parse(c, "",
	    "Main Warehouse+Overflow = US Warehouse+US Overflow") == 0 &&
	    link_all(c, g, &ng, err, sizeof(err)) == 0 &&
	    g[0].nmember[0] == 2 && g[0].nmember[1] == 2);
	CHECK("group: the same group twice is refused", parse(c, "",
	    "Main Warehouse + Overflow = US Warehouse\n"
	    "Main Warehouse + Overflow = US Overflow") != 0 ||
	    link_all(c, g, &ng, err, sizeof(err)) == -1);
	CHECK("buffer: not a number is refused", parse(c, "buffer = -1",
	    "Main Warehouse = US Warehouse") == -1);
	CHECK("buffer: too many is refused", parse(c, "buffer = 1000001",
	    "Main Warehouse = US Warehouse") == -1);
	free(g);
	free(c);
}

int
main(void)
{
	int fd = mkstemp(token);

	if (fd == -1 || write(fd, "shpat_test\n", 11) != 11)
		return 1;
	close(fd);
	test_groups();
	unlink(token);
	return check_exit();
}
