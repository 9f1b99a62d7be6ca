/*
 * test_conf.c: drives the config parser (agent/conf.c): tables of good and
 * bad configurations (each bad one with its exact "FILE:LINE: message"
 * list), secret file permissions, $CREDENTIALS_DIRECTORY, the duration
 * parser, conf_read_secret() and conf_print() golden output.
 *
 * Run from the repository root (the example config is checked when found).
 * Works in a mkdtemp(3) directory that it removes at the end.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"

#define TMP_MAX_PATH	512

static char tmpdir[TMP_MAX_PATH];
static struct conf conf;
static struct conf_errors errs;

/* Stores one [store] section: 3 lines each. */
#define STORE_A	"[store a]\nshop = a.myshopify.com\ntoken_file = a.token\n"
#define STORE_B	"[store b]\nshop = b.myshopify.com\ntoken_file = b.token\n"
#define STORES	STORE_A STORE_B

struct good_case {
	const char	*name;
	const char	*path;		/* NULL: "t.conf" */
	const char	*text;
	const char	*want[32];	/* "field=value", NULL-terminated */
};

struct bad_case {
	const char	*name;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want;		/* error lines joined by '\n' */
};

/* Writes len bytes of s to dir-relative file name with mode; exits on error. */
static void
put_file(const char *name, const char *s, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, s, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		printf("FAIL setup: %s: %s\n", name, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* Removes the tree at path (files, directories, symlinks). */
static void
rm_tree(const char *path)
{
	char sub[TMP_MAX_PATH * 2];
	struct dirent *d;
	struct stat sb;
	DIR *dir;

	if (lstat(path, &sb) == -1)
		return;
	if (S_ISDIR(sb.st_mode) && (dir = opendir(path)) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
			rm_tree(sub);
		}
		closedir(dir);
		rmdir(path);
	} else
		unlink(path);
}

/* Makes the temporary directory with its secret files and enters it. */
static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) == -1) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	put_file("a.token", "shpat_a\n", 8, 0600);
	put_file("b.token", "shpat_b\n", 8, 0600);
	put_file("c.token", "shpat_c\n", 8, 0600);
	put_file("c.secret", "secret_c\n", 9, 0400);
	put_file("open.token", "x\n", 2, 0644);
	put_file("group.token", "x\n", 2, 0640);
	put_file("other.token", "x\n", 2, 0604);
	put_file("gw.token", "x\n", 2, 0620);
	put_file("ca.pem", "-----BEGIN CERTIFICATE-----\n", 28, 0644);
	if (mkdir("dir.token", 0700) == -1 || mkdir("sub", 0755) == -1 ||
	    mkdir("creds", 0700) == -1 || symlink("a.token", "link.token")) {
		printf("FAIL setup: mkdir: %s\n", strerror(errno));
		exit(1);
	}
	put_file("sub/s.token", "shpat_s\n", 8, 0600);
	put_file("creds/cred.token", "shpat_cred\n", 11, 0600);
}

/* Joins errs into buf, one message a line without the last '\n'. */
static void
join_errors(char *buf, size_t sz)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < errs.n && n < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s", i ? "\n" : "",
		    errs.msg[i]);
}

/* Prints one multi-line comparison as PASS or FAIL (with both texts). */
static void
check_lines(const char *name, const char *got, const char *want)
{
	if (strcmp(got, want) == 0) {
		printf("PASS %s\n", name);
		return;
	}
	printf("FAIL %s: error lines differ\n--- got\n%s\n--- want\n%s\n---\n",
	    name, got, want);
	check_failures++;
}

/* Formats field f of conf (see the good table) into out. */
static void
field(const char *f, char *out, size_t sz)
{
	static const char *const m[] = { "handle", "sku", "barcode" };
	static const char *const in[] = { "primary", "keep", "min" };
	static const char *const dir[] = { "two-way", "one-way" };
	const struct store_conf *s;

	snprintf(out, sz, "?");
	if (strcmp(f, "interval") == 0)
		snprintf(out, sz, "%lld", (long long)conf.interval_ms);
	else if (strcmp(f, "state_dir") == 0)
		snprintf(out, sz, "%s", conf.state_dir);
	else if (strcmp(f, "match") == 0)
		snprintf(out, sz, "%s", m[conf.match]);
	else if (strcmp(f, "initial") == 0)
		snprintf(out, sz, "%s", in[conf.initial]);
	else if (strcmp(f, "direction") == 0)
		snprintf(out, sz, "%s", dir[conf.direction]);
	else if (strcmp(f, "api_version") == 0)
		snprintf(out, sz, "%s", conf.api_version);
	else if (strcmp(f, "ca_file") == 0)
		snprintf(out, sz, "%s", conf.ca_file);
	else if (strcmp(f, "metrics_file") == 0)
		snprintf(out, sz, "%s", conf.metrics_file);
	else if (strcmp(f, "alert_url") == 0)
		snprintf(out, sz, "%s", conf.alert_url);
	else if (strcmp(f, "alert_after") == 0)
		snprintf(out, sz, "%lld", (long long)conf.alert_after_ms);
	else if (strcmp(f, "alert_format") == 0)
		snprintf(out, sz, "%d", (int)conf.alert_format);
	else if (strcmp(f, "ping_url") == 0)
		snprintf(out, sz, "%s", conf.ping_url);
	else if (strcmp(f, "ping_every") == 0)
		snprintf(out, sz, "%lld", (long long)conf.ping_every_ms);
	else if (strcmp(f, "overlap") == 0)
		snprintf(out, sz, "%lld", (long long)conf.overlap_ms);
	else if (strcmp(f, "reconcile") == 0)
		snprintf(out, sz, "%lld", (long long)conf.reconcile_ms);
	else if (strcmp(f, "catalog") == 0)
		snprintf(out, sz, "%lld", (long long)conf.catalog_ms);
	else if (strcmp(f, "guard") == 0)
		snprintf(out, sz, "%d", conf.guard_percent);
	else if (strcmp(f, "bulk") == 0)
		snprintf(out, sz, "%ld", conf.bulk_threshold);
	else if (strcmp(f, "nstores") == 0)
		snprintf(out, sz, "%zu", conf.nstores);
	else if (strcmp(f, "nloclinks") == 0)
		snprintf(out, sz, "%zu", conf.nloclinks);
	else if (strncmp(f, "store", 5) == 0 && f[6] == '.') {
		s = &conf.stores[f[5] - '0'];
		f += 7;
		if (strcmp(f, "name") == 0)
			snprintf(out, sz, "%s", s->name);
		else if (strcmp(f, "shop") == 0)
			snprintf(out, sz, "%s", s->shop);
		else if (strcmp(f, "token_file") == 0)
			snprintf(out, sz, "%s", s->token_file);
		else if (strcmp(f, "client_id") == 0)
			snprintf(out, sz, "%s", s->client_id);
		else if (strcmp(f, "client_secret_file") == 0)
			snprintf(out, sz, "%s", s->client_secret_file);
		else if (strcmp(f, "url") == 0)
			snprintf(out, sz, "%s", s->url);
		else if (strcmp(f, "line") == 0)
			snprintf(out, sz, "%d", s->line);
	} else if (strncmp(f, "loc", 3) == 0 && f[4] == '.') {
		if (strcmp(f + 5, "line") == 0)
			snprintf(out, sz, "%d", conf.loclinks[f[3] - '0'].line);
		else
			snprintf(out, sz, "%s",
			    conf.loclinks[f[3] - '0'].names[f[5] - '0']);
	}
}

