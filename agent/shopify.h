/*
 * shopify.h: Shopify Admin GraphQL requests and replies, as pure functions.
 *
 * Builders turn arguments into a request body {"query": ..., "variables":
 * {...}} (documents from agent/graphql/, embedded at build time).  Parsers
 * turn reply bytes into structs: first the envelope (top-level errors,
 * extensions.cost), then the data, checked field by field.  A parser fills
 * its output only when the whole reply is good; otherwise the output is
 * left zeroed and rep->message says why, naming operation and path.  No
 * I/O here: http.c sends, callers decide.
 */
#ifndef SHOPIFY_H
#define SHOPIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SHOPIFY_GID_MAX		128	/* gids: at most 127 bytes */
#define SHOPIFY_STR_MAX		256	/* handles, SKUs, names: at most 255 */
#define SHOPIFY_CURSOR_MAX	512	/* page cursors */
#define SHOPIFY_MSG_MAX		256	/* sanitised messages */
#define SHOPIFY_CODE_MAX	64	/* error codes as received */
#define SHOPIFY_SCOPE_MAX	64	/* one access scope handle */
#define SHOPIFY_TOKEN_MAX	512	/* access token */
#define SHOPIFY_PAGE_MAX	250	/* nodes per page, ids per read */
#define SHOPIFY_CHANGES_MAX	250	/* changes per adjust */
#define SHOPIFY_OPTIONS_MAX	3	/* selected options per variant */
#define SHOPIFY_LIST_MAX	1024	/* API versions, scopes, userErrors */
#define SHOPIFY_URL_MAX		4096	/* a bulk file's signed URL */
#define SHOPIFY_LINE_MAX	65536	/* one line of a bulk file */
#define SHOPIFY_QTY_MIN		(-2000000000LL)	/* GraphQL Int bounds */
#define SHOPIFY_QTY_MAX		2000000000LL

/* What a reply means for the caller; the first failing rule wins. */
enum shopify_result {
	SHOPIFY_OK = 0,
	SHOPIFY_USER_ERRORS,	/* adjust: definitive refusal, see errors */
	SHOPIFY_NOT_FOUND,	/* levels: the location is gone */
	SHOPIFY_THROTTLED,	/* wait (cost.requested - available)/rate */
	SHOPIFY_ACCESS_DENIED,	/* missing scope, bad token */
	SHOPIFY_BAD_REQUEST,	/* e.g. @idempotent missing */
	SHOPIFY_INVALID,	/* query/variables refused by validation */
	SHOPIFY_MAX_COST,	/* MAX_COST_EXCEEDED: ask for less */
	SHOPIFY_SERVER_ERROR,	/* INTERNAL_SERVER_ERROR: retry later */
	SHOPIFY_ERROR_OTHER,	/* any other top-level error */
	SHOPIFY_MALFORMED	/* not JSON, wrong shape or types */
};

/* extensions.cost of a reply. */
struct shopify_cost {
	int	present;		/* the reply carried extensions.cost */
	int64_t	requested;		/* requestedQueryCost */
	int	has_actual;		/* actualQueryCost was not null */
	int64_t	actual;			/* actualQueryCost */
	double	maximum;		/* throttleStatus.maximumAvailable */
	double	available;		/* throttleStatus.currentlyAvailable */
	double	restore_rate;		/* throttleStatus.restoreRate */
};

/* The envelope of every reply, filled by every parser. */
struct shopify_reply {
	enum shopify_result	result;
	struct shopify_cost	cost;
	char	code[SHOPIFY_CODE_MAX];	/* extensions.code of the error */
	char	message[SHOPIFY_MSG_MAX];	/* sanitised error or reason */
	int	nerrors;		/* top-level errors received */
};

struct shopify_page {
	int	has_next;
	char	end_cursor[SHOPIFY_CURSOR_MAX];	/* "" when null */
};

/* a) check */
struct shopify_api_version {
	char	handle[32];		/* "2026-07", "unstable" */
	int	supported;
};

struct shopify_scope {
	char	handle[SHOPIFY_SCOPE_MAX];
};

struct shopify_check {
	char	shop_name[SHOPIFY_STR_MAX];
	char	domain[SHOPIFY_STR_MAX];	/* x.myshopify.com */
	struct shopify_api_version *versions;
	size_t	nversions;
	struct shopify_scope *scopes;
	size_t	nscopes;
};

/* b) locations */
struct shopify_location {
	char	id[SHOPIFY_GID_MAX];
	char	name[SHOPIFY_STR_MAX];
	int	active;
};

