/*
 * client.h: one store's Shopify Admin API client: endpoint, credentials,
 * rate-limit bucket, and the operations the engine needs, built on http.c
 * (transport) and shopify.c (documents and reply parsing).
 *
 * Every function returns an enum client_result.  Reads retry transient
 * faults and THROTTLED answers a few times with backoff; the adjust mutation
 * is sent exactly once per call and never again by anyone (docs/design.md §4).
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "jsonl.h"
#include "shopify.h"
#include "state.h"

enum client_result {
	CLIENT_OK = 0,
	CLIENT_TRANSIENT,	/* network, 5xx, throttled: try later */
	CLIENT_UNKNOWN,		/* a write may or may not have applied */
	CLIENT_THROTTLED,	/* a write answered THROTTLED (HTTP 200 or
				   429): refused before it ran, never applied */
	CLIENT_AUTH,		/* 401/403, ACCESS_DENIED: credentials or scopes */
	CLIENT_BAD_REPLY,	/* a reply we refuse to trust */
	CLIENT_REFUSED,		/* a top-level GraphQL error (BAD_REQUEST ...) */
	CLIENT_STOPPED		/* the stop flag was raised */
};

#define CLIENT_NAME_MAX	256

struct client_location {
	uint64_t	id;
	char		name[CLIENT_NAME_MAX];
	int		active;
};

struct client_variant {
	uint64_t	variant;
	uint64_t	item;		/* InventoryItem id */
	uint64_t	product;
	char		handle[CLIENT_NAME_MAX];
	char		sku[CLIENT_NAME_MAX];
	char		barcode[CLIENT_NAME_MAX];
	char		options[CLIENT_NAME_MAX];	/* "Size=M,Color=Blue" */
	char		status[16];			/* ACTIVE, DRAFT ... */
	int		tracked;
	int		bundle;				/* requiresComponents */
};

struct client_level {
	uint64_t	level;		/* InventoryLevel id (reads by id need it) */
	uint64_t	item;
	uint64_t	location;
	int64_t		available;
	int		active;
	int		found;		/* for reads by id: 0 = the level is gone */
};

/* What a store said about one adjust batch. */
enum adjust_outcome {
	ADJUST_APPLIED,		/* definitive success */
	ADJUST_STALE,		/* CHANGE_FROM_QUANTITY_STALE */
	ADJUST_CONCURRENT,	/* IDEMPOTENCY_CONCURRENT_REQUEST: resend same key */
	ADJUST_PREVIOUS_FAILED,	/* IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED */
	ADJUST_KEY_MISMATCH,	/* IDEMPOTENCY_KEY_PARAMETER_MISMATCH */
	ADJUST_REFUSED		/* any other userError: definitive failure */
};

struct adjust_result {
	enum adjust_outcome	outcome;
	int			bad_index;	/* change the error names, -1 */
	char			code[64];	/* userError code */
	char			message[256];	/* sanitised */
};

struct client_stats {
	int64_t		requests;
	int64_t		cost_actual;	/* sum of actualQueryCost */
	int64_t		last_cost;	/* actualQueryCost of the last reply */
	int64_t		throttled;
	double		available;	/* bucket: currentlyAvailable */
	double		maximum;
	double		restore;
	int64_t		clock_offset_ms;	/* Shopify's clock minus ours, from
					   the last reply's Date; 0: none yet */
	char		last_error[256];
};

struct client;

/*
 * A client for store index i of c.  Reads the store's credentials (token
 * file, or client id + secret for the client-credentials grant).  Returns
 * NULL (logged) on failure.  Free with client_free().
 */
struct client	*client_new(const struct conf *c, size_t i, volatile int *stop);
void		 client_free(struct client *);
const char	*client_name(const struct client *);
const struct client_stats *client_stats(const struct client *);
const char	*client_result_str(enum client_result);

/* API version support and granted scopes (for check). */
struct client_info {
	char	shop_name[CLIENT_NAME_MAX];
	int	version_supported;	/* configured version is served */
	char	versions[256];		/* supported versions, comma-separated */
	char	scopes[512];		/* granted, comma-separated */
};
enum client_result client_info(struct client *, struct client_info *out);

/* All active locations; *out is allocated, the caller frees it. */
enum client_result client_locations(struct client *,
	    struct client_location **out, size_t *n);

/*
 * Every product variant (since_ms == 0) or those updated at or after
 * since_ms; fn is called per variant and may stop the walk by returning
 * non-zero (then CLIENT_OK is still returned).
 */