static const struct good_case good[] = {
	{ "defaults", NULL, STORES, {
	    "interval=5000", "state_dir=/var/lib/invsync", "match=handle",
	    "initial=primary", "direction=two-way", "api_version=2026-07",
	    "ca_file=", "overlap=60000", "reconcile=900000", "catalog=60000",
	    "guard=50", "bulk=1000", "nstores=2", "nloclinks=0",
	    "metrics_file=", "alert_url=", "alert_after=300000",
	    "alert_format=0", "ping_url=", "ping_every=60000",
	    "store0.name=a",
	    "store0.shop=a.myshopify.com", "store0.token_file=a.token",
	    "store0.url=", "store0.line=1", "store1.name=b", "store1.line=4" } },
	{ "every sync key", NULL,
	    "[sync]\ninterval = 500ms\nstate_dir = /srv/invsync\n"
	    "match = sku\ninitial = min\ndirection = one-way\n"
	    "api_version = 2025-01\nca_file = /etc/passwd\noverlap = 0s\n"
	    "reconcile = 1h\ncatalog_refresh = 10s\nguard = 0\n"
	    "bulk_threshold = 0\n" STORES, {
	    "interval=500", "state_dir=/srv/invsync", "match=sku",
	    "initial=min", "direction=one-way", "api_version=2025-01",
	    "ca_file=/etc/passwd", "overlap=0", "reconcile=3600000",
	    "catalog=10000", "guard=0", "bulk=0", "store0.line=14" } },
	{ "metrics_file", NULL,
	    "[sync]\nmetrics_file = /var/lib/node_exporter/invsync.prom\n"
	    STORES, { "metrics_file=/var/lib/node_exporter/invsync.prom" } },
	{ "alerts and ping", NULL,
	    "[sync]\nalert_url = https://ntfy.sh/invsync-x7Q\n"
	    "alert_after = 2s\nalert_format = ntfy\n"
	    "ping_url = https://hc-ping.com/0a1b?status=up&msg=OK\n"
	    "ping_every = 5s\n" STORES, {
	    "alert_url=https://ntfy.sh/invsync-x7Q", "alert_after=2000",
	    "alert_format=2",
	    "ping_url=https://hc-ping.com/0a1b?status=up&msg=OK",
	    "ping_every=5000" } },
	{ "alerts over http to loopback", NULL,
	    "[sync]\nalert_url = http://127.0.0.1:8080/hook\n"
	    "alert_format = slack\nping_url = http://[::1]:9/p\n" STORES, {
	    "alert_url=http://127.0.0.1:8080/hook", "alert_format=1",
	    "ping_url=http://[::1]:9/p" } },
	{ "alerts over http to localhost", NULL,
	    "[sync]\nalert_url = http://LocalHost/x\n" STORES, {
	    "alert_url=http://LocalHost/x" } },
	{ "bulk threshold at its maximum", NULL,
	    "[sync]\nbulk_threshold = 10000000\n" STORES, {
	    "bulk=10000000" } },
	{ "barcode keep guard 100%", NULL,
	    "[sync]\nmatch = barcode\ninitial = keep\nguard = 100%\n"
	    "interval = 1h\nreconcile = 24h\ncatalog_refresh = 24h\n"
	    "overlap = 1h\n" STORES, {
	    "match=barcode", "initial=keep", "guard=100",
	    "interval=3600000", "reconcile=86400000", "catalog=86400000",
	    "overlap=3600000" } },
	{ "comments and blanks", NULL,
	    "# invsync\n\n   # indented comment\n"
	    "[sync]   # the sync section\n"
	    "interval = 5s   # poll period\n"
	    "\tmatch\t=\tsku\t# tabs\n"
	    "\n[store a] # primary\nshop = a.myshopify.com\t# the shop\n"
	    "token_file = a.token #\n#\n", {
	    "interval=5000", "match=sku", "store0.shop=a.myshopify.com",
	    "store0.token_file=a.token", "store0.line=8" } },
	{ "client_id auth", NULL,
	    "[store a]\nshop = a.myshopify.com\nclient_id = 0123abcd\n"
	    "client_secret_file = c.secret\n", {
	    "store0.client_id=0123abcd", "store0.client_secret_file=c.secret",
	    "store0.token_file=", "nstores=1" } },
	{ "url with port and path, trailing slash dropped", NULL,
	    STORE_A "url = https://localhost:8443/store/source/\n", {
	    "store0.url=https://localhost:8443/store/source" } },
	{ "url ipv6 literal", NULL,
	    STORE_A "url = https://[::1]:8443\n", {
	    "store0.url=https://[::1]:8443" } },
	{ "url host only with slash and comment", NULL,
	    STORE_A "url = https://shop.example.net/   # proxy\n", {
	    "store0.url=https://shop.example.net" } },
	{ "locations by name and gid", NULL,
	    STORES "[locations]\nMain Warehouse = US Warehouse\n"
	    "gid://shopify/Location/123 = gid://shopify/Location/456\n", {
	    "nloclinks=2", "loc0.0=Main Warehouse", "loc0.1=US Warehouse",
	    "loc0.line=8", "loc1.0=gid://shopify/Location/123",
	    "loc1.1=gid://shopify/Location/456", "loc1.line=9" } },
	{ "three stores three names", NULL,
	    STORES "[store c]\nshop = c.myshopify.com\ntoken_file = c.token\n"
	    "[locations]\nA = B = C\n", {
	    "nstores=3", "store2.name=c", "store2.line=7", "loc0.2=C" } },
	{ "one store", NULL, STORE_A "[locations]\nOnly\n", {
	    "nstores=1", "nloclinks=1", "loc0.0=Only" } },
	{ "crlf and bom", NULL,
	    "\xef\xbb\xbf[sync]\r\ninterval = 2s\r\n[store a]\r\n"
	    "shop = a.myshopify.com\r\ntoken_file = a.token\r\n", {
	    "interval=2000", "store0.token_file=a.token", "store0.line=3" } },
	{ "sections in any order", NULL,
	    "[locations]\nX = Y\n" STORES "[sync]\nguard = 7\n", {
	    "guard=7", "loc0.1=Y", "store0.line=3" } },
	{ "relative secret beside the config", "sub/t.conf",
	    "[store a]\nshop = a.myshopify.com\ntoken_file = s.token\n", {
	    "store0.token_file=sub/s.token" } },
	{ "store names with _ and -, no spaces around =", NULL,
	    "[store my_store-2]\nshop=my-shop-2.myshopify.com\n"
	    "token_file=a.token\n", {
	    "store0.name=my_store-2", "store0.shop=my-shop-2.myshopify.com" } },
	{ "utf-8 location and # inside a word", NULL,
	    STORES "[locations]\nLager M\xc3\xbcnchen = Store#2\n", {
	    "loc0.0=Lager M\xc3\xbcnchen", "loc0.1=Store#2" } },
	{ "same shop with different urls", NULL,
	    "[store a]\nshop = a.myshopify.com\ntoken_file = a.token\n"
	    "url = https://localhost:8443/a\n"
	    "[store b]\nshop = a.myshopify.com\ntoken_file = b.token\n"
	    "url = https://localhost:8443/b\n", {
	    "store1.url=https://localhost:8443/b" } },
	{ "symlink to a 0600 token", NULL,
	    "[store a]\nshop = a.myshopify.com\ntoken_file = link.token\n", {
	    "store0.token_file=link.token" } },
	{ "last line without newline", NULL,
	    "[store a]\nshop = a.myshopify.com\ntoken_file = a.token", {
	    "store0.token_file=a.token" } },
	{ "spaces in section header", NULL,
	    "[  store   a  ]\nshop = a.myshopify.com\ntoken_file = a.token\n"
	    "[ sync ]\ninterval = 60000ms\n", {
	    "store0.name=a", "interval=60000" } },
};

