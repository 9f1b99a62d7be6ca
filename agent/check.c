/*
 * check.c: owns `invsync check` (docs/design.md §2): reaches every store and says,
 * in words a merchant can act on, whether syncing can start: TLS, API
 * version, scopes, locations and how they link, and how the catalogs match.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "client.h"
#include "http.h"
#include "linkloc.h"
#include "log.h"
#include "report.h"
#include "sync.h"
#include "timing.h"
#include "util.h"

#define CHECK_SHOW	5	/* names listed per problem */
#define CHECK_VERSION_DAYS 60	/* warn when the API version has less left */

static const char *const needed_scopes[] = {
	"read_inventory", "write_inventory", "read_products", "read_locations",
	NULL
};

/* One store's catalog keys, sorted, for matching across stores. */
struct keys {
	char	**v;
	size_t	  n, cap;
	size_t	  variants, nokey, untracked, bundles;
};

struct check {
	const struct conf	*c;
	int			 problems;
	struct client		*cl[CONF_MAX_STORES];
	struct client_location	*loc[CONF_MAX_STORES];
	size_t			 nloc[CONF_MAX_STORES];
	int			 reached[CONF_MAX_STORES];
	struct keys		 keys[CONF_MAX_STORES];
};

static void
problem(struct check *k, const char *fmt, const char *a, const char *b)
{
	printf("  PROBLEM: ");
	printf(fmt, a, b);
	printf("\n");
	k->problems++;
}