struct shopify_locations {
	struct shopify_location *v;
	size_t	n;
	struct shopify_page page;
};

/* c) catalog */
enum shopify_product_status {
	SHOPIFY_PRODUCT_ACTIVE,
	SHOPIFY_PRODUCT_ARCHIVED,
	SHOPIFY_PRODUCT_DRAFT,
	SHOPIFY_PRODUCT_UNLISTED,
	SHOPIFY_PRODUCT_OTHER		/* a value added after 2026-07 */
};

struct shopify_option {
	char	name[SHOPIFY_STR_MAX];
	char	value[SHOPIFY_STR_MAX];
};

struct shopify_variant {
	char	id[SHOPIFY_GID_MAX];
	int	has_sku;
	char	sku[SHOPIFY_STR_MAX];
	int	has_barcode;
	char	barcode[SHOPIFY_STR_MAX];
	struct shopify_option options[SHOPIFY_OPTIONS_MAX];
	size_t	noptions;
	int	requires_components;	/* bundle parent: not adjustable */
	char	item_id[SHOPIFY_GID_MAX];
	int	tracked;
	char	product_id[SHOPIFY_GID_MAX];
	char	handle[SHOPIFY_STR_MAX];
	enum shopify_product_status status;
};

struct shopify_catalog {
	struct shopify_variant *v;
	size_t	n;
	struct shopify_page page;
};

/* d) levels of one location */
struct shopify_level {
	char	id[SHOPIFY_GID_MAX];
	int	active;
	int64_t	updated_at;		/* unix seconds */
	char	item_id[SHOPIFY_GID_MAX];
	int64_t	available;
};

struct shopify_levels {
	struct shopify_level *v;
	size_t	n;
	struct shopify_page page;
};

/* e) direct read of levels by id, in request order */
struct shopify_level_read {
	int	found;			/* 0: null node, the level is gone */
	char	id[SHOPIFY_GID_MAX];
	int	active;
	int64_t	available;
};

struct shopify_level_reads {
	struct shopify_level_read *v;
	size_t	n;
};

/* f) adjust */
struct shopify_change_in {
	char	item_id[SHOPIFY_GID_MAX];	/* InventoryItem gid */
	char	location_id[SHOPIFY_GID_MAX];	/* Location gid */
	int64_t	delta;
	int	has_from;		/* 0: "changeFromQuantity": null */
	int64_t	from;
};

struct shopify_change_out {
	char	name[SHOPIFY_CODE_MAX];		/* "available" */
	int64_t	delta;
	int	has_after;
	int64_t	after;			/* quantityAfterChange */
	char	item_id[SHOPIFY_GID_MAX];	/* "" when null */
	char	location_id[SHOPIFY_GID_MAX];	/* "" when null */
};

/* InventoryAdjustQuantitiesUserErrorCode (docs/shopify-api.md §3.3). */
enum shopify_ue_code {
	SHOPIFY_UE_UNKNOWN = 0,		/* null or unlisted code */
	SHOPIFY_UE_INTERNAL_LEDGER_DOCUMENT,
	SHOPIFY_UE_INVALID_AVAILABLE_DOCUMENT,
	SHOPIFY_UE_INVALID_INVENTORY_ITEM,
	SHOPIFY_UE_INVALID_LEDGER_DOCUMENT,
	SHOPIFY_UE_INVALID_LOCATION,
	SHOPIFY_UE_INVALID_QUANTITY_DOCUMENT,
	SHOPIFY_UE_INVALID_QUANTITY_NAME,
	SHOPIFY_UE_INVALID_QUANTITY_TOO_LOW,
	SHOPIFY_UE_INVALID_QUANTITY_TOO_HIGH,
	SHOPIFY_UE_INVALID_REASON,
	SHOPIFY_UE_INVALID_REFERENCE_DOCUMENT,
	SHOPIFY_UE_SERVICE_UNAVAILABLE,
	SHOPIFY_UE_CHANGE_FROM_QUANTITY_STALE,
	SHOPIFY_UE_ADJUST_QUANTITIES_FAILED,
	SHOPIFY_UE_MAX_ONE_LEDGER_DOCUMENT,
	SHOPIFY_UE_ITEM_NOT_STOCKED_AT_LOCATION,
	SHOPIFY_UE_NON_MUTABLE_INVENTORY_ITEM,
	SHOPIFY_UE_IDEMPOTENCY_CONCURRENT_REQUEST,
	SHOPIFY_UE_IDEMPOTENCY_KEY_PARAMETER_MISMATCH,
	SHOPIFY_UE_IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
};

