/*
 * fuzz_bulk.c: libFuzzer target for a bulk operation's file and replies
 * (agent/jsonl.c and the bulk parsers of agent/shopify.c).  The input is
 * split into JSONL lines, fed in two pieces cut where its first byte says;
 * every line goes through the variant and the level line parsers, and the
 * whole input through the run and status reply parsers.  Checks: results
 * are stored in rep, messages are C strings, and what a successful parse
 * hands over keeps its promises (a status within the enum, a count >= 0,
 * a url that is empty or https).
 */
#include <string.h>

#include "fuzz.h"
#include "jsonl.h"
#include "shopify.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup();
	return 0;
}

static void
check_rep(enum shopify_result r, const struct shopify_reply *rep)
{
	FUZZ_ASSERT(r == rep->result);
	FUZZ_ASSERT(memchr(rep->message, '\0', sizeof(rep->message)) != NULL);
	FUZZ_ASSERT(memchr(rep->code, '\0', sizeof(rep->code)) != NULL);
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct shopify_bulk_level lv;
	struct shopify_variant v;
	struct shopify_reply rep;
	enum shopify_result r;

	(void)arg;
	FUZZ_ASSERT(len > 0 && len <= SHOPIFY_LINE_MAX);
	FUZZ_ASSERT(memchr(line, '\n', len) == NULL);
	r = shopify_parse_bulk_variant(line, len, &rep, &v);
	check_rep(r, &rep);
	if (r == SHOPIFY_OK)
		FUZZ_ASSERT(v.handle[0] != '\0' && v.item_id[0] != '\0');
	r = shopify_parse_bulk_level(line, len, &rep, &lv);
	check_rep(r, &rep);
	if (r == SHOPIFY_OK)
		FUZZ_ASSERT(lv.location_id[0] != '\0');
	return 0;
}

static void
check_op(enum shopify_result r, const struct shopify_bulk_op *op)
{
	if (r != SHOPIFY_OK)
		return;
	FUZZ_ASSERT(op->status <= SHOPIFY_BULK_OTHER);
	FUZZ_ASSERT(op->object_count >= 0);
	FUZZ_ASSERT(op->url[0] == '\0' ||
	    strncmp(op->url, "https://", 8) == 0);
	FUZZ_ASSERT(memchr(op->id, '\0', sizeof(op->id)) != NULL);
	(void)shopify_bulk_status_name(op->status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct shopify_bulk_op op;
	struct shopify_reply rep;
	struct jsonl j;
	size_t cut = size > 0 ? data[0] % (size + 1) : 0;

	jsonl_init(&j, SHOPIFY_LINE_MAX, on_line, NULL);
	if (jsonl_feed(&j, body, cut) == 0 &&
	    jsonl_feed(&j, body + cut, size - cut) == 0)
		(void)jsonl_finish(&j);
	jsonl_free(&j);

	memset(&op, 0xa5, sizeof(op));
	check_rep(shopify_parse_bulk_run(body, size, &rep, &op), &rep);
	check_op(rep.result, &op);
	memset(&op, 0xa5, sizeof(op));
	check_rep(shopify_parse_bulk_status(body, size, &rep, &op), &rep);
	check_op(rep.result, &op);
	return 0;
}
