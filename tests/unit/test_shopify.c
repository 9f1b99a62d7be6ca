/*
 * test_shopify.c: unit tests of agent/shopify.c.  Reply fixtures in
 * tests/unit/fixtures/NAME.json are parsed and dumped, and the dump is
 * compared exactly with NAME.golden; request builders are compared with
 * fixtures/req_*.json (which tests/graphql/validate.py checks against the
 * schema).  Run from the repository root.  UPDATE_GOLDEN=1 rewrites the
 * golden files instead of comparing (review the diff before committing).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "shopify.h"

#define FIXDIR	"tests/unit/fixtures/"

static const char *const byid_ids[] = {
	"gid://shopify/InventoryLevel/1001?inventory_item_id=2001",
	"gid://shopify/InventoryLevel/1002?inventory_item_id=2002",
	"gid://shopify/InventoryLevel/1003?inventory_item_id=2003"
};

/* Reads a whole file; NULL when absent.  Caller frees. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Compares got with file path, or writes it under UPDATE_GOLDEN. */
static void
golden(const char *name, const char *path, const char *got, size_t glen)
{
	char *want;
	size_t wlen;
	FILE *f;

	if (getenv("UPDATE_GOLDEN") != NULL) {
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(got, 1, glen, f) != glen || fclose(f) != 0) {
			printf("FAIL %s: cannot write %s\n", name, path);
			check_failures++;
			return;
		}
		printf("SKIP %s: golden rewritten\n", name);
		return;
	}
	if ((want = slurp(path, &wlen)) == NULL) {
		printf("FAIL %s: missing %s\n", name, path);
		check_failures++;
		return;
	}
	if (wlen == glen && memcmp(want, got, glen) == 0)
		printf("PASS %s\n", name);
	else {
		printf("FAIL %s: output differs from %s; got:\n%s\n", name,
		    path, got);
		check_failures++;
	}
	free(want);
}

/* 1 when the n bytes at p are all zero. */
static int
zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* The bulk and count outputs own no heap memory: nothing to free. */
#define NOFREE(o)	((void)(o))

/*
 * Runs the parser for the fixture's prefix (check_, locations_, catalog_,
 * byid_, adjust_, token_, count_, bulkrun_, bulkstatus_, bulkvariant_,
 * bulklevel_ (one line of a bulk file); anything else: levels) on body; dumps reply and
 * output into f unless f is NULL, and stores the parser's result in
 * *resultp unless NULL.  Returns 1 when a failing parse left the output
 * zeroed (or the parse succeeded).
 */
static int
run_parser(const char *name, const char *body, size_t len, FILE *f,
    enum shopify_result *resultp)
{
	struct shopify_reply rep;
	int ok, clean;

#define RUN(parse, type, print, fr, ...) do {				\
	struct type o;							\
	memset(&o, 0xa5, sizeof(o));					\
	parse(body, len, __VA_ARGS__ &rep, &o);				\
	if (f != NULL)							\
		shopify_reply_print(&rep, f);				\
	ok = rep.result == SHOPIFY_OK ||				\
	    rep.result == SHOPIFY_USER_ERRORS;				\
	if (ok && f != NULL)						\
		print(&o, f);						\
	clean = ok || zeroed(&o, sizeof(o));				\
	if (resultp != NULL)						\
		*resultp = rep.result;					\
	fr(&o);								\
} while (0)

	if (strncmp(name, "check_", 6) == 0)
		RUN(shopify_parse_check, shopify_check, shopify_check_print,
		    shopify_check_free,);
	else if (strncmp(name, "locations_", 10) == 0)
		RUN(shopify_parse_locations, shopify_locations,
		    shopify_locations_print, shopify_locations_free,);
	else if (strncmp(name, "catalog_", 8) == 0)
		RUN(shopify_parse_catalog, shopify_catalog,
		    shopify_catalog_print, shopify_catalog_free,);
	else if (strncmp(name, "byid_", 5) == 0)
		RUN(shopify_parse_levels_by_id, shopify_level_reads,
		    shopify_level_reads_print, shopify_level_reads_free,
		    byid_ids, 3,);
	else if (strncmp(name, "adjust_", 7) == 0)
		RUN(shopify_parse_adjust, shopify_adjust,
		    shopify_adjust_print, shopify_adjust_free,);
	else if (strncmp(name, "token_", 6) == 0)
		RUN(shopify_parse_token, shopify_token, shopify_token_print,
		    shopify_token_free,);
	else if (strncmp(name, "bulkrun_", 8) == 0)
		RUN(shopify_parse_bulk_run, shopify_bulk_op,
		    shopify_bulk_op_print, NOFREE,);
	else if (strncmp(name, "bulkstatus_", 11) == 0)
		RUN(shopify_parse_bulk_status, shopify_bulk_op,
		    shopify_bulk_op_print, NOFREE,);
	else if (strncmp(name, "bulkvariant_", 12) == 0)
		RUN(shopify_parse_bulk_variant, shopify_variant,
		    shopify_variant_print, NOFREE,);
	else if (strncmp(name, "bulklevel_", 10) == 0)
		RUN(shopify_parse_bulk_level, shopify_bulk_level,
		    shopify_bulk_level_print, NOFREE,);
	else if (strncmp(name, "count_", 6) == 0) {
		int64_t n = 0x5a5a5a5a;

		shopify_parse_variants_count(body, len, &rep, &n);
		if (f != NULL)
			shopify_reply_print(&rep, f);
		ok = rep.result == SHOPIFY_OK;
		if (ok && f != NULL)
			shopify_count_print(n, f);
		clean = ok || n == 0;
		if (resultp != NULL)
			*resultp = rep.result;
	} else
		RUN(shopify_parse_levels, shopify_levels,
		    shopify_levels_print, shopify_levels_free,);
