/*
 * test_bulk.c: unit tests of the bulk-operation wire format: agent/jsonl.c
 * (lines out of a byte stream cut anywhere) and the bulk parts of
 * agent/shopify.c and agent/client.c (the run and status replies, one
 * JSONL line as a variant or a level).  The lines are shaped like the
 * ones docs/shopify-api.md §7 shows; the fake's files are tested end to end by
 * tests/e2e/test_e2e.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "jsonl.h"
#include "shopify.h"

/* ---- jsonl ------------------------------------------------------------- */

struct seen {
	char	lines[16][64];
	size_t	n;
	int	refuse_at;	/* refuse line N (1-based), 0: never */
};

static int
on_line(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%.*s", (int)len,
		    line);
	s->n++;
	return s->refuse_at != 0 && (int)s->n == s->refuse_at;
}

/* Feeds text in pieces of step bytes; returns the lines seen. */
static struct seen
split(const char *text, size_t step, size_t max, int *rc)
{
	struct seen s;
	struct jsonl j;
	size_t off, len = strlen(text), n;

	memset(&s, 0, sizeof(s));
	jsonl_init(&j, max, on_line, &s);
	*rc = 0;
	for (off = 0; off < len && *rc == 0; off += n) {
		n = len - off < step ? len - off : step;
		*rc = jsonl_feed(&j, text + off, n);
	}
	if (*rc == 0)
		*rc = jsonl_finish(&j);
	jsonl_free(&j);
	return s;
}

static void
test_jsonl(void)
{
	const char *text = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n";
	struct seen s;
	size_t step;
	int rc, all = 1;

	for (step = 1; step <= strlen(text); step++) {
		s = split(text, step, 100, &rc);
		all &= rc == 0 && s.n == 3 &&
		    strcmp(s.lines[0], "{\"a\":1}") == 0 &&
		    strcmp(s.lines[1], "{\"b\":2}") == 0 &&
		    strcmp(s.lines[2], "{\"c\":3}") == 0;
	}
	CHECK("jsonl: same lines however the bytes are cut", all);
	s = split("{\"a\":1}\n{\"b\":2}", 3, 100, &rc);
	CHECK("jsonl: a last line without newline is a line",
	    rc == 0 && s.n == 2 && strcmp(s.lines[1], "{\"b\":2}") == 0);
	s = split("", 1, 100, &rc);
	CHECK("jsonl: empty stream, no lines", rc == 0 && s.n == 0);
	s = split("0123456789\n01234567890\n", 4, 10, &rc);
	CHECK("jsonl: a line of max bytes passes, one more fails",
	    rc == -1 && s.n == 1);
	s = split("0123456789012", 13, 10, &rc);
	CHECK("jsonl: an overlong line in one piece fails", rc == -1 &&
	    s.n == 0);
	{
		struct seen r;
		struct jsonl j;

		memset(&r, 0, sizeof(r));
		r.refuse_at = 2;
		jsonl_init(&j, 100, on_line, &r);
		rc = jsonl_feed(&j, "a\nb\nc\n", 6);
		CHECK("jsonl: a refusing callback stops the stream",
		    rc == -1 && r.n == 2);
		CHECK("jsonl: later bytes are ignored",
		    jsonl_feed(&j, "d\n", 2) == -1 && r.n == 2);
		jsonl_free(&j);
	}
}

/* ---- bulk replies ------------------------------------------------------ */

#define COST	"\"extensions\":{\"cost\":{\"requestedQueryCost\":10," \
		"\"actualQueryCost\":10,\"throttleStatus\":{" \
		"\"maximumAvailable\":2000.0,\"currentlyAvailable\":1990," \
		"\"restoreRate\":100.0}}}"

static enum shopify_result
run(const char *body, struct shopify_bulk_op *op, struct shopify_reply *rep)
{
	return shopify_parse_bulk_run(body, strlen(body), rep, op);
}

static enum shopify_result
status(const char *body, struct shopify_bulk_op *op,
    struct shopify_reply *rep)
{
	return shopify_parse_bulk_status(body, strlen(body), rep, op);
}