struct shopify_user_error {
	enum shopify_ue_code code;
	char	code_text[SHOPIFY_CODE_MAX];	/* sanitised, "" when null */
	char	message[SHOPIFY_MSG_MAX];	/* sanitised */
	char	field[SHOPIFY_MSG_MAX];		/* "input.changes.0.delta" */
	int	change;			/* N of ["input","changes","N",...], else -1 */
};

struct shopify_adjust {
	char	group_id[SHOPIFY_GID_MAX];	/* "" when no group (no-op) */
	struct shopify_change_out *changes;
	size_t	nchanges;
	struct shopify_user_error *errors;
	size_t	nerrors;
};

/* g) client-credentials token reply */
struct shopify_token {
	char	token[SHOPIFY_TOKEN_MAX];	/* secret: never printed */
	struct shopify_scope *scopes;
	size_t	nscopes;
	int64_t	expires_in;		/* seconds */
};

/* h) bulk operations (docs/shopify-api.md §7) */
enum shopify_bulk_kind {
	SHOPIFY_BULK_CATALOG,		/* bulk_catalog.graphql: variants */
	SHOPIFY_BULK_LEVELS		/* bulk_levels.graphql: every level */
};

enum shopify_bulk_status {
	SHOPIFY_BULK_CREATED,
	SHOPIFY_BULK_RUNNING,
	SHOPIFY_BULK_COMPLETED,
	SHOPIFY_BULK_FAILED,
	SHOPIFY_BULK_CANCELED,
	SHOPIFY_BULK_CANCELING,
	SHOPIFY_BULK_EXPIRED,
	SHOPIFY_BULK_OTHER		/* a value added after 2026-07 */
};

struct shopify_bulk_op {
	char	id[SHOPIFY_GID_MAX];		/* gid://shopify/BulkOperation/N */
	enum shopify_bulk_status status;
	char	error_code[SHOPIFY_CODE_MAX];	/* "" when null */
	int64_t	object_count;			/* lines in the file */
	char	url[SHOPIFY_URL_MAX];		/* "" when null: no file */
};

/* One line of a bulk_levels file: a location, or a level under one. */
struct shopify_bulk_level {
	int	is_level;			/* 0: a location line */
	struct shopify_level level;
	char	location_id[SHOPIFY_GID_MAX];	/* __parentId, or the id */
};

/* A parsed gid://shopify/<Type>/<id>[?query]. */
struct shopify_gid {
	char	type[64];
	int64_t	id;
	char	query[SHOPIFY_GID_MAX];	/* after '?', "" if none */
};

/*
 * Request builders.  Each returns a NUL-terminated JSON body in a heap
 * buffer the caller frees (length in *lenp when not NULL), or NULL when an
 * argument is invalid (bad gid, first outside 1..250, too many items,
 * time out of range, empty key); they never fail otherwise (fatal() on
 * out of memory).  after may be NULL (first page).
 */
char	*shopify_build_check(size_t *lenp);
char	*shopify_build_locations(int first, const char *after, size_t *lenp);
/* since < 0: full pass (no query); else "updated_at:>='ISO'" */
char	*shopify_build_catalog(int first, const char *after, int64_t since,
	    size_t *lenp);
/*
 * items: levels (each level's item { id }), else levels_lean (the item
 * from the level's gid; shopify_parse_levels() takes either, and leaves
 * item_id "" for a lean level whose gid names no item).
 */
char	*shopify_build_levels(const char *location_gid, int first,
	    const char *after, int64_t since, int items, size_t *lenp);
char	*shopify_build_levels_by_id(const char *const *level_gids, size_t n,
	    size_t *lenp);
char	*shopify_build_variants_count(size_t *lenp);
char	*shopify_build_bulk_run(enum shopify_bulk_kind kind, size_t *lenp);
char	*shopify_build_bulk_status(const char *bulk_gid, size_t *lenp);
char	*shopify_build_adjust(const char *key, const char *reason,
	    const char *reference_uri, const struct shopify_change_in *changes,
	    size_t n, size_t *lenp);

/*
 * Reply parsers: body (len bytes) in, *rep always filled (result, cost
 * when present, message), *out filled only when the result is SHOPIFY_OK
 * (or SHOPIFY_USER_ERRORS for adjust); otherwise *out is zeroed and needs
 * no freeing.  Return rep->result.  The caller frees *out with the
 * matching shopify_X_free().
 */