#undef RUN
	return clean;
}

static const char *const fixtures[] = {
	"check_ok", "check_access_denied",
	"locations_ok", "locations_empty", "locations_next_null_cursor",
	"catalog_ok", "catalog_too_many_options", "catalog_long_handle",
	"catalog_tracked_string", "catalog_wrong_gid_type",
	"levels_ok", "levels_idle", "levels_location_null",
	"levels_quantities_object", "levels_quantity_float",
	"levels_quantity_range", "levels_no_available",
	"levels_item_mismatch", "levels_bad_time", "levels_missing_field",
	"levels_throttled", "levels_max_cost", "levels_undefined_field",
	"levels_internal_error", "levels_data_null_no_errors",
	"levels_no_data", "levels_bad_cost", "levels_no_throttle_status",
	"levels_errors_string",
	"levels_bad_cursor", "levels_lean_ok", "levels_lean_no_item",
	"byid_ok", "byid_count", "byid_wrong_id", "byid_not_level",
	"adjust_ok", "adjust_noop", "adjust_stale", "adjust_idem_mismatch",
	"adjust_idem_concurrent", "adjust_idem_previous_failed",
	"adjust_multi_errors", "adjust_missing_idempotent",
	"adjust_missing_cfq", "adjust_payload_null",
	"adjust_field_not_strings",
	"token_ok", "token_refused", "token_expires_string", "token_space",
	"hostile_empty", "hostile_truncated", "hostile_object_as_key",
	"hostile_duplicate_key", "hostile_duplicate_escaped_key",
	"hostile_tru", "hostile_nul_escape", "hostile_trailing",
	"hostile_trailing_comma", "hostile_missing_comma",
	"hostile_bad_utf8", "hostile_lone_surrogate", "hostile_root_array",
	"hostile_leading_zero", "hostile_escapes",
	/* the bulk operations' replies and file lines, the variants count */
	"count_ok", "count_at_least", "count_negative", "count_string",
	"count_null",
	"bulkrun_ok", "bulkrun_limit_reached", "bulkrun_null_no_errors",
	"bulkrun_wrong_gid",
	"bulkstatus_completed", "bulkstatus_failed", "bulkstatus_unknown",
	"bulkstatus_count_number", "bulkstatus_count_negative",
	"bulkstatus_http_url", "bulkstatus_other",
	"bulkvariant_ok", "bulkvariant_truncated", "bulkvariant_level_line",
	"bulklevel_ok", "bulklevel_location", "bulklevel_no_parent",
	"bulklevel_fraction", "bulklevel_parent_not_location",
};

static void
test_goldens(void)
{
	char path[256], label[160], *body, *out;
	size_t i, len, olen;
	FILE *f;
	int clean;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(path, sizeof(path), FIXDIR "%s.json", fixtures[i]);
		if ((body = slurp(path, &len)) == NULL) {
			printf("FAIL golden %s: cannot read %s\n", fixtures[i],
			    path);
			check_failures++;
			continue;
		}
		out = NULL;
		if ((f = open_memstream(&out, &olen)) == NULL)
			abort();
		clean = run_parser(fixtures[i], body, len, f, NULL);
		fclose(f);
		snprintf(label, sizeof(label), "golden %s", fixtures[i]);
		snprintf(path, sizeof(path), FIXDIR "%s.golden", fixtures[i]);
		golden(label, path, out, olen);
		snprintf(label, sizeof(label), "no half output %s",
		    fixtures[i]);
		CHECK(label, clean);
		free(out);
		free(body);
	}
}