/* Parses every good case and checks its fields. */
static void
test_good(void)
{
	char name[512], got[CONF_PATH_MAX], key[64], all[8192];
	const struct good_case *g;
	const char *eq;
	size_t i, j;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		g = &good[i];
		rc = conf_parse(g->path ? g->path : "t.conf", g->text,
		    strlen(g->text), &conf, &errs);
		join_errors(all, sizeof(all));
		snprintf(name, sizeof(name), "good %s: no errors", g->name);
		check_lines(name, all, "");
		snprintf(name, sizeof(name), "good %s: returns 0", g->name);
		CHECK_INT(name, rc, 0);
		for (j = 0; g->want[j] != NULL; j++) {
			if ((eq = strchr(g->want[j], '=')) == NULL)
				continue;
			snprintf(key, sizeof(key), "%.*s",
			    (int)(eq - g->want[j]), g->want[j]);
			snprintf(name, sizeof(name), "good %s: %s", g->name,
			    key);
			field(key, got, sizeof(got));
			CHECK_STR(name, got, eq + 1);
		}
	}
}

#define E(n)	"t.conf:" #n ": "
#define SYNC_ALLOWED	"allowed: interval, state_dir, match, initial, " \
	"direction, api_version, ca_file, overlap, reconcile, " \
	"catalog_refresh, timeout, guard, bulk_threshold, bulk_retry, " \
	"metrics_file, alert_url, alert_after, alert_format, ping_url, " \
	"ping_every"
#define NOTIFY_MUST	"must be https://HOST[:PORT][/PATH][?QUERY] (or " \
	"http:// to localhost), not "
#define URL_MUST	"url must be https://HOST[:PORT][/PATH], not "
#define NEEDS_AUTH	"has no credentials; add token_file, or client_id " \
	"and client_secret_file"
#define ONE_AUTH	"use token_file alone, or client_id with " \
	"client_secret_file"