static int
has_scope(const char *list, const char *want)
{
	size_t n = strlen(want);
	const char *p = list;

	while ((p = strstr(p, want)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * Says how far Shopify's clock (the Date of the store's replies) is from
 * this machine's; a warning above CLOCK_WARN_MS: polls use Shopify's time,
 * but certificates and the logs use this machine's (docs/design.md §5).
 */
static void
check_clock(int64_t offset_ms)
{
	printf("  clock: Shopify's is %+.1f s from this machine's\n",
	    (double)offset_ms / 1000);
	if (offset_ms > CLOCK_WARN_MS || offset_ms < -CLOCK_WARN_MS)
		printf("  WARNING: this machine's clock is off by more than %d s; "
		    "syncing follows Shopify's clock, but check NTP "
		    "(timedatectl)\n", CLOCK_WARN_MS / 1000);
}

/* TLS, API version, scopes.  Returns 0 when the store answered. */
static int
check_access(struct check *k, size_t i)
{
	struct client_info info;
	enum client_result r;
	size_t s;

	r = client_info(k->cl[i], &info);
	if (r != CLIENT_OK) {
		problem(k, "cannot use the store: %s: %s", client_result_str(r),
		    client_stats(k->cl[i])->last_error);
		return -1;
	}
	printf("  reachable over verified TLS: yes (shop \"%s\")\n",
	    info.shop_name);
	check_clock(client_stats(k->cl[i])->clock_offset_ms);
	if (info.version_supported) {
		int64_t left = conf_version_days_left(k->c->api_version,
		    util_now_ms());

		printf("  API version %s: supported\n", k->c->api_version);
		/* a version is served for a year (docs/shopify-api.md §11) */
		if (left < CHECK_VERSION_DAYS)
			printf("  WARNING: API version %s has %" PRId64 " days "
			    "left (Shopify serves it until the 16th of its "
			    "month a year on, 15:00 UTC, then falls forward); "
			    "move to a newer one: set api_version in [sync] "
			    "(see the README, \"Moving to a new API "
			    "version\")\n", k->c->api_version,
			    left < 0 ? 0 : left);
	} else
		problem(k, "API version %s is not supported (supported: %s); "
		    "set api_version in [sync]", k->c->api_version,
		    info.versions);
	for (s = 0; needed_scopes[s] != NULL; s++)
		if (!has_scope(info.scopes, needed_scopes[s]))
			problem(k, "the app lacks the scope %s; add it to the "
			    "app's configuration and reinstall it%s",
			    needed_scopes[s], "");
	printf("  scopes granted: %s\n", info.scopes[0] ? info.scopes : "none");
	return 0;
}

static int
check_locations(struct check *k, size_t i)
{
	enum client_result r;
	size_t j;

	r = client_locations(k->cl[i], &k->loc[i], &k->nloc[i]);
	if (r != CLIENT_OK) {
		problem(k, "cannot read locations: %s: %s",
		    client_result_str(r), client_stats(k->cl[i])->last_error);
		return -1;
	}
	printf("  active locations (%zu):", k->nloc[i]);
	for (j = 0; j < k->nloc[i]; j++)
		printf("%s %s", j ? "," : "", k->loc[i][j].name);
	printf("\n");
	return 0;
}

static int
collect_key(const struct client_variant *v, void *arg)
{
	struct check *k = ((void **)arg)[0];
	struct keys *ks = ((void **)arg)[1];
	char key[LINK_KEY_MAX];

	ks->variants++;
	if (!v->tracked)
		ks->untracked++;
	if (v->bundle)
		ks->bundles++;
	if (sync_link_key(k->c->match, v->handle, v->sku, v->barcode,
	    v->options, 0, key, sizeof(key)) == -1) {
		ks->nokey++;
		return 0;
	}
	key[strlen(key) - 2] = '\0';	/* drop the group suffix "@0" */
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		ks->v = xreallocarray(ks->v, ks->cap, sizeof(*ks->v));
	}
	ks->v[ks->n++] = xstrdup(key);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct path_arg {
	size_t	i;
	char	why[META_STR_MAX];
};

static int
path_txn(struct state_txn *t, void *arg)
{
	struct path_arg *a = arg;

	return bulk_path_why(t, a->i, a->why, sizeof(a->why));
}

/*
 * What the agent last decided for store i's full reads and why (no bulk
 * access, operations that would not start ...), when a state exists.
 */
static void
print_path(struct check *k, size_t i)
{
	struct path_arg a;
	struct state *st;

	memset(&a, 0, sizeof(a));
	a.i = i;
	if (!state_exists(k->c->state_dir) ||
	    (st = state_open(k->c->state_dir, 1)) == NULL)
		return;
	if (state_view(st, path_txn, &a) == 0 && a.why[0] != '\0')
		printf("  full reads as the agent last chose: %s\n", a.why);
	state_close(st);
}

static int
check_catalog(struct check *k, size_t i)
{
	struct keys *ks = &k->keys[i];
	void *arg[2] = { k, ks };
	enum client_result r;
	size_t j, dups = 0;

	r = client_catalog(k->cl[i], 0, collect_key, arg);
	if (r != CLIENT_OK) {
		problem(k, "cannot read products: %s: %s",
		    client_result_str(r), client_stats(k->cl[i])->last_error);
		return -1;
	}
	qsort(ks->v, ks->n, sizeof(*ks->v), cmp_str);
	printf("  catalog: %zu variants; %zu untracked and %zu bundle "
	    "parents (not synced)", ks->variants, ks->untracked, ks->bundles);
	if (ks->nokey)
		printf("; %zu without a %s (not matched)", ks->nokey,
		    k->c->match == MATCH_SKU ? "SKU" :
		    k->c->match == MATCH_BARCODE ? "barcode" : "handle");
	printf("\n");
	if (k->c->bulk_threshold > 0 &&
	    ks->variants >= (size_t)k->c->bulk_threshold)
		printf("  full reads: by bulk operations (%zu variants >= "
		    "bulk_threshold %ld)\n", ks->variants,
		    k->c->bulk_threshold);
	else
		printf("  full reads: in pages (bulk_threshold %ld)\n",
		    k->c->bulk_threshold);
	print_path(k, i);
	for (j = 1; j < ks->n; j++)
		if (strcmp(ks->v[j], ks->v[j - 1]) == 0 &&
		    (j < 2 || strcmp(ks->v[j - 1], ks->v[j - 2]) != 0)) {
			if (dups++ < CHECK_SHOW)
				printf("  duplicate key (not synced): %s\n",
				    ks->v[j]);
		}
	if (dups > CHECK_SHOW)
		printf("  ... %zu duplicate keys in all\n", dups);
	return 0;
}

static int
in_keys(const struct keys *ks, const char *key)
{
	return bsearch(&key, ks->v, ks->n, sizeof(*ks->v), cmp_str) != NULL;
}

/* How the catalogs match: per store, keys found in no other store. */
static void
check_matching(struct check *k)
{
	const struct conf *c = k->c;
	size_t i, j, s, matched, alone, shown;

	for (i = 0; i < c->nstores; i++) {
		const struct keys *ks = &k->keys[i];

		matched = alone = shown = 0;
		for (j = 0; j < ks->n; j++) {
			int found = 0;

			if (j > 0 && strcmp(ks->v[j], ks->v[j - 1]) == 0)
				continue;
			for (s = 0; s < c->nstores && !found; s++)
				found = s != i && in_keys(&k->keys[s],
				    ks->v[j]);
			if (found)
				matched++;
			else if (alone++ < CHECK_SHOW)
				printf("  only in %s: %s\n", c->stores[i].name,
				    ks->v[j]);
		}
		printf("  %s: %zu keys matched in another store, %zu "
		    "unmatched\n", c->stores[i].name, matched, alone);
		if (i == 0 && matched == 0 && ks->n > 0)
			problem(k, "no product of %s matches another store "
			    "(match = %s)", c->stores[0].name,
			    c->match == MATCH_SKU ? "sku" :
			    c->match == MATCH_BARCODE ? "barcode" : "handle");
	}
}

/* The name of store s's location id, or "?". */
static const char *
location_name(const struct check *k, size_t s, uint64_t id)
{
	size_t j;

	for (j = 0; j < k->nloc[s]; j++)
		if (k->loc[s][j].id == id)
			return k->loc[s][j].name;
	return "?";
}

/* "  linked: a: Main Warehouse + Overflow (a group) = b: US Warehouse" */
static void
print_group(const struct check *k, const struct group *gr)
{
	size_t s, m, n;

	printf("  linked:");
	for (s = 0; s < k->c->nstores; s++) {
		n = linkloc_members(gr, s);
		printf("%s %s: ", s ? " =" : "", k->c->stores[s].name);
		for (m = 0; m < n; m++)
			printf("%s%s", m ? " + " : "", location_name(k, s,
			    n > 1 ? gr->member[s][m] : gr->loc[s]));
		if (n > 1)
			printf(" (a group of %zu: their sum is synced)", n);
	}
	printf("\n");
}

static void
check_links(struct check *k)
{
	struct group *g = xcalloc(CONF_MAX_LOCLINKS, sizeof(*g));
	char err[1024];
	size_t ng = 0, i, j, s;

	printf("\nlocations\n");
	if (link_locations(k->c, k->loc, k->nloc, g, &ng, err,
	    sizeof(err)) == -1) {
		problem(k, "%s%s", err, "");
		free(g);
		return;
	}
	for (i = 0; i < ng; i++)
		print_group(k, &g[i]);
	for (s = 0; s < k->c->nstores; s++)
		for (j = 0; j < k->nloc[s]; j++)
			if (!linkloc_has(g, ng, s, k->loc[s][j].id))
				printf("  not linked: %s: %s\n",
				    k->c->stores[s].name, k->loc[s][j].name);
	free(g);
}

int
report_check(const struct conf *c)
{
	static volatile int never;
	struct check *k = xcalloc(1, sizeof(*k));
	size_t i, j, reached = 0;
	int r;

	k->c = c;
	if (http_global_init() == -1)
		return 1;
	for (i = 0; i < c->nstores; i++) {
		printf("store %s (%s)\n", c->stores[i].name, c->stores[i].shop);
		if (c->stores[i].buffer > 0)
			printf("  buffer: %" PRId64 " units held back: it shows "
			    "what the others have less %" PRId64 ", never below "
			    "0\n", c->stores[i].buffer, c->stores[i].buffer);
		if ((k->cl[i] = client_new(c, i, &never)) == NULL) {
			problem(k, "cannot set up the client (see the error "
			    "above)%s%s", "", "");
			continue;
		}
		if (check_access(k, i) == 0 && check_locations(k, i) == 0 &&
		    check_catalog(k, i) == 0) {
			k->reached[i] = 1;
			reached++;
		}
		printf("  API cost of this check: %" PRId64 " points\n",
		    client_stats(k->cl[i])->cost_actual);
	}
	if (reached == c->nstores) {
		check_links(k);
		printf("\nproducts (match = %s)\n", c->match == MATCH_SKU ?
		    "sku" : c->match == MATCH_BARCODE ? "barcode" : "handle");
		check_matching(k);
	}
	printf("\n%s\n", k->problems == 0 ? "ready: syncing can start" :
	    "NOT READY: fix the problems above, then run 'invsync check' "
	    "again");
	r = k->problems == 0 ? 0 : 1;
	for (i = 0; i < c->nstores; i++) {
		client_free(k->cl[i]);
		free(k->loc[i]);
		for (j = 0; j < k->keys[i].n; j++)
			free(k->keys[i].v[j]);
		free(k->keys[i].v);
	}
	free(k);
	return r;
}