/*
 * Every prefix of a good reply must fail cleanly (and never crash), under
 * the parser the fixture's name selects (run_parser): adjust_ok runs the
 * adjust parser, catalog_ok the catalog parser.  The whole reply must
 * parse, or the check would prove nothing.
 */
static void
test_truncations(const char *fixture)
{
	enum shopify_result res;
	char path[256], label[160], *body;
	size_t len, n, bad = 0;
	int clean;

	snprintf(path, sizeof(path), FIXDIR "%s.json", fixture);
	if ((body = slurp(path, &len)) == NULL) {
		printf("FAIL truncations %s: cannot read\n", fixture);
		check_failures++;
		return;
	}
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == ' '))
		len--;
	snprintf(label, sizeof(label), "%s parses whole", fixture);
	clean = run_parser(fixture, body, len, NULL, &res);
	CHECK_INT(label, res, SHOPIFY_OK);
	for (n = 0; n < len; n++) {
		char *cut = malloc(n + 1);

		memcpy(cut, body, n);
		clean = run_parser(fixture, cut, n, NULL, &res);
		if (res != SHOPIFY_MALFORMED || !clean)
			bad++;
		free(cut);
	}
	snprintf(label, sizeof(label), "every prefix of %s rejected", fixture);
	CHECK_INT(label, bad, 0);
	free(body);
}

/*
 * Flips bytes pseudo-randomly: no crash, no half output, under the parser
 * the fixture's name selects (as test_truncations).
 */
static void
test_mutations(const char *fixture)
{
	enum shopify_result res;
	char path[256], label[160], *body, *m;
	size_t len, k, bad = 0, parsed = 0;
	unsigned long seed = 12345;

	snprintf(path, sizeof(path), FIXDIR "%s.json", fixture);
	if ((body = slurp(path, &len)) == NULL) {
		printf("FAIL mutations %s: cannot read\n", fixture);
		check_failures++;
		return;
	}
	snprintf(label, sizeof(label), "%s parses whole", fixture);
	(void)run_parser(fixture, body, len, NULL, &res);
	CHECK_INT(label, res, SHOPIFY_OK);
	m = malloc(len);
	for (k = 0; k < 5000; k++) {
		memcpy(m, body, len);
		seed = seed * 1103515245 + 12345;
		m[(seed >> 8) % len] = (char)(seed >> 3);
		if (!run_parser(fixture, m, len, NULL, &res))
			bad++;
		if (res == SHOPIFY_OK)
			parsed++;
	}
	snprintf(label, sizeof(label), "5000 mutations of %s", fixture);
	CHECK_INT(label, bad, 0);
	/* some flips (inside strings, digits) still parse: the parser ran */
	snprintf(label, sizeof(label), "mutations of %s: some still parse",
	    fixture);
	CHECK(label, parsed > 0);
	free(m);
	free(body);
}

/* Builds a levels reply with n nodes. */
static char *
levels_reply(size_t n, size_t *lenp)
{
	size_t cap = 200 + n * 220, o = 0, i;
	char *s = malloc(cap);

	o += (size_t)snprintf(s + o, cap - o,
	    "{\"data\":{\"location\":{\"inventoryLevels\":{\"nodes\":[");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s{\"id\":"
		    "\"gid://shopify/InventoryLevel/%zu?inventory_item_id=%zu\","
		    "\"isActive\":true,\"updatedAt\":\"2026-11-26T10:00:00Z\","
		    "\"item\":{\"id\":\"gid://shopify/InventoryItem/%zu\"},"
		    "\"quantities\":[{\"name\":\"available\",\"quantity\":1}]}",
		    i ? "," : "", i + 1, i + 1, i + 1);
	o += (size_t)snprintf(s + o, cap - o, "],\"pageInfo\":{\"hasNextPage\""
	    ":false,\"endCursor\":null}}}}}");
	*lenp = o;
	return s;
}