static const struct bad_case bad[] = {
	{ "empty file", "", 0,
	  E(1) "no [store NAME] section; at least one is required "
	  "(the first is the primary)" },
	{ "only [sync]", "[sync]\ninterval = 5s\n", 0,
	  E(1) "no [store NAME] section; at least one is required "
	  "(the first is the primary)" },
	{ "misspelt key", "[sync]\nintervall = 5s\n" STORES, 0,
	  E(2) "unknown key 'intervall' in [sync]; did you mean 'interval'?" },
	{ "unknown key", "[sync]\nfoo = 1\n" STORES, 0,
	  E(2) "unknown key 'foo' in [sync]; " SYNC_ALLOWED },
	{ "sync key in a store", STORE_A "interval = 5s\n", 0,
	  E(4) "unknown key 'interval' in [store a]; allowed: shop, "
	  "token_file, client_id, client_secret_file, url, buffer" },
	{ "unknown section skips its keys", "[syncc]\nbar = 1\n" STORES, 0,
	  E(1) "unknown section [syncc]; allowed: [sync], [store NAME], "
	  "[locations]" },
	{ "duplicate [sync]", "[sync]\n[sync]\ninterval = 1s\n" STORES, 0,
	  E(2) "duplicate section [sync] (first at line 1)" },
	{ "duplicate [locations]",
	  STORES "[locations]\nA = B\n[locations]\nC = D\n", 0,
	  E(9) "duplicate section [locations] (first at line 7)" },
	{ "duplicate store name",
	  STORES "[store a]\nshop = c.myshopify.com\ntoken_file = c.token\n", 0,
	  E(7) "duplicate section [store a] (first at line 1)" },
	{ "duplicate key in [sync]",
	  "[sync]\ninterval = 5s\ninterval = 6s\n" STORES, 0,
	  E(3) "duplicate key 'interval' in [sync] (first at line 2)" },
	{ "duplicate key in a store",
	  "[store a]\nshop = a.myshopify.com\nshop = b.myshopify.com\n"
	  "token_file = a.token\n", 0,
	  E(3) "duplicate key 'shop' in [store a] (first at line 2)" },
	{ "key outside a section", "interval = 5s\n" STORES, 0,
	  E(1) "key 'interval' outside a section; put it under [sync] or "
	  "[store NAME]" },
	{ "line without =", "[sync]\ninterval 5s\n" STORES, 0,
	  E(2) "malformed line 'interval 5s': expected 'key = value' or a "
	  "[section] header" },
	{ "no key before =", "[sync]\n = 5s\n" STORES, 0,
	  E(2) "malformed line: no key before '='" },
	{ "trailing garbage after a value", "[sync]\ninterval = 5s 10s\n"
	  STORES, 0,
	  E(2) "interval must be a duration such as 500ms, 2s, 1m or 1h, "
	  "not '5s 10s'" },
	{ "empty value", "[sync]\ninterval =\n" STORES, 0,
	  E(2) "empty value for 'interval' in [sync]" },
	{ "empty value before a comment", "[sync]\nmatch =   # none\n"
	  STORES, 0,
	  E(2) "empty value for 'match' in [sync]" },
	{ "NUL byte", "[sync]\nin\0terval = 5s\n" STORES,
	  sizeof("[sync]\nin\0terval = 5s\n" STORES) - 1,
	  E(2) "NUL byte in line" },
	{ "escape byte", "[sync]\nmatch = sku\x1b[31m\n" STORES, 0,
	  E(2) "control byte 0x1b in line" },
	{ "interval too short", "[sync]\ninterval = 50ms\n" STORES, 0,
	  E(2) "interval must be between 100ms and 1h, not '50ms'" },
	{ "interval zero", "[sync]\ninterval = 0s\n" STORES, 0,
	  E(2) "interval must be between 100ms and 1h, not '0s'" },
	{ "interval too long", "[sync]\ninterval = 61m\n" STORES, 0,
	  E(2) "interval must be between 100ms and 1h, not '61m'" },
	{ "interval without unit", "[sync]\ninterval = 5\n" STORES, 0,
	  E(2) "interval must be a duration such as 500ms, 2s, 1m or 1h, "
	  "not '5'" },
	{ "match", "[sync]\nmatch = name\n" STORES, 0,
	  E(2) "match must be handle, sku or barcode, not 'name'" },
	{ "match is case-sensitive", "[sync]\nmatch = SKU\n" STORES, 0,
	  E(2) "match must be handle, sku or barcode, not 'SKU'" },
	{ "initial", "[sync]\ninitial = first\n" STORES, 0,
	  E(2) "initial must be primary, keep or min, not 'first'" },
	{ "direction", "[sync]\ndirection = both\n" STORES, 0,
	  E(2) "direction must be two-way or one-way, not 'both'" },
	{ "api_version month 13", "[sync]\napi_version = 2026-13\n" STORES, 0,
	  E(2) "api_version must be YYYY-MM such as 2026-07, not '2026-13'" },
	{ "api_version word", "[sync]\napi_version = unstable\n" STORES, 0,
	  E(2) "api_version must be YYYY-MM such as 2026-07, not 'unstable'" },
	{ "state_dir relative", "[sync]\nstate_dir = var/lib\n" STORES, 0,
	  E(2) "state_dir must be an absolute path (starting with /), "
	  "not 'var/lib'" },
	{ "state_dir with a blank", "[sync]\nstate_dir = /var/my dir\n"
	  STORES, 0,
	  E(2) "state_dir must be one path without blanks, not '/var/my dir'" },
	{ "ca_file missing", "[sync]\nca_file = /nonexistent/ca.pem\n"
	  STORES, 0,
	  E(2) "ca_file /nonexistent/ca.pem: No such file or directory" },
	{ "ca_file a directory", "[sync]\nca_file = /\n" STORES, 0,
	  E(2) "ca_file / is not a regular file" },
	{ "ca_file relative", "[sync]\nca_file = ca.pem\n" STORES, 0,
	  E(2) "ca_file must be an absolute path (starting with /), "
	  "not 'ca.pem'" },
	{ "metrics_file relative", "[sync]\nmetrics_file = invsync.prom\n"
	  STORES, 0,
	  E(2) "metrics_file must be an absolute path (starting with /), "
	  "not 'invsync.prom'" },
	{ "metrics_file a directory", "[sync]\nmetrics_file = /var/lib/\n"
	  STORES, 0,
	  E(2) "metrics_file must name a file, not the directory '/var/lib/'" },
	{ "metrics_file dot-dot", "[sync]\nmetrics_file = /var/..\n" STORES, 0,
	  E(2) "metrics_file must name a file, not the directory '/var/..'" },
	{ "metrics_file with a blank", "[sync]\nmetrics_file = /a b.prom\n"
	  STORES, 0,
	  E(2) "metrics_file must be one path without blanks, "
	  "not '/a b.prom'" },
	{ "alert_url over http elsewhere", "[sync]\nalert_url = "
	  "http://hooks.example.com/secret/path?key=s3cret\n" STORES, 0,
	  E(2) "alert_url " NOTIFY_MUST "'http://hooks.example.com...' (http "
	  "only to localhost, 127.0.0.1 or [::1]; use https)" },
	{ "alert_url http to a loopback look-alike", "[sync]\nalert_url = "
	  "http://127.0.0.1.example.com/x\n" STORES, 0,
	  E(2) "alert_url " NOTIFY_MUST "'http://127.0.0.1.example.com...' "
	  "(http only to localhost, 127.0.0.1 or [::1]; use https)" },
	{ "alert_url other scheme", "[sync]\nalert_url = ftp://h/x\n"
	  STORES, 0,
	  E(2) "alert_url " NOTIFY_MUST "'ftp://h...' (only https is allowed "
	  "(or http to localhost))" },
	{ "alert_url user name", "[sync]\nalert_url = https://u:pw@h/x\n"
	  STORES, 0,
	  E(2) "alert_url " NOTIFY_MUST "'https://u:pw@h...' (no user name "
	  "allowed)" },
	{ "ping_url fragment", "[sync]\nping_url = https://h/x#y\n" STORES, 0,
	  E(2) "ping_url " NOTIFY_MUST "'https://h...' (no fragment allowed)" },
	{ "ping_url bad port", "[sync]\nping_url = https://h:0/x\n" STORES, 0,
	  E(2) "ping_url " NOTIFY_MUST "'https://h:0...' (bad port)" },
	{ "alert_format unknown", "[sync]\nalert_format = discord\n" STORES, 0,
	  E(2) "alert_format must be json, slack or ntfy, not 'discord'" },
	{ "alert_after zero", "[sync]\nalert_after = 0s\n" STORES, 0,
	  E(2) "alert_after must be between 1s and 24h, not '0s'" },
	{ "ping_every too long", "[sync]\nping_every = 2h\n" STORES, 0,
	  E(2) "ping_every must be between 1s and 1h, not '2h'" },
	{ "reconcile shorter than interval",
	  "[sync]\ninterval = 1h\nreconcile = 30m\n" STORES, 0,
	  E(3) "reconcile (30m) must not be shorter than interval (1h)" },
	{ "default reconcile shorter than interval",
	  "[sync]\ninterval = 1h\n" STORES, 0,
	  E(2) "reconcile (15m) must not be shorter than interval (1h)" },
	{ "bulk threshold over the maximum",
	  "[sync]\nbulk_threshold = 10000001\n" STORES, 0,
	  E(2) "bulk_threshold must be a whole number of variants from 0 to "
	  "10000000 (0 never uses bulk operations), not '10000001'" },
	{ "bulk threshold with a unit", "[sync]\nbulk_threshold = 5k\n" STORES,
	  0, E(2) "bulk_threshold must be a whole number of variants from 0 to "
	  "10000000 (0 never uses bulk operations), not '5k'" },
	{ "bulk threshold empty", "[sync]\nbulk_threshold =\n" STORES, 0,
	  E(2) "empty value for 'bulk_threshold' in [sync]" },
	{ "guard over 100", "[sync]\nguard = 150\n" STORES, 0,
	  E(2) "guard must be a whole percent from 0 to 100 (0 disables), "
	  "not '150'" },
	{ "guard negative", "[sync]\nguard = -1\n" STORES, 0,
	  E(2) "guard must be a whole percent from 0 to 100 (0 disables), "
	  "not '-1'" },
	{ "guard fraction", "[sync]\nguard = 50.5\n" STORES, 0,
	  E(2) "guard must be a whole percent from 0 to 100 (0 disables), "
	  "not '50.5'" },
	{ "overlap too long", "[sync]\noverlap = 2h\n" STORES, 0,
	  E(2) "overlap must be between 0s and 1h, not '2h'" },
	{ "timeout too short", "[sync]\ntimeout = 500ms\n" STORES, 0,
	  E(2) "timeout must be between 1s and 5m, not '500ms'" },
	{ "timeout without a unit", "[sync]\ntimeout = 30\n" STORES, 0,
	  E(2) "timeout must be a duration such as 500ms, 2s, 1m or 1h, "
	  "not '30'" },
	{ "catalog_refresh too short", "[sync]\ncatalog_refresh = 1s\n"
	  STORES, 0,
	  E(2) "catalog_refresh must be between 10s and 24h, not '1s'" },
	{ "store without a name", "[store]\nshop = a.myshopify.com\n", 0,
	  E(1) "store name must be 1 to 63 letters, digits, '_' or '-': "
	  "[store NAME], not ''" },
	{ "store name with a blank", "[store a b]\n" STORE_B, 0,
	  E(1) "store name must be 1 to 63 letters, digits, '_' or '-': "
	  "[store NAME], not 'a b'" },
	{ "store name of 64 bytes",
	  "[store aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]"
	  "\n" STORE_B, 0,
	  E(1) "store name must be 1 to 63 letters, digits, '_' or '-': "
	  "[store NAME], not 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaa'" },
	{ "store without shop", "[store a]\ntoken_file = a.token\n", 0,
	  E(1) "[store a] has no shop; add shop = NAME.myshopify.com" },
	{ "store without credentials", "[store a]\nshop = a.myshopify.com\n",
	  0, E(1) "[store a] " NEEDS_AUTH },
	{ "token_file and client_id", STORE_A "client_id = abc\n", 0,
	  E(1) "[store a] has token_file and client_id; " ONE_AUTH },
	{ "token_file and client_secret_file",
	  STORE_A "client_secret_file = c.secret\n", 0,
	  E(1) "[store a] has token_file and client_secret_file; " ONE_AUTH },
	{ "all three auth keys",
	  STORE_A "client_id = abc\nclient_secret_file = c.secret\n", 0,
	  E(1) "[store a] has token_file and client_id and "
	  "client_secret_file; " ONE_AUTH },
	{ "client_id alone",
	  "[store a]\nshop = a.myshopify.com\nclient_id = abc\n", 0,
	  E(1) "[store a] has client_id but no client_secret_file" },
	{ "client_secret_file alone",
	  "[store a]\nshop = a.myshopify.com\nclient_secret_file = c.secret\n",
	  0, E(1) "[store a] has client_secret_file but no client_id" },
	{ "client_id with a blank",
	  "[store a]\nshop = a.myshopify.com\nclient_id = ab cd\n"
	  "client_secret_file = c.secret\n", 0,
	  E(3) "client_id must be one word of at most 255 printable ASCII "
	  "characters, not 'ab cd'" },
	{ "shop in capitals",
	  "[store a]\nshop = Urbanwear.myshopify.com\ntoken_file = a.token\n", 0,
	  E(2) "shop must be a NAME.myshopify.com host (NAME of lowercase "
	  "letters, digits and hyphens), not 'Urbanwear.myshopify.com'" },
	{ "shop not on myshopify.com",
	  "[store a]\nshop = shop.example.com\ntoken_file = a.token\n", 0,
	  E(2) "shop must be a NAME.myshopify.com host (NAME of lowercase "
	  "letters, digits and hyphens), not 'shop.example.com'" },
	{ "shop with empty name",
	  "[store a]\nshop = .myshopify.com\ntoken_file = a.token\n", 0,
	  E(2) "shop must be a NAME.myshopify.com host (NAME of lowercase "
	  "letters, digits and hyphens), not '.myshopify.com'" },
	{ "token_file missing",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = missing.token\n", 0,
	  E(3) "token_file missing.token: No such file or directory" },
	{ "token_file mode 0644",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = open.token\n", 0,
	  E(3) "token_file open.token is readable by group or others "
	  "(mode 0644); run: chmod 600 open.token" },
	{ "token_file mode 0640",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = group.token\n", 0,
	  E(3) "token_file group.token is readable by group or others "
	  "(mode 0640); run: chmod 600 group.token" },
	{ "token_file mode 0604",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = other.token\n", 0,
	  E(3) "token_file other.token is readable by group or others "
	  "(mode 0604); run: chmod 600 other.token" },
	{ "token_file mode 0620",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = gw.token\n", 0,
	  E(3) "token_file gw.token is accessible by group or others "
	  "(mode 0620); run: chmod 600 gw.token" },
	{ "token_file a directory",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = dir.token\n", 0,
	  E(3) "token_file dir.token is not a regular file" },
	{ "client_secret_file mode 0644",
	  "[store a]\nshop = a.myshopify.com\nclient_id = x\n"
	  "client_secret_file = open.token\n", 0,
	  E(4) "client_secret_file open.token is readable by group or others "
	  "(mode 0644); run: chmod 600 open.token" },
	{ "token_file with a blank",
	  "[store a]\nshop = a.myshopify.com\ntoken_file = a.token b\n", 0,
	  E(3) "token_file must be one path without blanks, not 'a.token b'" },
	{ "url over http", STORE_A "url = http://localhost:8443\n", 0,
	  E(4) URL_MUST "'http://localhost:8443' (only https is allowed)" },
	{ "url with a user", STORE_A "url = https://u:p@localhost/\n", 0,
	  E(4) URL_MUST "'https://u:p@localhost/' (no user name allowed)" },
	{ "url with a query", STORE_A "url = https://localhost/x?a=1\n", 0,
	  E(4) URL_MUST "'https://localhost/x?a=1' (no query allowed)" },
	{ "url with a fragment", STORE_A "url = https://localhost/#top\n", 0,
	  E(4) URL_MUST "'https://localhost/#top' (no fragment allowed)" },
	{ "url port 0", STORE_A "url = https://localhost:0/\n", 0,
	  E(4) URL_MUST "'https://localhost:0/' (bad port)" },
	{ "url port 70000", STORE_A "url = https://localhost:70000\n", 0,
	  E(4) URL_MUST "'https://localhost:70000' (bad port)" },
	{ "url without host", STORE_A "url = https://:8443/x\n", 0,
	  E(4) URL_MUST "'https://:8443/x' (bad host)" },
	{ "url with a blank in the path", STORE_A "url = https://h/a b\n", 0,
	  E(4) URL_MUST "'https://h/a b' (bad character in path)" },
	{ "same shop and url twice",
	  STORE_A "[store b]\nshop = a.myshopify.com\ntoken_file = b.token\n",
	  0, E(4) "[store b] has the same shop and url as [store a] (line 1)" },
	{ "locations with three names for two stores",
	  STORES "[locations]\nA = B = C\n", 0,
	  E(8) "[locations] line has 3 names but there are 2 [store] "
	  "sections; give one location per store, in [store] order" },
	{ "locations with one name for two stores",
	  STORES "[locations]\nA\n", 0,
	  E(8) "[locations] line has 1 name but there are 2 [store] "
	  "sections; give one location per store, in [store] order" },
	{ "locations with an empty name", STORES "[locations]\nA =\n", 0,
	  E(8) "empty location name in [locations]; expected 'NAME = NAME', "
	  "one per store in [store] order" },
	{ "locations with a bad gid",
	  STORES "[locations]\ngid://shopify/Location/abc = B\n", 0,
	  E(8) "location id 'gid://shopify/Location/abc' must be "
	  "gid://shopify/Location/NUMBER" },
	{ "location linked twice",
	  STORES "[locations]\nA = B\nA = C\n", 0,
	  E(9) "location 'A' of [store a] is already linked at line 8" },
	{ "text after a section header", "[sync] x\n" STORES, 0,
	  E(1) "unexpected text 'x' after section header" },
	{ "section header without ]", "[sync\ninterval = 1s\n" STORES, 0,
	  E(1) "malformed section header '[sync': missing ']'" },
	{ "untrusted bytes sanitised",
	  "[sync]\nmatch = na\xc3\xa9me\nint\xc3\xa9rval = 5s\n" STORES, 0,
	  E(2) "match must be handle, sku or barcode, not 'na??me'\n"
	  E(3) "unknown key 'int??rval' in [sync]; did you mean 'interval'?" },
	{ "long value quoted short",
	  "[sync]\nmatch = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" STORES, 0,
	  E(2) "match must be handle, sku or barcode, not 'xxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'" },
	{ "five mistakes, five lines, in file order",
	  "[sync]\n"			/* 1 */
	  "intervall = 5s\n"		/* 2: unknown key */
	  "match = name\n"		/* 3: bad enum */
	  "[store a]\n"			/* 4: no credentials */
	  "shop = a.myshopify.com\n"	/* 5 */
	  "[store b]\n"			/* 6 */
	  "shop = b.myshopify.com\n"	/* 7 */
	  "token_file = open.token\n"	/* 8: mode 0644 */
	  "[locations]\n"		/* 9 */
	  "A = B = C\n",		/* 10: three names */
	  0,
	  E(2) "unknown key 'intervall' in [sync]; did you mean 'interval'?\n"
	  E(3) "match must be handle, sku or barcode, not 'name'\n"
	  E(4) "[store a] " NEEDS_AUTH "\n"
	  E(8) "token_file open.token is readable by group or others "
	  "(mode 0644); run: chmod 600 open.token\n"
	  E(10) "[locations] line has 3 names but there are 2 [store] "
	  "sections; give one location per store, in [store] order" },
	{ "errors of the whole file sorted by line",
	  "[store a]\n"			/* 1: no shop, no credentials */
	  "[sync]\n"			/* 2 */
	  "interval = 2h\n"		/* 3 */
	  "guard = x\n"			/* 4 */
	  "bogus\n",			/* 5 */
	  0,
	  E(1) "[store a] has no shop; add shop = NAME.myshopify.com\n"
	  E(1) "[store a] " NEEDS_AUTH "\n"
	  E(3) "interval must be between 100ms and 1h, not '2h'\n"
	  E(4) "guard must be a whole percent from 0 to 100 (0 disables), "
	  "not 'x'\n"
	  E(5) "malformed line 'bogus': expected 'key = value' or a "
	  "[section] header" },
};