enum client_result client_catalog(struct client *, int64_t since_ms,
	    int (*fn)(const struct client_variant *, void *), void *arg);

/*
 * The levels of one location: all of them (since_ms == 0), or those
 * updated at or after since_ms (the search index may lag: callers use an
 * overlap).  fn is called per level with its available quantity.
 */
enum client_result client_levels(struct client *, uint64_t location,
	    int64_t since_ms,
	    int (*fn)(const struct client_level *, void *), void *arg);

/*
 * One page of every level of one location (no filter), from cursor after
 * ("" = the first page): fn is called per level as by client_levels(); the
 * next page's cursor goes to next (nextsz bytes; "" after the last page).
 */
enum client_result client_levels_page(struct client *, uint64_t location,
	    const char *after, char *next, size_t nextsz,
	    int (*fn)(const struct client_level *, void *), void *arg);

/*
 * Reads the given levels (level, item, location) by id, fresh from the store;
 * fills available/active/found of each.  n <= BATCH_MAX.
 */
enum client_result client_read_levels(struct client *,
	    struct client_level *levels, size_t n);

/*
 * Sends batch p once as one inventoryAdjustQuantities under its key, with
 * changeFromQuantity on every change.  on_send runs just before the body
 * leaves (to journal "sent"); its non-zero return cancels the send.
 * CLIENT_OK: *res holds the store's definitive answer.  CLIENT_THROTTLED:
 * the store refused to run it.  CLIENT_UNKNOWN: bytes left and no
 * definitive answer came back, so the write may have applied.  Any other
 * result: nothing was sent.
 */
enum client_result client_adjust(struct client *, const struct pending *p,
	    int (*on_send)(void *), void *arg, struct adjust_result *res);

/* What a zero-delta probe under a batch's key found (docs/design.md §4). */
enum key_probe {
	PROBE_SEEN,		/* IDEMPOTENCY_KEY_PARAMETER_MISMATCH: the batch
				   reached the store and has finished */
	PROBE_UNSEEN,		/* ran as a no-op: the batch never arrived, or
				   the store has forgotten its key */
	PROBE_IN_FLIGHT,	/* IDEMPOTENCY_CONCURRENT_REQUEST: the batch is
				   still running */
	PROBE_UNTOLD		/* any other answer */
};

/*
 * Asks what the store knows of idempotency key: sends one zero-delta change
 * (changeFromQuantity null, so nothing is ever written) under key for
 * (item, location) and sets *found.  An unseen key is then held by the
 * probe, so the batch cannot run later while the store remembers it.
 * THROTTLED is CLIENT_TRANSIENT here: ask again later.
 */
enum client_result client_probe_key(struct client *, const char *key,
	    uint64_t item, uint64_t location, enum key_probe *found);
const char	*client_probe_str(enum key_probe);

/*
 * Bulk operations (docs/shopify-api.md §7).  client_variants_count: how many variants
 * the store has (capped at 10000); -1 when the store did not say (the
 * field is nullable: the count only chooses bulk or pages).  client_bulk_start: starts a bulk query
 * (*op gets id and status); a userError (LIMIT_REACHED when 5 run, ...)
 * is CLIENT_REFUSED with the message in the stats' last_error.
 * client_bulk_status: the operation's state; op->id is "" when the store
 * does not know it.  client_bulk_read: streams the file at url through fn
 * a line at a time, never held whole; *lines counts the lines read.
 * CLIENT_REFUSED: the file is gone (its signed URL expired).
 */
enum client_result client_variants_count(struct client *, int64_t *count);
enum client_result client_bulk_start(struct client *,
	    enum shopify_bulk_kind kind, struct shopify_bulk_op *op);
enum client_result client_bulk_status(struct client *, const char *id,
	    struct shopify_bulk_op *op);
enum client_result client_bulk_read(struct client *, const char *url,
	    jsonl_line_fn fn, void *arg, size_t *lines);
/*
 * One line of a bulk_catalog / bulk_levels file into *cv / *lv: 0, 1 for a
 * line to skip (a location line, an id that is not a positive number), -1
 * for a malformed line (why says which field and how).
 */
int	client_bulk_variant(const char *line, size_t len,
	    struct client_variant *cv, char *why, size_t whysz);
int	client_bulk_level(const char *line, size_t len, struct client_level *lv,
	    char *why, size_t whysz);

#endif