static void
test_sizes(void)
{
	struct shopify_reply rep;
	struct shopify_levels o;
	char *s, *deep;
	size_t len, i, n;

	s = levels_reply(250, &len);
	CHECK_INT("250 levels accepted", shopify_parse_levels(s, len, &rep, &o),
	    SHOPIFY_OK);
	CHECK_INT("250 levels count", o.n, 250);
	shopify_levels_free(&o);
	free(s);
	s = levels_reply(251, &len);
	CHECK_INT("251 levels rejected", shopify_parse_levels(s, len, &rep,
	    &o), SHOPIFY_MALFORMED);
	CHECK_STR("251 levels message", rep.message, "levels: data.location."
	    "inventoryLevels.nodes: more than 250 elements");
	free(s);
	s = levels_reply(20000, &len);
	CHECK_INT("20000 levels: too many tokens", shopify_parse_levels(s, len,
	    &rep, &o), SHOPIFY_MALFORMED);
	CHECK("20000 levels message", strstr(rep.message, "reply too big") !=
	    NULL);
	free(s);

	n = 5000;
	deep = malloc(2 * n + 64);
	len = (size_t)sprintf(deep, "{\"data\":{\"location\":");
	for (i = 0; i < n; i++)
		deep[len++] = '[';
	for (i = 0; i < n; i++)
		deep[len++] = ']';
	deep[len++] = '}', deep[len++] = '}';
	CHECK_INT("deep nesting rejected", shopify_parse_levels(deep, len, &rep,
	    &o), SHOPIFY_MALFORMED);
	CHECK("deep nesting message", strstr(rep.message, "deeper") != NULL);
	free(deep);
}

/* Compares a built body with fixture req_NAME.json. */
static void
req_golden(const char *name, char *body, size_t len)
{
	char path[256], label[160];
	char *withnl;

	snprintf(label, sizeof(label), "request %s", name);
	if (body == NULL) {
		printf("FAIL %s: builder returned NULL\n", label);
		check_failures++;
		return;
	}
	CHECK("request length", len == strlen(body));
	withnl = malloc(len + 2);
	memcpy(withnl, body, len);
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	snprintf(path, sizeof(path), FIXDIR "req_%s.json", name);
	golden(label, path, withnl, len + 1);
	free(withnl);
	free(body);
}

static const struct shopify_change_in changes[] = {
	{ "gid://shopify/InventoryItem/2001", "gid://shopify/Location/3001",
	    -5, 1, 50 },
	{ "gid://shopify/InventoryItem/2003", "gid://shopify/Location/3001",
	    10, 0, 0 },
};