/* Parses every bad case and compares its error lines exactly. */
static void
test_bad(void)
{
	char name[256], got[16384];
	const struct bad_case *b;
	size_t i, nwant;
	const char *s;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = &bad[i];
		rc = conf_parse("t.conf", b->text,
		    b->len ? b->len : strlen(b->text), &conf, &errs);
		join_errors(got, sizeof(got));
		snprintf(name, sizeof(name), "bad %s", b->name);
		check_lines(name, got, b->want);
		for (nwant = 1, s = b->want; (s = strchr(s, '\n')); s++)
			nwant++;
		snprintf(name, sizeof(name), "bad %s: returns -1, %zu errors",
		    b->name, nwant);
		CHECK(name, rc == -1 && errs.total == nwant && errs.n == nwant);
	}
}

/* Lines of 4096 bytes pass, longer ones are refused and parsing goes on. */
static void
test_long_lines(void)
{
	static char text[3 * 4200];
	char got[4096];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "[sync]\n#");
	memset(text + n, 'x', 4095);
	n += 4095;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n#");
	memset(text + n, 'y', 4096);
	n += 4096;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nmatch = x\n"
	    STORES);
	conf_parse("t.conf", text, n, &conf, &errs);
	join_errors(got, sizeof(got));
	check_lines("long line: 4096 bytes pass, 4097 refused", got,
	    E(3) "line is longer than 4096 bytes\n"
	    E(4) "match must be handle, sku or barcode, not 'x'");
}