static void
test_replies(void)
{
	struct shopify_bulk_op op;
	struct shopify_reply rep;
	int64_t n;
	const char *cnt = "{\"data\":{\"productVariantsCount\":{\"count\":"
	    "10000,\"precision\":\"AT_LEAST\"}}," COST "}";

	CHECK_INT("run: started", run("{\"data\":{\"bulkOperationRunQuery\":"
	    "{\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/720\","
	    "\"status\":\"CREATED\"},\"userErrors\":[]}}," COST "}", &op,
	    &rep), SHOPIFY_OK);
	CHECK("run: id and status", strcmp(op.id,
	    "gid://shopify/BulkOperation/720") == 0 &&
	    op.status == SHOPIFY_BULK_CREATED);
	CHECK_INT("run: LIMIT_REACHED", run("{\"data\":{\"bulkOperationRunQuery\""
	    ":{\"bulkOperation\":null,\"userErrors\":[{\"field\":null,"
	    "\"message\":\"A bulk query operation for this app and shop is "
	    "already in progress\",\"code\":\"LIMIT_REACHED\"}]}}}", &op, &rep),
	    SHOPIFY_USER_ERRORS);
	CHECK("run: the userError's code and message",
	    strcmp(rep.code, "LIMIT_REACHED") == 0 &&
	    strstr(rep.message, "already in progress") != NULL);
	CHECK_INT("run: null operation without userErrors",
	    run("{\"data\":{\"bulkOperationRunQuery\":{\"bulkOperation\":null,"
	    "\"userErrors\":[]}}}", &op, &rep), SHOPIFY_MALFORMED);
	CHECK_INT("run: not a bulk gid", run("{\"data\":{\"bulkOperationRunQuery"
	    "\":{\"bulkOperation\":{\"id\":\"gid://shopify/Product/1\","
	    "\"status\":\"CREATED\"},\"userErrors\":[]}}}", &op, &rep),
	    SHOPIFY_MALFORMED);

	CHECK_INT("status: completed", status("{\"data\":{\"bulkOperation\":{"
	    "\"id\":\"gid://shopify/BulkOperation/720\",\"status\":\"COMPLETED\","
	    "\"errorCode\":null,\"objectCount\":\"100001\",\"url\":"
	    "\"https://storage.example/b/720.jsonl?sig=a%2Bb&x=1\"}}," COST "}",
	    &op, &rep), SHOPIFY_OK);
	CHECK("status: count from an UnsignedInt64 string, url kept",
	    op.status == SHOPIFY_BULK_COMPLETED && op.object_count == 100001 &&
	    strcmp(op.url, "https://storage.example/b/720.jsonl?sig=a%2Bb&x=1")
	    == 0 && op.error_code[0] == '\0');
	CHECK_INT("status: failed with a code", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"FAILED\",\"errorCode\":\"ACCESS_DENIED\","
	    "\"objectCount\":\"0\",\"url\":null}}}", &op, &rep), SHOPIFY_OK);
	CHECK("status: FAILED, ACCESS_DENIED, no url",
	    op.status == SHOPIFY_BULK_FAILED &&
	    strcmp(op.error_code, "ACCESS_DENIED") == 0 && op.url[0] == '\0');
	CHECK_INT("status: unknown operation", status("{\"data\":{"
	    "\"bulkOperation\":null}}", &op, &rep), SHOPIFY_NOT_FOUND);
	CHECK_INT("status: a count as a number is refused", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"RUNNING\",\"errorCode\":null,\"objectCount\":5,"
	    "\"url\":null}}}", &op, &rep), SHOPIFY_MALFORMED);
	CHECK_INT("status: a negative count is refused", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"RUNNING\",\"errorCode\":null,\"objectCount\":\"-1\","
	    "\"url\":null}}}", &op, &rep), SHOPIFY_MALFORMED);
	CHECK_INT("status: an http url is refused", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"COMPLETED\",\"errorCode\":null,\"objectCount\":\"1\","
	    "\"url\":\"http://storage.example/x\"}}}", &op, &rep),
	    SHOPIFY_MALFORMED);
	CHECK_INT("status: a url with a space is refused", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"COMPLETED\",\"errorCode\":null,\"objectCount\":\"1\","
	    "\"url\":\"https://storage.example/x y\"}}}", &op, &rep),
	    SHOPIFY_MALFORMED);
	CHECK_INT("status: a later status value is OTHER", status("{\"data\":{"
	    "\"bulkOperation\":{\"id\":\"gid://shopify/BulkOperation/7\","
	    "\"status\":\"PAUSED\",\"errorCode\":null,\"objectCount\":\"1\","
	    "\"url\":null}}}", &op, &rep), SHOPIFY_OK);
	CHECK("status: OTHER", op.status == SHOPIFY_BULK_OTHER);

	CHECK_INT("count: parsed", shopify_parse_variants_count(cnt,
	    strlen(cnt), &rep, &n), SHOPIFY_OK);
	CHECK_INT("count: value", n, 10000);
}