static void
test_builders(void)
{
	static const int64_t t = 1795687200;	/* 2026-11-26T10:00:00Z */
	struct shopify_change_in many[SHOPIFY_CHANGES_MAX + 1];
	const char *loc = "gid://shopify/Location/3001";
	const char *bad_ids[] = { "gid://shopify/Location/1" };
	size_t len, i;
	char *b;

	b = shopify_build_check(&len);
	req_golden("check", b, len);
	b = shopify_build_locations(250, NULL, &len);
	req_golden("locations", b, len);
	b = shopify_build_catalog(250, NULL, -1, &len);
	req_golden("catalog_full", b, len);
	b = shopify_build_catalog(100, "eyJsYXN0X2lkIjoxfQ==", t, &len);
	req_golden("catalog_since", b, len);
	b = shopify_build_levels(loc, 250, NULL, -1, 1, &len);
	req_golden("levels_full", b, len);
	b = shopify_build_levels(loc, 10, "eyJsYXN0X2lkIjoxfQ==", t, 1, &len);
	req_golden("levels_since", b, len);
	b = shopify_build_levels(loc, 10, "eyJsYXN0X2lkIjoxfQ==", t, 0, &len);
	req_golden("levels_lean", b, len);
	b = shopify_build_levels_by_id(byid_ids, 3, &len);
	req_golden("levels_by_id", b, len);
	b = shopify_build_adjust("7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b", "correction",
	    "gid://invsync/Batch/7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b", changes, 2,
	    &len);
	req_golden("adjust", b, len);
	b = shopify_build_variants_count(&len);
	req_golden("variants_count", b, len);
	b = shopify_build_bulk_run(SHOPIFY_BULK_CATALOG, &len);
	req_golden("bulk_run_catalog", b, len);
	b = shopify_build_bulk_run(SHOPIFY_BULK_LEVELS, &len);
	req_golden("bulk_run_levels", b, len);
	b = shopify_build_bulk_status("gid://shopify/BulkOperation/720", &len);
	req_golden("bulk_status", b, len);
	CHECK("bulk status: not a bulk gid",
	    shopify_build_bulk_status("gid://shopify/Product/1", &len) ==
	    NULL);

	CHECK("levels: bad location gid",
	    shopify_build_levels("gid://shopify/Product/1", 5, NULL, -1, 0,
	    NULL) == NULL);
	CHECK("levels: first 0", shopify_build_levels(loc, 0, NULL, -1,
	    0, NULL) == NULL);
	CHECK("levels: first 251", shopify_build_levels(loc, 251, NULL, -1,
	    0, NULL) == NULL);
	CHECK("levels: cursor with quote", shopify_build_levels(loc, 5,
	    "a\"b c", -1, 0, NULL) == NULL);
	CHECK("levels: time too large", shopify_build_levels(loc, 5, NULL,
	    INT64_MAX, 0, NULL) == NULL);
	CHECK("by id: none", shopify_build_levels_by_id(byid_ids, 0,
	    NULL) == NULL);
	CHECK("by id: wrong type", shopify_build_levels_by_id(bad_ids, 1,
	    NULL) == NULL);
	CHECK("adjust: empty key", shopify_build_adjust("", "correction",
	    NULL, changes, 2, NULL) == NULL);
	CHECK("adjust: blank key", shopify_build_adjust("   ", "correction",
	    NULL, changes, 2, NULL) == NULL);
	CHECK("adjust: no changes", shopify_build_adjust("k", "correction",
	    NULL, changes, 0, NULL) == NULL);
	for (i = 0; i < SHOPIFY_CHANGES_MAX + 1; i++)
		many[i] = changes[0];
	b = shopify_build_adjust("k", "correction", NULL, many,
	    SHOPIFY_CHANGES_MAX, NULL);
	CHECK("adjust: 250 changes", b != NULL);
	free(b);
	CHECK("adjust: 251 changes", shopify_build_adjust("k", "correction",
	    NULL, many, SHOPIFY_CHANGES_MAX + 1, NULL) == NULL);
	many[0].delta = 3000000000LL;
	CHECK("adjust: delta out of range", shopify_build_adjust("k",
	    "correction", NULL, many, 1, NULL) == NULL);
	many[0] = changes[0];
	snprintf(many[0].location_id, sizeof(many[0].location_id),
	    "gid://shopify/InventoryItem/3001");
	CHECK("adjust: location of wrong type", shopify_build_adjust("k",
	    "correction", NULL, many, 1, NULL) == NULL);
	b = shopify_build_adjust("k", "correction", NULL, changes + 1, 1,
	    NULL);
	CHECK("adjust: null written literally", b != NULL &&
	    strstr(b, "\"changeFromQuantity\":null}") != NULL);
	CHECK("adjust: no referenceDocumentUri when NULL", b != NULL &&
	    strstr(b, "referenceDocumentUri") == NULL);
	free(b);
}

static void
test_gids(void)
{
	struct shopify_gid g;
	char long_gid[200];
	int64_t v;

	CHECK("gid ok", shopify_gid_parse("gid://shopify/Location/68509171945",
	    "Location", &g) == 0 && g.id == 68509171945LL &&
	    strcmp(g.type, "Location") == 0 && g.query[0] == '\0');
	CHECK("gid any type", shopify_gid_parse("gid://shopify/Product/1",
	    NULL, &g) == 0 && strcmp(g.type, "Product") == 0);
	CHECK("gid wrong type", shopify_gid_parse("gid://shopify/Product/1",
	    "ProductVariant", &g) == -1);
	CHECK("gid type prefix", shopify_gid_parse("gid://shopify/Product/1",
	    "Prod", &g) == -1);
	CHECK("gid no digits", shopify_gid_id("gid://shopify/Location/",
	    NULL) == -1);
	CHECK("gid letters", shopify_gid_id("gid://shopify/Location/12a",
	    NULL) == -1);
	CHECK("gid negative", shopify_gid_id("gid://shopify/Location/-1",
	    NULL) == -1);
	CHECK("gid other scheme", shopify_gid_id("gid://invsync/Location/1",
	    NULL) == -1);
	CHECK("gid overflow", shopify_gid_id(
	    "gid://shopify/Location/99999999999999999999", NULL) == -1);
	CHECK("gid max", shopify_gid_id(
	    "gid://shopify/Location/9223372036854775807", NULL) == INT64_MAX);
	CHECK("gid space in query", shopify_gid_id(
	    "gid://shopify/InventoryLevel/1?a b", NULL) == -1);
	memset(long_gid, '1', sizeof(long_gid));
	memcpy(long_gid, "gid://shopify/Location/", 23);
	long_gid[128] = '\0';
	CHECK("gid 128 bytes rejected", shopify_gid_id(long_gid, NULL) == -1);
	long_gid[127] = '\0';
	CHECK("gid 127 bytes overflows id", shopify_gid_id(long_gid,
	    NULL) == -1);
	CHECK("level item", shopify_gid_level_item(
	    "gid://shopify/InventoryLevel/143273034034?inventory_item_id="
	    "53486247084338", &v) == 0 && v == 53486247084338LL);
	CHECK("level item missing", shopify_gid_level_item(
	    "gid://shopify/InventoryLevel/1", &v) == -1);
	CHECK("level item junk", shopify_gid_level_item(
	    "gid://shopify/InventoryLevel/1?inventory_item_id=2&x=3", &v) == -1);
	CHECK("level item other type", shopify_gid_level_item(
	    "gid://shopify/Location/1?inventory_item_id=2", &v) == -1);
}