/* More errors than CONF_MAX_ERRORS: the first lines kept, all counted. */
static void
test_many_errors(void)
{
	static char text[8192];
	size_t i, n;

	n = (size_t)snprintf(text, sizeof(text), "[store a]\n");
	for (i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus\n");
	conf_parse("t.conf", text, n, &conf, &errs);
	CHECK_INT("many errors: total counts all", errs.total, 72);
	CHECK_INT("many errors: n kept", errs.n, CONF_MAX_ERRORS);
	CHECK_STR("many errors: first is the header's", errs.msg[0],
	    E(1) "[store a] has no shop; add shop = NAME.myshopify.com");
	CHECK_STR("many errors: last kept is line 63",
	    errs.msg[CONF_MAX_ERRORS - 1],
	    E(63) "malformed line 'bogus': expected 'key = value' or a "
	    "[section] header");
}

/* A ninth [store] section is refused. */
static void
test_many_stores(void)
{
	static char text[4096];
	char got[4096];
	size_t i, n = 0;

	for (i = 0; i < CONF_MAX_STORES + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "[store s%zu]\nshop = s%zu.myshopify.com\n"
		    "token_file = a.token\n", i, i);
	conf_parse("t.conf", text, n, &conf, &errs);
	join_errors(got, sizeof(got));
	check_lines("nine stores", got,
	    E(25) "too many [store] sections (at most 8)");
	CHECK_INT("nine stores: eight kept", conf.nstores, CONF_MAX_STORES);
}

/* Absolute secret paths and $CREDENTIALS_DIRECTORY lookup. */
static void
test_credentials_dir(void)
{
	char text[2048], want[2048], got[2048], creds[TMP_MAX_PATH + 16];
	int rc;

	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = %s/b.token\n", tmpdir);
	rc = conf_parse("t.conf", text, strlen(text), &conf, &errs);
	snprintf(want, sizeof(want), "%s/b.token", tmpdir);
	CHECK("absolute token_file: ok", rc == 0 && errs.total == 0);
	CHECK_STR("absolute token_file: kept", conf.stores[0].token_file, want);

	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = %s/open.token\n", tmpdir);
	conf_parse("t.conf", text, strlen(text), &conf, &errs);
	join_errors(got, sizeof(got));
	snprintf(want, sizeof(want), E(3) "token_file %s/open.token is "
	    "readable by group or others (mode 0644); run: chmod 600 "
	    "%s/open.token", tmpdir, tmpdir);
	check_lines("absolute token_file mode 0644", got, want);

	snprintf(creds, sizeof(creds), "%s/creds", tmpdir);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = cred.token\n[store b]\nshop = b.myshopify.com\n"
	    "token_file = ./b.token\n");
	rc = conf_parse("t.conf", text, strlen(text), &conf, &errs);
	join_errors(got, sizeof(got));
	check_lines("credentials dir: no errors", got, "");
	snprintf(want, sizeof(want), "%s/cred.token", creds);
	CHECK_STR("credentials dir: bare name looked up there",
	    conf.stores[0].token_file, want);
	CHECK_STR("credentials dir: a name with / is not",
	    conf.stores[1].token_file, "./b.token");

	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = a.token\n");
	conf_parse("t.conf", text, strlen(text), &conf, &errs);
	join_errors(got, sizeof(got));
	snprintf(want, sizeof(want), E(3) "token_file %s/a.token: No such "
	    "file or directory", creds);
	check_lines("credentials dir: missing there", got, want);

	/* systemd's credentials may carry ACL-derived group bits (0440) */
	snprintf(want, sizeof(want), "%s/grp.token", creds);
	put_file("creds/grp.token", "shpat_grp\n", 10, 0440);
	snprintf(text, sizeof(text), "[store a]\nshop = a.myshopify.com\n"
	    "token_file = grp.token\n");
	conf_parse("t.conf", text, strlen(text), &conf, &errs);
	join_errors(got, sizeof(got));
	check_lines("credentials dir: mode 0440 accepted there", got, "");
	CHECK("credentials dir: a 0440 credential is read",
	    conf_read_secret(want, got, sizeof(got), text, sizeof(text)) == 0 &&
	    strcmp(got, "shpat_grp") == 0);
	unsetenv("CREDENTIALS_DIRECTORY");
	CHECK("outside the credentials dir 0440 is refused",
	    conf_read_secret(want, got, sizeof(got), text, sizeof(text)) == -1 &&
	    strstr(text, "chmod 600") != NULL);
}

/* conf_load: unreadable paths give one "PATH: cannot read:" error. */
static void
test_load(void)
{
	char got[2048];

	CHECK_INT("load missing: -1", conf_load("nope.conf", &conf, &errs), -1);
	join_errors(got, sizeof(got));
	check_lines("load missing", got,
	    "nope.conf: cannot read: No such file or directory");
	CHECK_INT("load directory: -1", conf_load("sub", &conf, &errs), -1);
	join_errors(got, sizeof(got));
	check_lines("load directory", got, "sub: cannot read: Is a directory");
	put_file("sub/load.conf", STORE_A, strlen(STORE_A), 0644);
	put_file("sub/a.token", "t\n", 2, 0600);
	CHECK_INT("load file: 0", conf_load("sub/load.conf", &conf, &errs), 0);
	CHECK_STR("load file: secret beside it", conf.stores[0].token_file,
	    "sub/a.token");
	put_file("sub/bad.conf", "[sync]\nmatch = x\n",
	    strlen("[sync]\nmatch = x\n"), 0644);
	conf_load("sub/bad.conf", &conf, &errs);
	join_errors(got, sizeof(got));
	check_lines("load file with errors", got,
	    "sub/bad.conf:1: no [store NAME] section; at least one is required "
	    "(the first is the primary)\n"
	    "sub/bad.conf:2: match must be handle, sku or barcode, not 'x'");
}