/* ---- bulk lines -------------------------------------------------------- */

static const char variant_line[] = "{\"id\":\"gid://shopify/ProductVariant/2\","
    "\"sku\":\"SFDJ-M\",\"barcode\":null,\"selectedOptions\":[{\"name\":"
    "\"Size\",\"value\":\"M\"}],\"requiresComponents\":false,"
    "\"inventoryItem\":{\"id\":\"gid://shopify/InventoryItem/7\","
    "\"tracked\":true},\"product\":{\"id\":\"gid://shopify/Product/1\","
    "\"handle\":\"slim-fit-denim-jacket\",\"status\":\"ACTIVE\"}}";

static const char level_line[] = "{\"id\":\"gid://shopify/InventoryLevel/9"
    "?inventory_item_id=7\",\"isActive\":true,\"updatedAt\":"
    "\"2026-11-27T10:00:00Z\",\"item\":{\"id\":\"gid://shopify/InventoryItem/"
    "7\"},\"quantities\":[{\"name\":\"available\",\"quantity\":45}],"
    "\"__parentId\":\"gid://shopify/Location/3\"}";

static int
level(const char *line, struct client_level *lv, char *why)
{
	return client_bulk_level(line, strlen(line), lv, why, 256);
}

static void
test_lines(void)
{
	struct client_variant v;
	struct client_level lv;
	char why[256], bad[sizeof(level_line) + 16], *p;

	CHECK_INT("variant line: parsed", client_bulk_variant(variant_line,
	    strlen(variant_line), &v, why, sizeof(why)), 0);
	CHECK("variant line: ids, handle, sku, options",
	    v.variant == 2 && v.item == 7 && v.product == 1 && v.tracked &&
	    strcmp(v.handle, "slim-fit-denim-jacket") == 0 &&
	    strcmp(v.sku, "SFDJ-M") == 0 && strcmp(v.options, "Size=M") == 0);
	CHECK_INT("variant line: a level line is malformed here",
	    client_bulk_variant(level_line, strlen(level_line), &v, why,
	    sizeof(why)), -1);
	CHECK_INT("variant line: truncated", client_bulk_variant(variant_line,
	    40, &v, why, sizeof(why)), -1);
	CHECK("variant line: why says invalid JSON",
	    strstr(why, "invalid JSON") != NULL);

	CHECK_INT("level line: parsed", level(level_line, &lv, why), 0);
	CHECK("level line: level, item, location from __parentId, available",
	    lv.level == 9 && lv.item == 7 && lv.location == 3 &&
	    lv.available == 45 && lv.active && lv.found);
	CHECK_INT("level line: a location line is skipped",
	    level("{\"id\":\"gid://shopify/Location/3\"}", &lv, why), 1);
	CHECK_INT("level line: a location with a parent is malformed",
	    level("{\"id\":\"gid://shopify/Location/3\",\"__parentId\":"
	    "\"gid://shopify/Location/1\"}", &lv, why), -1);
	snprintf(bad, sizeof(bad), "%s", level_line);
	p = strstr(bad, ",\"__parentId\"");
	strcpy(p, "}");
	CHECK_INT("level line: without __parentId is malformed",
	    level(bad, &lv, why), -1);
	CHECK("level line: why names __parentId",
	    strstr(why, "__parentId") != NULL);
	snprintf(bad, sizeof(bad), "%s", level_line);
	memcpy(strstr(bad, "Location/3"), "Product/33", 10);
	CHECK_INT("level line: a parent that is not a location is malformed",
	    level(bad, &lv, why), -1);
	snprintf(bad, sizeof(bad), "%s", level_line);
	memcpy(strstr(bad, "45}"), "4.5", 3);
	CHECK_INT("level line: a fractional quantity is malformed",
	    level(bad, &lv, why), -1);
	CHECK_INT("level line: an array is malformed", level("[1,2]", &lv,
	    why), -1);
	CHECK_INT("level line: empty object is malformed", level("{}", &lv,
	    why), -1);
}

int
main(void)
{
	test_jsonl();
	test_replies();
	test_lines();
	return check_exit();
}