static void
test_time(void)
{
	char buf[32];
	int64_t t;

	CHECK("format", shopify_format_time(1795687200, buf, sizeof(buf)) ==
	    0 && strcmp(buf, "2026-11-26T10:00:00Z") == 0);
	CHECK("format epoch", shopify_format_time(0, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "1970-01-01T00:00:00Z") == 0);
	CHECK("format leap", shopify_format_time(1709164799, buf,
	    sizeof(buf)) == 0 && strcmp(buf, "2024-02-28T23:59:59Z") == 0);
	CHECK("format negative", shopify_format_time(-1, buf,
	    sizeof(buf)) == -1);
	CHECK("format small buffer", shopify_format_time(0, buf, 20) == -1);
	CHECK("parse", shopify_parse_time("2026-11-26T10:00:00Z", &t) == 0 &&
	    t == 1795687200);
	CHECK("parse fraction", shopify_parse_time("2026-11-26T10:00:00.999Z",
	    &t) == 0 && t == 1795687200);
	CHECK("parse leap day", shopify_parse_time("2024-02-29T00:00:00Z",
	    &t) == 0 && t == 1709164800);
	CHECK("parse not leap", shopify_parse_time("2026-02-29T00:00:00Z",
	    &t) == -1);
	CHECK("parse offset", shopify_parse_time("2026-11-26T10:00:00+07:00",
	    &t) == -1);
	CHECK("parse no zone", shopify_parse_time("2026-11-26T10:00:00",
	    &t) == -1);
	CHECK("parse month 13", shopify_parse_time("2026-13-01T00:00:00Z",
	    &t) == -1);
	CHECK("parse empty fraction", shopify_parse_time(
	    "2026-11-26T10:00:00.Z", &t) == -1);
}

static void
test_token_secrecy(void)
{
	struct shopify_reply rep;
	struct shopify_token o;
	char *body, *out = NULL;
	size_t len, olen;
	FILE *f;

	if ((body = slurp(FIXDIR "token_ok.json", &len)) == NULL) {
		printf("FAIL token secrecy: no fixture\n");
		check_failures++;
		return;
	}
	CHECK_INT("token parses", shopify_parse_token(body, len, &rep, &o),
	    SHOPIFY_OK);
	CHECK_STR("token value", o.token,
	    "shpat_0123456789abcdef0123456789abcdef");
	f = open_memstream(&out, &olen);
	shopify_token_print(&o, f);
	shopify_reply_print(&rep, f);
	fclose(f);
	CHECK("token never printed", strstr(out, "shpat") == NULL &&
	    strstr(out, "0123456789abcdef") == NULL);
	shopify_token_free(&o);
	CHECK("token wiped", zeroed(&o, sizeof(o)));
	free(out);
	free(body);
}

int
main(void)
{
	test_goldens();
	test_truncations("levels_ok");
	test_truncations("adjust_ok");
	test_truncations("catalog_ok");
	test_mutations("levels_ok");
	test_mutations("adjust_ok");
	test_mutations("catalog_ok");
	test_truncations("count_ok");
	test_truncations("bulkrun_ok");
	test_truncations("bulkstatus_completed");
	test_truncations("bulkvariant_ok");
	test_truncations("bulklevel_ok");
	test_mutations("bulkstatus_completed");
	test_mutations("bulkvariant_ok");
	test_mutations("bulklevel_ok");
	test_sizes();
	test_builders();
	test_gids();
	test_time();
	test_token_secrecy();
	return check_exit();
}