struct secret_case {
	const char	*name;
	const char	*content;
	size_t		 len;
	mode_t		 mode;
	size_t		 bufsz;
	const char	*want;		/* the secret, or NULL */
	const char	*why;		/* the reason, when want is NULL */
};

static const struct secret_case secrets[] = {
	{ "plain", "shpat_abc\n", 10, 0600, 64, "shpat_abc", NULL },
	{ "no newline", "shpat_abc", 9, 0400, 64, "shpat_abc", NULL },
	{ "crlf", "shpat_abc\r\n", 11, 0600, 64, "shpat_abc", NULL },
	{ "fills the buffer", "1234567", 7, 0600, 8, "1234567", NULL },
	{ "two newlines", "tok\n\n", 5, 0600, 64, NULL,
	  "s.secret holds a NUL or control byte at offset 3" },
	{ "mode 0644", "tok\n", 4, 0644, 64, NULL,
	  "s.secret is readable by group or others (mode 0644); "
	  "run: chmod 600 s.secret" },
	{ "mode 0640", "tok\n", 4, 0640, 64, NULL,
	  "s.secret is readable by group or others (mode 0640); "
	  "run: chmod 600 s.secret" },
	{ "mode 0602", "tok\n", 4, 0602, 64, NULL,
	  "s.secret is accessible by group or others (mode 0602); "
	  "run: chmod 600 s.secret" },
	{ "empty", "", 0, 0600, 64, NULL, "s.secret is empty" },
	{ "only a newline", "\n", 1, 0600, 64, NULL, "s.secret is empty" },
	{ "NUL inside", "ab\0cd\n", 6, 0600, 64, NULL,
	  "s.secret holds a NUL or control byte at offset 2" },
	{ "tab inside", "ab\tcd", 5, 0600, 64, NULL,
	  "s.secret holds a NUL or control byte at offset 2" },
	{ "too long", "123456789\n", 10, 0600, 8, NULL,
	  "s.secret is longer than 7 bytes" },
};

/* conf_read_secret over the secret table, a directory and a missing file. */
static void
test_read_secret(void)
{
	char name[128], buf[64], why[256];
	const struct secret_case *s;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		s = &secrets[i];
		unlink("s.secret");
		put_file("s.secret", s->content, s->len, s->mode);
		why[0] = '\0';
		memset(buf, 'Z', sizeof(buf));
		rc = conf_read_secret("s.secret", buf, s->bufsz, why,
		    sizeof(why));
		snprintf(name, sizeof(name), "secret %s", s->name);
		if (s->want != NULL) {
			CHECK_INT(name, rc, 0);
			snprintf(name, sizeof(name), "secret %s: value",
			    s->name);
			CHECK_STR(name, buf, s->want);
		} else {
			CHECK_INT(name, rc, -1);
			snprintf(name, sizeof(name), "secret %s: why", s->name);
			CHECK_STR(name, why, s->why);
			snprintf(name, sizeof(name), "secret %s: wiped",
			    s->name);
			CHECK(name, buf[0] == '\0');
		}
	}
	unlink("s.secret");
	rc = conf_read_secret("dir.token", buf, sizeof(buf), why, sizeof(why));
	CHECK_INT("secret directory", rc, -1);
	CHECK_STR("secret directory: why", why,
	    "dir.token is not a regular file");
	rc = conf_read_secret("none.token", buf, sizeof(buf), why, sizeof(why));
	CHECK_INT("secret missing", rc, -1);
	CHECK_STR("secret missing: why", why,
	    "none.token: No such file or directory");
}

struct duration_case {
	const char	*in;
	int		 rc;
	int64_t		 ms;
};

static const struct duration_case durations[] = {
	{ "500ms", 0, 500 },
	{ "2s", 0, 2000 },
	{ "1m", 0, 60000 },
	{ "1h", 0, 3600000 },
	{ "0s", 0, 0 },
	{ "0ms", 0, 0 },
	{ "007s", 0, 7000 },
	{ "90s", 0, 90000 },
	{ "9223372036854775807ms", 0, INT64_MAX },
	{ "9223372036854775808ms", -1, 0 },
	{ "9223372036854776s", -1, 0 },
	{ "2562047788016h", -1, 0 },
	{ "2562047788015h", 0, 2562047788015LL * 3600000 },
	{ "5", -1, 0 },
	{ "5x", -1, 0 },
	{ "-1s", -1, 0 },
	{ "+1s", -1, 0 },
	{ "1.5s", -1, 0 },
	{ "", -1, 0 },
	{ "ms", -1, 0 },
	{ " 5s", -1, 0 },
	{ "5 s", -1, 0 },
	{ "5s ", -1, 0 },
	{ "5S", -1, 0 },
	{ "1d", -1, 0 },
	{ "1m30s", -1, 0 },
	{ "5sec", -1, 0 },
};

/* conf_parse_duration over its table. */
static void
test_durations(void)
{
	char name[128];
	int64_t ms;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		ms = -42;
		rc = conf_parse_duration(durations[i].in, &ms);
		snprintf(name, sizeof(name), "duration '%s'", durations[i].in);
		if (durations[i].rc == 0)
			CHECK(name, rc == 0 && ms == durations[i].ms);
		else
			CHECK(name, rc == -1 && ms == -42);
	}
}

static const char print_defaults[] =
	"[sync]\n"
	"interval = 5s\n"
	"state_dir = /var/lib/invsync\n"
	"match = handle\n"
	"initial = primary\n"
	"direction = two-way\n"
	"api_version = 2026-07\n"
	"# ca_file not set: built-in search list\n"
	"overlap = 1m\n"
	"reconcile = 15m\n"
	"catalog_refresh = 1m\n"
	"timeout = 30s\n"
	"guard = 50\n"
	"bulk_threshold = 1000\n"
	"bulk_retry = 24h\n"
	"# metrics_file not set: no metrics written\n"
	"# alert_url not set: no alerts sent\n"
	"alert_after = 5m\n"
	"alert_format = json\n"
	"# ping_url not set: no pings sent\n"
	"ping_every = 1m\n"
	"\n"
	"[store a]\n"
	"shop = a.myshopify.com\n"
	"token_file = a.token\n"
	"\n"
	"[store b]\n"
	"shop = b.myshopify.com\n"
	"token_file = b.token\n";

static const char print_full_in[] =
	"[locations]\n"
	"Main Warehouse   =   US Warehouse   # names\n"
	"gid://shopify/Location/1 = gid://shopify/Location/2\n"
	"[store src]\n"
	"shop = src.myshopify.com\n"
	"token_file = sub/s.token\n"
	"[store dst]\n"
	"shop = dst.myshopify.com\n"
	"client_id = 0123abcd\n"
	"client_secret_file = c.secret\n"
	"url = https://localhost:8443/store/dst/\n"
	"[sync]\n"
	"guard = 0%\n"
	"bulk_threshold = 250\n"
	"bulk_retry = 90m\n"
	"metrics_file = /var/lib/node_exporter/textfile/invsync.prom\n"
	"alert_after = 90s\n"
	"alert_format = slack\n"
	"ping_every = 30s\n"
	"catalog_refresh = 120s\n"
	"timeout = 2500ms\n"
	"reconcile = 7200000ms\n"
	"overlap = 90s\n"
	"interval = 1500ms\n"
	"ca_file = /etc/passwd\n"
	"api_version = 2025-10\n"
	"direction = one-way\n"
	"initial = keep\n"
	"match = barcode\n"
	"state_dir = /srv/invsync/\n";

