/*
 * fuzz_shopify.c: libFuzzer targets for the Shopify reply parsers
 * (agent/shopify.c), one binary per parser: build with -DFUZZ_CHECK,
 * -DFUZZ_LOCATIONS, -DFUZZ_CATALOG, -DFUZZ_LEVELS, -DFUZZ_LEVELS_BY_ID,
 * -DFUZZ_ADJUST, -DFUZZ_TOKEN or -DFUZZ_COUNT (the variants count; the
 * bulk replies and lines are fuzz_bulk.c's).  The input is a reply body.  Checks the
 * contract of shopify.h: the result is returned and stored in rep, the
 * message is a C string, and unless the result is OK (or USER_ERRORS for
 * adjust) the output is all zero bytes.  Good outputs are printed to
 * /dev/null and freed twice (free is idempotent).
 */
#include <string.h>

#include "fuzz.h"
#include "shopify.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup();
	return 0;
}

/* The ids of tests/unit/test_shopify.c, so the byid_ fixtures seed well. */
#ifdef FUZZ_LEVELS_BY_ID
static const char *const byid_ids[] = {
	"gid://shopify/InventoryLevel/1001?inventory_item_id=2001",
	"gid://shopify/InventoryLevel/1002?inventory_item_id=2002",
	"gid://shopify/InventoryLevel/1003?inventory_item_id=2003"
};
#endif

#ifndef FUZZ_COUNT
static int
zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}
#endif

#define RUN(parse, type, name, ...) do {				\
	struct type o;							\
	enum shopify_result r;						\
	memset(&o, 0xa5, sizeof(o));					\
	r = parse(body, size, __VA_ARGS__ &rep, &o);			\
	FUZZ_ASSERT(r == rep.result);					\
	FUZZ_ASSERT(memchr(rep.message, '\0',				\
	    sizeof(rep.message)) != NULL);				\
	FUZZ_ASSERT(memchr(rep.code, '\0', sizeof(rep.code)) != NULL);	\
	(void)shopify_result_name(r);					\
	if (r == SHOPIFY_OK || r == SHOPIFY_USER_ERRORS) {		\
		shopify_reply_print(&rep, fuzz_null);			\
		shopify_##name##_print(&o, fuzz_null);			\
	} else								\
		FUZZ_ASSERT(zeroed(&o, sizeof(o)));			\
	shopify_##name##_free(&o);					\
	FUZZ_ASSERT(zeroed(&o, sizeof(o)));				\
	shopify_##name##_free(&o);					\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct shopify_reply rep;

	memset(&rep, 0xa5, sizeof(rep));
#if defined(FUZZ_CHECK)
	RUN(shopify_parse_check, shopify_check, check,);
#elif defined(FUZZ_LOCATIONS)
	RUN(shopify_parse_locations, shopify_locations, locations,);
#elif defined(FUZZ_CATALOG)
	RUN(shopify_parse_catalog, shopify_catalog, catalog,);
#elif defined(FUZZ_LEVELS)
	RUN(shopify_parse_levels, shopify_levels, levels,);
#elif defined(FUZZ_LEVELS_BY_ID)
	RUN(shopify_parse_levels_by_id, shopify_level_reads, level_reads,
	    byid_ids, 3,);
#elif defined(FUZZ_ADJUST)
	RUN(shopify_parse_adjust, shopify_adjust, adjust,);
#elif defined(FUZZ_TOKEN)
	RUN(shopify_parse_token, shopify_token, token,);
#elif defined(FUZZ_COUNT)
	{
		int64_t n = -1;
		enum shopify_result r;

		r = shopify_parse_variants_count(body, size, &rep, &n);
		FUZZ_ASSERT(r == rep.result);
		FUZZ_ASSERT(memchr(rep.message, '\0',
		    sizeof(rep.message)) != NULL);
		/* OK: a count, or -1 for a null productVariantsCount */
		FUZZ_ASSERT(r == SHOPIFY_OK ? n >= -1 : n == 0);
		if (r == SHOPIFY_OK)
			shopify_count_print(n, fuzz_null);
	}
#else
#error "define one of FUZZ_CHECK ... FUZZ_COUNT"
#endif
	return 0;
}