enum shopify_result shopify_parse_check(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_check *out);
enum shopify_result shopify_parse_locations(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_locations *out);
enum shopify_result shopify_parse_catalog(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_catalog *out);
enum shopify_result shopify_parse_levels(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_levels *out);
/* ids: the n gids that were requested, to match the nodes in order */
enum shopify_result shopify_parse_levels_by_id(const char *body, size_t len,
	    const char *const *ids, size_t n, struct shopify_reply *rep,
	    struct shopify_level_reads *out);
enum shopify_result shopify_parse_adjust(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_adjust *out);
/* Not GraphQL: {"access_token","scope","expires_in"} or {"error",...}. */
enum shopify_result shopify_parse_token(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_token *out);

/* productVariantsCount is nullable: null gives *count = -1 (not counted). */
enum shopify_result shopify_parse_variants_count(const char *body,
	    size_t len, struct shopify_reply *rep, int64_t *count);
/* userErrors (LIMIT_REACHED, ...): USER_ERRORS, the first in rep->code. */
enum shopify_result shopify_parse_bulk_run(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_bulk_op *out);
/* A null bulkOperation (unknown, or another app's): NOT_FOUND. */
enum shopify_result shopify_parse_bulk_status(const char *body, size_t len,
	    struct shopify_reply *rep, struct shopify_bulk_op *out);
/* One JSONL line of a bulk file (no trailing newline needed). */
enum shopify_result shopify_parse_bulk_variant(const char *line, size_t len,
	    struct shopify_reply *rep, struct shopify_variant *out);
enum shopify_result shopify_parse_bulk_level(const char *line, size_t len,
	    struct shopify_reply *rep, struct shopify_bulk_level *out);
const char *shopify_bulk_status_name(enum shopify_bulk_status);
/* Free the heap parts and zero the struct; NULL-safe, idempotent. */
void	shopify_check_free(struct shopify_check *);
void	shopify_locations_free(struct shopify_locations *);
void	shopify_catalog_free(struct shopify_catalog *);
void	shopify_levels_free(struct shopify_levels *);
void	shopify_level_reads_free(struct shopify_level_reads *);
void	shopify_adjust_free(struct shopify_adjust *);
void	shopify_token_free(struct shopify_token *);	/* also wipes token */

/* Dump functions for golden tests and -vv; never print the token. */
void	shopify_reply_print(const struct shopify_reply *, FILE *);
void	shopify_check_print(const struct shopify_check *, FILE *);
void	shopify_locations_print(const struct shopify_locations *, FILE *);
void	shopify_catalog_print(const struct shopify_catalog *, FILE *);
void	shopify_levels_print(const struct shopify_levels *, FILE *);
void	shopify_level_reads_print(const struct shopify_level_reads *, FILE *);
void	shopify_adjust_print(const struct shopify_adjust *, FILE *);
void	shopify_token_print(const struct shopify_token *, FILE *);
void	shopify_variant_print(const struct shopify_variant *, FILE *);
void	shopify_count_print(int64_t count, FILE *);
void	shopify_bulk_op_print(const struct shopify_bulk_op *, FILE *);
void	shopify_bulk_level_print(const struct shopify_bulk_level *, FILE *);

/* "OK", "THROTTLED", ... and "CHANGE_FROM_QUANTITY_STALE", ... */
const char *shopify_result_name(enum shopify_result);
const char *shopify_ue_code_name(enum shopify_ue_code);
const char *shopify_product_status_name(enum shopify_product_status);

/*
 * GID helpers.  shopify_gid_parse() accepts gid://shopify/<Type>/<digits>
 * with an optional ?query of URL-safe bytes, at most 127 bytes in all;
 * type (may be NULL) must then match.  Returns 0 or -1.
 */
int	shopify_gid_parse(const char *s, const char *type,
	    struct shopify_gid *g);
/* Numeric id of a gid of the given type (NULL: any), -1 when invalid. */
int64_t	shopify_gid_id(const char *s, const char *type);
/*
 * For an InventoryLevel gid "...?inventory_item_id=N": N into *item.
 * Returns 0, or -1 when the gid or its query is not of that form.
 */
int	shopify_gid_level_item(const char *s, int64_t *item);
/* Formats unix seconds t as "2026-11-26T10:00:00Z" (buf >= 21 bytes). */
int	shopify_format_time(int64_t t, char *buf, size_t bufsz);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" into unix seconds.  0 or -1. */
int	shopify_parse_time(const char *s, int64_t *t);

#endif