static const char print_full[] =
	"[sync]\n"
	"interval = 1500ms\n"
	"state_dir = /srv/invsync/\n"
	"match = barcode\n"
	"initial = keep\n"
	"direction = one-way\n"
	"api_version = 2025-10\n"
	"ca_file = /etc/passwd\n"
	"overlap = 90s\n"
	"reconcile = 2h\n"
	"catalog_refresh = 2m\n"
	"timeout = 2500ms\n"
	"guard = 0\n"
	"bulk_threshold = 250\n"
	"bulk_retry = 90m\n"
	"metrics_file = /var/lib/node_exporter/textfile/invsync.prom\n"
	"# alert_url not set: no alerts sent\n"
	"alert_after = 90s\n"
	"alert_format = slack\n"
	"# ping_url not set: no pings sent\n"
	"ping_every = 30s\n"
	"\n"
	"[store src]\n"
	"shop = src.myshopify.com\n"
	"token_file = sub/s.token\n"
	"\n"
	"[store dst]\n"
	"shop = dst.myshopify.com\n"
	"client_id = 0123abcd\n"
	"client_secret_file = c.secret\n"
	"url = https://localhost:8443/store/dst\n"
	"\n"
	"[locations]\n"
	"Main Warehouse = US Warehouse\n"
	"gid://shopify/Location/1 = gid://shopify/Location/2\n";

/* Prints conf into buf (size sz) through a memory stream. */
static void
print_to(char *buf, size_t sz)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	if ((f = open_memstream(&p, &n)) == NULL)
		return;
	conf_print(&conf, f);
	fclose(f);
	snprintf(buf, sz, "%s", p ? p : "");
	free(p);
}

/*
 * alert_url and ping_url are printed by their origin only, as comments:
 * their path or query may be a secret (a webhook, an ntfy topic).
 */
static void
test_print_notify_hidden(void)
{
	static const char text[] = "[sync]\n"
	    "alert_url = https://hooks.slack.com/services/T0/B0/s3cretXYZ\n"
	    "ping_url = http://127.0.0.1:8000/ping/uuid?key=s3cret\n" STORES;
	char got[8192];

	CHECK_INT("print notify: parses",
	    conf_parse("t.conf", text, strlen(text), &conf, &errs), 0);
	print_to(got, sizeof(got));
	CHECK("print notify: no secret", strstr(got, "s3cret") == NULL);
	CHECK("print notify: alert_url's origin",
	    strstr(got, "# alert_url = https://hooks.slack.com/... (its path "
	    "and query not shown)\n") != NULL);
	CHECK("print notify: ping_url's origin",
	    strstr(got, "# ping_url = http://127.0.0.1:8000/... (its path "
	    "and query not shown)\n") != NULL);
}

/* Parses text, prints it, compares with golden, then re-parses the print. */
static void
golden(const char *name, const char *text, const char *want)
{
	char got[8192], again[8192], n[128];
	int rc;

	rc = conf_parse("t.conf", text, strlen(text), &conf, &errs);
	snprintf(n, sizeof(n), "print %s: parses", name);
	CHECK_INT(n, rc, 0);
	print_to(got, sizeof(got));
	snprintf(n, sizeof(n), "print %s: golden", name);
	check_lines(n, got, want);
	rc = conf_parse("t.conf", got, strlen(got), &conf, &errs);
	snprintf(n, sizeof(n), "print %s: output parses", name);
	CHECK_INT(n, rc, 0);
	print_to(again, sizeof(again));
	snprintf(n, sizeof(n), "print %s: round trip", name);
	check_lines(n, again, got);
}

/* conf_print golden output; never a secret's content. */
static void
test_print(void)
{
	char got[8192];

	golden("defaults", STORES, print_defaults);
	golden("every key", print_full_in, print_full);
	conf_parse("t.conf", STORES, strlen(STORES), &conf, &errs);
	print_to(got, sizeof(got));
	CHECK("print: no secret content", strstr(got, "shpat") == NULL);
	CHECK("print: token paths, no token", strstr(got, "a.token") != NULL &&
	    strstr(got, "shpat_a") == NULL);
}

/*
 * The shipped example parses with no error except the absent secret files
 * under /etc/invsync (run from the repository root, else skipped).
 */
static void
test_example(void)
{
	static const char path[] = "conf/invsync.conf.example";
	size_t i, other = 0;

	if (access(path, R_OK) == -1) {
		SKIP("example config", "run from the repository root");
		return;
	}
	conf_load(path, &conf, &errs);
	for (i = 0; i < errs.n; i++)
		if (strstr(errs.msg[i], "_file /etc/invsync/") == NULL)
			other++, printf("    %s\n", errs.msg[i]);
	CHECK_INT("example config: only absent secret files", other, 0);
	CHECK_INT("example config: two stores", conf.nstores, 2);
	CHECK_INT("example config: one location line", conf.nloclinks, 1);
}

/* The end of an API version's year, to the second (docs/shopify-api.md §11). */
static void
test_version_days(void)
{
	/* 2026-07 is served until 2027-07-16T15:00:00Z = 1815750000 */
	CHECK_INT("days left " "2026-07", conf_version_days_left("2026-07", 1815750000000LL), 0);
	CHECK_INT("days left " "2026-07", conf_version_days_left("2026-07", 1815750000000LL - 1), 0);
	CHECK_INT("days left " "2026-07", conf_version_days_left("2026-07",
	    1815750000000LL - 86400000LL), 1);
	CHECK_INT("days left " "2026-07", conf_version_days_left("2026-07", 1815750000000LL + 1), -1);
	/* 2026-12-02T00:00:00Z: 2026-01 ends 2027-01-16T15:00Z, 45 days on */
	CHECK_INT("days left " "2026-01", conf_version_days_left("2026-01", 1796169600000LL), 45);
	CHECK_INT("days left " "2026-10", conf_version_days_left("2026-10", 1796169600000LL), 318);
	/* December rolls into the next year; February of a leap year */
	CHECK_INT("days left " "2027-12", conf_version_days_left("2027-12", 1796169600000LL), 745);
	CHECK_INT("days left " "2027-02", conf_version_days_left("2027-02", 1796169600000LL), 441);
}

int
main(void)
{
	int home;

	unsetenv("CREDENTIALS_DIRECTORY");
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_durations();
	test_version_days();
	test_example();
	if ((home = open(".", O_RDONLY | O_DIRECTORY)) == -1) {
		printf("FAIL setup: open .: %s\n", strerror(errno));
		return 1;
	}
	setup();
	test_good();
	test_bad();
	test_long_lines();
	test_many_errors();
	test_many_stores();
	test_credentials_dir();
	test_load();
	test_read_secret();
	test_print();
	test_print_notify_hidden();
	if (fchdir(home) == -1)
		printf("FAIL cleanup: fchdir: %s\n", strerror(errno));
	close(home);
	rm_tree(tmpdir);
	return check_exit();
}
