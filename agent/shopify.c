/*
 * shopify.c: owns the Shopify Admin GraphQL vocabulary of invsync: request
 * bodies built from the embedded documents (agent/graphql/NAME.graphql) and
 * reply parsers that check every field they use.  Pure: no I/O, no clock.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphql.h"
#include "json.h"
#include "log.h"
#include "shopify.h"

#define REPLY_MAX_BODY		JSON_MAX_BODY
#define REPLY_MAX_TOKENS	JSON_MAX_TOKENS
#define LINE_MAX_BODY		SHOPIFY_LINE_MAX	/* one JSONL line */
#define LINE_MAX_TOKENS		512
#define QUANTITIES_MAX		16	/* quantities per level we accept */
#define KEY_MAX			255	/* idempotency key bytes */
#define PATH_MAX_		192	/* a JSON path in a message */
#define TIME_MAX		253402300799LL	/* 9999-12-31T23:59:59Z */

/* Parse context: the document, the operation and where errors go. */
struct pctx {
	struct json_doc		*d;
	const char		*op;
	struct shopify_reply	*rep;
};

static int	token_ok(const char *);

/* Formats rep->message (truncating silently). */
static void
msgf(struct shopify_reply *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
msgf(struct shopify_reply *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
}

/* Writes a sanitised copy of untrusted s (n bytes) into buf. */
static void
sanitise(char *buf, size_t bufsz, const char *s, size_t n)
{
	log_safe(buf, bufsz, s, n);
}

/*
 * Marks the reply MALFORMED with "op: path.key: why".  Always returns -1
 * so callers can "return fail(...)".
 */
static int
fail(struct pctx *c, const char *path, const char *key, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->rep->result = SHOPIFY_MALFORMED;
	snprintf(c->rep->message, sizeof(c->rep->message), "%s: %s%s%s: %s",
	    c->op, path, key != NULL && *path != '\0' ? "." : "",
	    key != NULL ? key : "", why);
	return -1;
}

/* Child path "path.key" or "path[i]" into buf. */
static void
subpath(char *buf, size_t bufsz, const char *path, const char *key)
{
	/* a long path is cut: it only names a place in a message */
	if (snprintf(buf, bufsz, "%s%s%s", path, *path != '\0' ? "." : "",
	    key) >= (int)bufsz && bufsz > 4)
		memcpy(buf + bufsz - 4, "...", 4);
}

static void
elempath(char *buf, size_t bufsz, const char *path, const char *key,
    size_t i)
{
	if (snprintf(buf, bufsz, "%s.%s[%zu]", path, key, i) >= (int)bufsz &&
	    bufsz > 4)
		memcpy(buf + bufsz - 4, "...", 4);
}

/*
 * Looks up key in object obj with the wanted type; null allowed when
 * nullable (then *t = -1).  Returns 0, or -1 after fail().
 */
static int
get_typed(struct pctx *c, int obj, const char *path, const char *key,
    enum json_type want, int nullable, int *t)
{
	enum json_type got;
	int v;

	if ((v = json_get(c->d, obj, key)) < 0)
		return fail(c, path, key, "missing");
	got = json_type(c->d, v);
	if (got == JSON_NULL && nullable) {
		*t = -1;
		return 0;
	}
	if (got == want || (want == JSON_TRUE && got == JSON_FALSE)) {
		*t = v;
		return 0;
	}
	return fail(c, path, key, "expected %s, got %s",
	    want == JSON_TRUE ? "boolean" : json_type_name(want),
	    json_type_name(got));
}

static int
get_object(struct pctx *c, int obj, const char *path, const char *key,
    int nullable, int *t)
{
	return get_typed(c, obj, path, key, JSON_OBJECT, nullable, t);
}

/* An array of at most max elements: *t and *n. */
static int
get_array(struct pctx *c, int obj, const char *path, const char *key,
    size_t max, int nullable, int *t, size_t *n)
{
	int len;

	if (get_typed(c, obj, path, key, JSON_ARRAY, nullable, t) == -1)
		return -1;
	*n = 0;
	if (*t == -1)
		return 0;
	len = json_array_len(c->d, *t);
	if (len < 0 || (size_t)len > max)
		return fail(c, path, key, "more than %zu elements", max);
	*n = (size_t)len;
	return 0;
}

/* A string of at most bufsz-1 bytes; *present = 0 for a nullable null. */
static int
get_str(struct pctx *c, int obj, const char *path, const char *key,
    int nullable, char *buf, size_t bufsz, int *present)
{
	int t;

	buf[0] = '\0';
	if (get_typed(c, obj, path, key, JSON_STRING, nullable, &t) == -1)
		return -1;
	if (present != NULL)
		*present = t != -1;
	if (t == -1)
		return 0;
	if (json_string(c->d, t, buf, bufsz, NULL) == -1) {
		buf[0] = '\0';
		return fail(c, path, key, "longer than %zu bytes", bufsz - 1);
	}
	return 0;
}

/* A gid of the given type into buf (SHOPIFY_GID_MAX bytes). */
static int
get_gid(struct pctx *c, int obj, const char *path, const char *key,
    const char *type, char *buf)
{
	struct shopify_gid g;

	if (get_str(c, obj, path, key, 0, buf, SHOPIFY_GID_MAX, NULL) == -1)
		return -1;
	if (shopify_gid_parse(buf, type, &g) == -1) {
		buf[0] = '\0';
		return fail(c, path, key, "not a %s gid", type);
	}
	return 0;
}

/* An integer in [min, max]; *present = 0 for a nullable null. */
static int
get_int(struct pctx *c, int obj, const char *path, const char *key,
    int64_t min, int64_t max, int nullable, int64_t *v, int *present)
{
	int t;

	*v = 0;
	if (get_typed(c, obj, path, key, JSON_NUMBER, nullable, &t) == -1)
		return -1;
	if (present != NULL)
		*present = t != -1;
	if (t == -1)
		return 0;
	if (json_int64(c->d, t, min, max, v) == -1)
		return fail(c, path, key, "not an integer in [%lld, %lld]",
		    (long long)min, (long long)max);
	return 0;
}

static int
get_bool(struct pctx *c, int obj, const char *path, const char *key, int *v)
{
	int t;

	if (get_typed(c, obj, path, key, JSON_TRUE, 0, &t) == -1)
		return -1;
	return json_bool(c->d, t, v);
}

/* A finite number >= 0 (cost figures). */
static int
get_num(struct pctx *c, int obj, const char *path, const char *key,
    double *v)
{
	int t;

	if (get_typed(c, obj, path, key, JSON_NUMBER, 0, &t) == -1)
		return -1;
	if (json_double(c->d, t, v) == -1 || *v < 0 || *v > 1e12)
		return fail(c, path, key, "number out of range");
	return 0;
}

/* Element i of an array, which must be an object (or null if nullable). */
static int
elem_object(struct pctx *c, int el, const char *path, int nullable, int *t)
{
	enum json_type ty = json_type(c->d, el);

	if (ty == JSON_NULL && nullable) {
		*t = -1;
		return 0;
	}
	if (ty != JSON_OBJECT)
		return fail(c, path, NULL, "expected object, got %s",
		    json_type_name(ty));
	*t = el;
	return 0;
}

/* Parses extensions.cost into rep->cost when present. */
static int
parse_cost(struct pctx *c)
{
	struct shopify_cost *k = &c->rep->cost;
	int ext, cost, ts;

	if ((ext = json_get(c->d, 0, "extensions")) < 0 ||
	    json_is_null(c->d, ext))
		return 0;
	if (json_type(c->d, ext) != JSON_OBJECT)
		return fail(c, "extensions", NULL, "expected object");
	if (json_get(c->d, ext, "cost") < 0)
		return 0;
	if (get_object(c, ext, "extensions", "cost", 0, &cost) == -1 ||
	    get_int(c, cost, "extensions.cost", "requestedQueryCost", 0,
	    INT32_MAX, 0, &k->requested, NULL) == -1 ||
	    get_int(c, cost, "extensions.cost", "actualQueryCost", 0,
	    INT32_MAX, 1, &k->actual, &k->has_actual) == -1) {
		memset(k, 0, sizeof(*k));
		return -1;
	}
	/* the bucket only paces requests: without it the reply stands and
	   the client paces by backoff (issue 14: optional never blocks) */
	if ((ts = json_get(c->d, cost, "throttleStatus")) < 0 ||
	    json_is_null(c->d, ts))
		return 0;
	if (get_object(c, cost, "extensions.cost", "throttleStatus", 0,
	    &ts) == -1 ||
	    get_num(c, ts, "extensions.cost.throttleStatus",
	    "maximumAvailable", &k->maximum) == -1 ||
	    get_num(c, ts, "extensions.cost.throttleStatus",
	    "currentlyAvailable", &k->available) == -1 ||
	    get_num(c, ts, "extensions.cost.throttleStatus", "restoreRate",
	    &k->restore_rate) == -1) {
		memset(k, 0, sizeof(*k));
		return -1;
	}
	k->present = 1;
	return 0;
}

/* Maps an extensions.code to a result. */
static enum shopify_result
classify(const char *code)
{
	static const struct {
		const char *code;
		enum shopify_result r;
	} map[] = {
		{ "THROTTLED", SHOPIFY_THROTTLED },
		{ "ACCESS_DENIED", SHOPIFY_ACCESS_DENIED },
		{ "BAD_REQUEST", SHOPIFY_BAD_REQUEST },
		{ "MAX_COST_EXCEEDED", SHOPIFY_MAX_COST },
		{ "INTERNAL_SERVER_ERROR", SHOPIFY_SERVER_ERROR },
		{ "INVALID_FIELD_ARGUMENTS", SHOPIFY_INVALID },
		{ "GRAPHQL_VALIDATION_FAILED", SHOPIFY_INVALID },
		{ "INVALID_VARIABLE", SHOPIFY_INVALID },
		{ "ARGUMENT_LITERALS_INCOMPATIBLE", SHOPIFY_INVALID },
		{ "MISSING_REQUIRED_ARGUMENTS", SHOPIFY_INVALID },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].r;
	/* graphql-ruby static validation codes: undefinedField, ... */
	if (code[0] >= 'a' && code[0] <= 'z')
		return SHOPIFY_INVALID;
	return SHOPIFY_ERROR_OTHER;
}

/* Order in which results win when several errors came (first wins). */
static int
rank(enum shopify_result r)
{
	static const enum shopify_result order[] = {
		SHOPIFY_THROTTLED, SHOPIFY_MAX_COST, SHOPIFY_ACCESS_DENIED,
		SHOPIFY_BAD_REQUEST, SHOPIFY_INVALID, SHOPIFY_SERVER_ERROR,
		SHOPIFY_ERROR_OTHER
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == r)
			return (int)i;
	return (int)i;
}

/* Reads one element of "errors": its code (may be "") and message. */
static int
read_error(struct pctx *c, int e, size_t i, char *code, char *msg)
{
	char path[PATH_MAX_];
	int ext, t;

	elempath(path, sizeof(path), "", "errors", i);
	code[0] = msg[0] = '\0';
	if (json_type(c->d, e) != JSON_OBJECT)
		return fail(c, path + 1, NULL, "expected object");
	if ((t = json_get(c->d, e, "message")) >= 0 &&
	    json_type(c->d, t) == JSON_STRING) {
		char *m = json_strdup(c->d, t, NULL);

		sanitise(msg, SHOPIFY_MSG_MAX, m, strlen(m));
		free(m);
	}
	if ((ext = json_get(c->d, e, "extensions")) >= 0 &&
	    (t = json_get(c->d, ext, "code")) >= 0 &&
	    json_type(c->d, t) == JSON_STRING) {
		char raw[SHOPIFY_CODE_MAX];

		if (json_string(c->d, t, raw, sizeof(raw), NULL) == -1)
			snprintf(raw, sizeof(raw), "%s", "(long code)");
		sanitise(code, SHOPIFY_CODE_MAX, raw, strlen(raw));
	}
	return 0;
}

/*
 * Handles top-level "errors": sets rep->result to the most pressing one
 * with its code and sanitised message.  Returns 1 when the reply carried
 * errors, 0 when not, -1 when "errors" is malformed.
 */
static int
parse_errors(struct pctx *c)
{
	char code[SHOPIFY_CODE_MAX], msg[SHOPIFY_MSG_MAX];
	enum shopify_result r, best = SHOPIFY_OK;
	int errs, e, len, i;

	if ((errs = json_get(c->d, 0, "errors")) < 0 ||
	    json_is_null(c->d, errs))
		return 0;
	if (json_type(c->d, errs) == JSON_STRING) {
		char *m = json_strdup(c->d, errs, NULL);

		c->rep->result = SHOPIFY_ERROR_OTHER;
		c->rep->nerrors = 1;
		sanitise(msg, sizeof(msg), m, strlen(m));
		free(m);
		msgf(c->rep, "%s: %s", c->op, msg);
		return 1;
	}
	if ((len = json_array_len(c->d, errs)) < 0)
		return fail(c, "errors", NULL, "expected array or string");
	if (len == 0)
		return 0;
	for (i = 0, e = json_array_first(c->d, errs); i < len && e >= 0;
	    i++, e = json_skip(c->d, e)) {
		if (read_error(c, e, (size_t)i, code, msg) == -1)
			return -1;
		r = code[0] != '\0' ? classify(code) : SHOPIFY_ERROR_OTHER;
		if (best == SHOPIFY_OK || rank(r) < rank(best)) {
			best = r;
			memcpy(c->rep->code, code, sizeof(c->rep->code));
			msgf(c->rep, "%s: %s", c->op, msg);
		}
	}
	c->rep->result = best;
	c->rep->nerrors = len;
	return 1;
}

/*
 * Parses the envelope of a GraphQL reply: JSON, cost, errors, then
 * "data" as an object into *data.  Returns 0 when the data may be read,
 * -1 when rep->result already says why not (the document stays open in
 * c->d either way; the caller frees it).
 */
static int
envelope(struct pctx *c, const char *body, size_t len, int *data)
{
	char err[JSON_ERR_MAX];
	int r;

	c->rep->result = SHOPIFY_OK;
	c->d = json_parse(body, len, REPLY_MAX_BODY, REPLY_MAX_TOKENS, err,
	    sizeof(err));
	if (c->d == NULL) {
		c->rep->result = SHOPIFY_MALFORMED;
		snprintf(c->rep->message, sizeof(c->rep->message),
		    "%s: invalid JSON: %s", c->op, err);
		return -1;
	}
	if (parse_cost(c) == -1 || (r = parse_errors(c)) == -1)
		return -1;
	if (r == 1)
		return -1;
	if ((*data = json_get(c->d, 0, "data")) < 0)
		return fail(c, "data", NULL, "missing");
	if (json_is_null(c->d, *data))
		return fail(c, "data", NULL, "null without errors");
	if (json_type(c->d, *data) != JSON_OBJECT)
		return fail(c, "data", NULL, "expected object, got %s",
		    json_type_name(json_type(c->d, *data)));
	return 0;
}

/* Starts a parse: zeroes rep and sets up the context. */
static void
pctx_init(struct pctx *c, const char *op, struct shopify_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	c->d = NULL;
	c->op = op;
	c->rep = rep;
}

/* Ends a parse: frees the document, returns the result. */
static enum shopify_result
pctx_done(struct pctx *c)
{
	json_free(c->d);
	c->d = NULL;
	return c->rep->result;
}

/* Parses pageInfo of connection conn (at path) into *pg. */
static int
parse_page(struct pctx *c, int conn, const char *path,
    struct shopify_page *pg)
{
	char p[PATH_MAX_];
	int pi, present;

	subpath(p, sizeof(p), path, "pageInfo");
	if (get_object(c, conn, path, "pageInfo", 0, &pi) == -1 ||
	    get_bool(c, pi, p, "hasNextPage", &pg->has_next) == -1 ||
	    get_str(c, pi, p, "endCursor", 1, pg->end_cursor,
	    sizeof(pg->end_cursor), &present) == -1)
		return -1;
	if (pg->has_next && (!present || pg->end_cursor[0] == '\0'))
		return fail(c, p, "endCursor", "null while hasNextPage");
	/* it goes back into the next request: printable ASCII only */
	if (present && !token_ok(pg->end_cursor)) {
		pg->end_cursor[0] = '\0';
		return fail(c, p, "endCursor", "not a printable cursor");
	}
	return 0;
}

/* Allocates n zeroed elements of size sz (at least one). */
static void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz)) == NULL)
		fatal("calloc: out of memory");
	return p;
}

/* Parses one node of a connection at path p into out (an element). */
typedef int (*node_fn)(struct pctx *, int, const char *, void *);

/*
 * Parses connection conn at path cp: every node by parse into a fresh array
 * of elements of sz bytes (*vp, count in *np), then its pageInfo.  Returns
 * 0, or -1 (the reply says why); *vp may then hold the nodes parsed so far,
 * which the caller frees.
 */
static int
parse_nodes(struct pctx *c, int conn, const char *cp, size_t sz,
    node_fn parse, void **vp, size_t *np, struct shopify_page *page)
{
	char p[PATH_MAX_];
	size_t n, i;
	int arr, e;

	if (get_array(c, conn, cp, "nodes", SHOPIFY_PAGE_MAX, 0, &arr,
	    &n) == -1)
		return -1;
	*vp = xcalloc(n, sz);
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(p, sizeof(p), cp, "nodes", i);
		if (parse(c, e, p, (char *)*vp + i * sz) == -1)
			return -1;
		(*np)++;
	}
	return parse_page(c, conn, cp, page);
}

/* a) check */

static int
parse_versions(struct pctx *c, int data, struct shopify_check *o)
{
	char p[PATH_MAX_];
	size_t n, i;
	int arr, e, el;

	if (get_array(c, data, "data", "publicApiVersions", SHOPIFY_LIST_MAX,
	    0, &arr, &n) == -1)
		return -1;
	o->versions = xcalloc(n, sizeof(*o->versions));
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(p, sizeof(p), "data", "publicApiVersions", i);
		if (elem_object(c, e, p, 0, &el) == -1 ||
		    get_str(c, el, p, "handle", 0, o->versions[i].handle,
		    sizeof(o->versions[i].handle), NULL) == -1 ||
		    get_bool(c, el, p, "supported",
		    &o->versions[i].supported) == -1)
			return -1;
		o->nversions++;
	}
	return 0;
}

/* An array of {handle} objects at obj.key into a scope list. */
static int
parse_scope_list(struct pctx *c, int obj, const char *path, const char *key,
    struct shopify_scope **v, size_t *nv)
{
	char p[PATH_MAX_];
	size_t n, i;
	int arr, e, el;

	if (get_array(c, obj, path, key, SHOPIFY_LIST_MAX, 0, &arr, &n) == -1)
		return -1;
	*v = xcalloc(n, sizeof(**v));
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(p, sizeof(p), path, key, i);
		if (elem_object(c, e, p, 0, &el) == -1 ||
		    get_str(c, el, p, "handle", 0, (*v)[i].handle,
		    sizeof((*v)[i].handle), NULL) == -1)
			return -1;
		(*nv)++;
	}
	return 0;
}

enum shopify_result
shopify_parse_check(const char *body, size_t len, struct shopify_reply *rep,
    struct shopify_check *out)
{
	struct shopify_check o;
	struct pctx c;
	int data, shop, inst;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "check", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "shop", 0, &shop) == -1 ||
	    get_str(&c, shop, "data.shop", "name", 0, o.shop_name,
	    sizeof(o.shop_name), NULL) == -1 ||
	    get_str(&c, shop, "data.shop", "myshopifyDomain", 0, o.domain,
	    sizeof(o.domain), NULL) == -1 ||
	    parse_versions(&c, data, &o) == -1 ||
	    get_object(&c, data, "data", "currentAppInstallation", 0,
	    &inst) == -1 ||
	    parse_scope_list(&c, inst, "data.currentAppInstallation",
	    "accessScopes", &o.scopes, &o.nscopes) == -1) {
		shopify_check_free(&o);
		return pctx_done(&c);
	}
	*out = o;
	return pctx_done(&c);
}

void
shopify_check_free(struct shopify_check *o)
{
	if (o == NULL)
		return;
	free(o->versions);
	free(o->scopes);
	memset(o, 0, sizeof(*o));
}

/* b) locations */

static int
parse_location(struct pctx *c, int e, const char *p, void *out)
{
	struct shopify_location *l = out;
	int el;

	return elem_object(c, e, p, 0, &el) == -1 ||
	    get_gid(c, el, p, "id", "Location", l->id) == -1 ||
	    get_str(c, el, p, "name", 0, l->name, sizeof(l->name),
	    NULL) == -1 ||
	    get_bool(c, el, p, "isActive", &l->active) == -1 ? -1 : 0;
}

enum shopify_result
shopify_parse_locations(const char *body, size_t len,
    struct shopify_reply *rep, struct shopify_locations *out)
{
	struct shopify_locations o;
	struct pctx c;
	int data, conn;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "locations", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "locations", 0, &conn) == -1 ||
	    parse_nodes(&c, conn, "data.locations", sizeof(*o.v),
	    parse_location, (void **)&o.v, &o.n, &o.page) == -1)
		goto bad;
	*out = o;
	return pctx_done(&c);
bad:
	shopify_locations_free(&o);
	return pctx_done(&c);
}

void
shopify_locations_free(struct shopify_locations *o)
{
	if (o == NULL)
		return;
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* c) catalog */

static enum shopify_product_status
product_status(const char *s)
{
	if (strcmp(s, "ACTIVE") == 0)
		return SHOPIFY_PRODUCT_ACTIVE;
	if (strcmp(s, "ARCHIVED") == 0)
		return SHOPIFY_PRODUCT_ARCHIVED;
	if (strcmp(s, "DRAFT") == 0)
		return SHOPIFY_PRODUCT_DRAFT;
	if (strcmp(s, "UNLISTED") == 0)
		return SHOPIFY_PRODUCT_UNLISTED;
	return SHOPIFY_PRODUCT_OTHER;
}

static int
parse_options(struct pctx *c, int el, const char *p,
    struct shopify_variant *v)
{
	char q[PATH_MAX_];
	size_t n, i;
	int arr, e, o;

	if (get_array(c, el, p, "selectedOptions", SHOPIFY_OPTIONS_MAX, 0,
	    &arr, &n) == -1)
		return -1;
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(q, sizeof(q), p, "selectedOptions", i);
		if (elem_object(c, e, q, 0, &o) == -1 ||
		    get_str(c, o, q, "name", 0, v->options[i].name,
		    sizeof(v->options[i].name), NULL) == -1 ||
		    get_str(c, o, q, "value", 0, v->options[i].value,
		    sizeof(v->options[i].value), NULL) == -1)
			return -1;
		v->noptions++;
	}
	return 0;
}

static int
parse_variant(struct pctx *c, int e, const char *p, void *out)
{
	struct shopify_variant *v = out;
	char q[PATH_MAX_], status[32];
	int el, it, pr;

	if (elem_object(c, e, p, 0, &el) == -1 ||
	    get_gid(c, el, p, "id", "ProductVariant", v->id) == -1 ||
	    get_str(c, el, p, "sku", 1, v->sku, sizeof(v->sku),
	    &v->has_sku) == -1 ||
	    get_str(c, el, p, "barcode", 1, v->barcode, sizeof(v->barcode),
	    &v->has_barcode) == -1 ||
	    parse_options(c, el, p, v) == -1 ||
	    get_bool(c, el, p, "requiresComponents",
	    &v->requires_components) == -1 ||
	    get_object(c, el, p, "inventoryItem", 0, &it) == -1)
		return -1;
	subpath(q, sizeof(q), p, "inventoryItem");
	if (get_gid(c, it, q, "id", "InventoryItem", v->item_id) == -1 ||
	    get_bool(c, it, q, "tracked", &v->tracked) == -1 ||
	    get_object(c, el, p, "product", 0, &pr) == -1)
		return -1;
	subpath(q, sizeof(q), p, "product");
	if (get_gid(c, pr, q, "id", "Product", v->product_id) == -1 ||
	    get_str(c, pr, q, "handle", 0, v->handle, sizeof(v->handle),
	    NULL) == -1 ||
	    get_str(c, pr, q, "status", 0, status, sizeof(status),
	    NULL) == -1)
		return -1;
	if (v->handle[0] == '\0')
		return fail(c, q, "handle", "empty");
	v->status = product_status(status);
	return 0;
}

enum shopify_result
shopify_parse_catalog(const char *body, size_t len,
    struct shopify_reply *rep, struct shopify_catalog *out)
{
	struct shopify_catalog o;
	struct pctx c;
	int data, conn;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "catalog", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "productVariants", 0, &conn) == -1 ||
	    parse_nodes(&c, conn, "data.productVariants", sizeof(*o.v),
	    parse_variant, (void **)&o.v, &o.n, &o.page) == -1)
		goto bad;
	*out = o;
	return pctx_done(&c);
bad:
	shopify_catalog_free(&o);
	return pctx_done(&c);
}

void
shopify_catalog_free(struct shopify_catalog *o)
{
	if (o == NULL)
		return;
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* d) levels */

/*
 * Reads quantities (array at el.quantities) and takes "available", which
 * must appear exactly once.
 */
static int
parse_available(struct pctx *c, int el, const char *p, int64_t *avail)
{
	char q[PATH_MAX_], name[SHOPIFY_CODE_MAX];
	size_t n, i;
	int arr, e, o, seen = 0;
	int64_t v;

	if (get_array(c, el, p, "quantities", QUANTITIES_MAX, 0, &arr,
	    &n) == -1)
		return -1;
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(q, sizeof(q), p, "quantities", i);
		if (elem_object(c, e, q, 0, &o) == -1 ||
		    get_str(c, o, q, "name", 0, name, sizeof(name),
		    NULL) == -1 ||
		    get_int(c, o, q, "quantity", SHOPIFY_QTY_MIN,
		    SHOPIFY_QTY_MAX, 0, &v, NULL) == -1)
			return -1;
		if (strcmp(name, "available") != 0)
			continue;
		if (seen++)
			return fail(c, q, NULL, "second \"available\"");
		*avail = v;
	}
	if (!seen)
		return fail(c, p, "quantities", "no \"available\"");
	return 0;
}

/* Checks that level gid carries the item's id when it names one. */
static int
check_level_item(struct pctx *c, const char *p, const char *level,
    const char *item)
{
	struct shopify_gid g;
	int64_t lid;

	if (shopify_gid_parse(level, "InventoryLevel", &g) == -1 ||
	    g.query[0] == '\0')
		return 0;
	if (shopify_gid_level_item(level, &lid) == -1 ||
	    lid != shopify_gid_id(item, "InventoryItem"))
		return fail(c, p, "id", "inventory_item_id does not match "
		    "item.id");
	return 0;
}

/*
 * The InventoryItem gid a level gid names ("...?inventory_item_id=N") into
 * item, or "" when it names none (levels_lean asked for no item: the
 * caller reads the page again with it).  A level gid is never refused
 * here: get_gid() checked it.
 */
static void
gid_item(const char *level, char *item, size_t itemsz)
{
	int64_t id;

	item[0] = '\0';
	if (shopify_gid_level_item(level, &id) == 0 && id > 0)
		snprintf(item, itemsz, "gid://shopify/InventoryItem/%lld",
		    (long long)id);
}

static int
parse_level(struct pctx *c, int e, const char *p, void *out)
{
	struct shopify_level *l = out;
	char q[PATH_MAX_], when[40];
	int el, it;

	if (elem_object(c, e, p, 0, &el) == -1 ||
	    get_gid(c, el, p, "id", "InventoryLevel", l->id) == -1 ||
	    get_bool(c, el, p, "isActive", &l->active) == -1 ||
	    get_str(c, el, p, "updatedAt", 0, when, sizeof(when),
	    NULL) == -1)
		return -1;
	if (shopify_parse_time(when, &l->updated_at) == -1)
		return fail(c, p, "updatedAt", "not an ISO UTC time");
	if (json_get(c->d, el, "item") == -1) {		/* levels_lean */
		gid_item(l->id, l->item_id, sizeof(l->item_id));
		return parse_available(c, el, p, &l->available);
	}
	subpath(q, sizeof(q), p, "item");
	if (get_object(c, el, p, "item", 0, &it) == -1 ||
	    get_gid(c, it, q, "id", "InventoryItem", l->item_id) == -1 ||
	    check_level_item(c, p, l->id, l->item_id) == -1)
		return -1;
	return parse_available(c, el, p, &l->available);
}

enum shopify_result
shopify_parse_levels(const char *body, size_t len, struct shopify_reply *rep,
    struct shopify_levels *out)
{
	struct shopify_levels o;
	struct pctx c;
	const char *cp = "data.location.inventoryLevels";
	int data, loc, conn;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "levels", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "location", 1, &loc) == -1)
		goto bad;
	if (loc == -1) {
		rep->result = SHOPIFY_NOT_FOUND;
		snprintf(rep->message, sizeof(rep->message),
		    "levels: data.location: null (no such location)");
		goto bad;
	}
	if (get_object(&c, loc, "data.location", "inventoryLevels", 0,
	    &conn) == -1 ||
	    parse_nodes(&c, conn, cp, sizeof(*o.v), parse_level,
	    (void **)&o.v, &o.n, &o.page) == -1)
		goto bad;
	*out = o;
	return pctx_done(&c);
bad:
	shopify_levels_free(&o);
	return pctx_done(&c);
}

void
shopify_levels_free(struct shopify_levels *o)
{
	if (o == NULL)
		return;
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* e) levels by id */

static int
parse_level_read(struct pctx *c, int e, const char *p, const char *want,
    struct shopify_level_read *r)
{
	int el;

	if (elem_object(c, e, p, 1, &el) == -1)
		return -1;
	if (el == -1)
		return 0;	/* the level is gone */
	if (get_gid(c, el, p, "id", "InventoryLevel", r->id) == -1)
		return -1;
	/* the gid names the item and location: nothing else to check */
	if (strcmp(r->id, want) != 0)
		return fail(c, p, "id", "does not match the requested id");
	if (get_bool(c, el, p, "isActive", &r->active) == -1 ||
	    parse_available(c, el, p, &r->available) == -1)
		return -1;
	r->found = 1;
	return 0;
}

enum shopify_result
shopify_parse_levels_by_id(const char *body, size_t len,
    const char *const *ids, size_t nids, struct shopify_reply *rep,
    struct shopify_level_reads *out)
{
	struct shopify_level_reads o;
	struct pctx c;
	char p[PATH_MAX_];
	size_t n, i;
	int data, arr, e;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "levels_by_id", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_array(&c, data, "data", "nodes", SHOPIFY_PAGE_MAX, 0, &arr,
	    &n) == -1)
		goto bad;
	if (n != nids) {
		fail(&c, "data", "nodes", "%zu nodes for %zu ids", n, nids);
		goto bad;
	}
	o.v = xcalloc(n, sizeof(*o.v));
	for (i = 0, e = json_array_first(c.d, arr); i < n;
	    i++, e = json_skip(c.d, e)) {
		elempath(p, sizeof(p), "data", "nodes", i);
		if (parse_level_read(&c, e, p, ids[i], &o.v[i]) == -1)
			goto bad;
		o.n++;
	}
	*out = o;
	return pctx_done(&c);
bad:
	shopify_level_reads_free(&o);
	return pctx_done(&c);
}

void
shopify_level_reads_free(struct shopify_level_reads *o)
{
	if (o == NULL)
		return;
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* f) adjust */

static const char *const ue_names[] = {
	"UNKNOWN",
	"INTERNAL_LEDGER_DOCUMENT",
	"INVALID_AVAILABLE_DOCUMENT",
	"INVALID_INVENTORY_ITEM",
	"INVALID_LEDGER_DOCUMENT",
	"INVALID_LOCATION",
	"INVALID_QUANTITY_DOCUMENT",
	"INVALID_QUANTITY_NAME",
	"INVALID_QUANTITY_TOO_LOW",
	"INVALID_QUANTITY_TOO_HIGH",
	"INVALID_REASON",
	"INVALID_REFERENCE_DOCUMENT",
	"SERVICE_UNAVAILABLE",
	"CHANGE_FROM_QUANTITY_STALE",
	"ADJUST_QUANTITIES_FAILED",
	"MAX_ONE_LEDGER_DOCUMENT",
	"ITEM_NOT_STOCKED_AT_LOCATION",
	"NON_MUTABLE_INVENTORY_ITEM",
	"IDEMPOTENCY_CONCURRENT_REQUEST",
	"IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
	"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
};

const char *
shopify_ue_code_name(enum shopify_ue_code code)
{
	if ((size_t)code >= sizeof(ue_names) / sizeof(ue_names[0]))
		return "UNKNOWN";
	return ue_names[code];
}

static enum shopify_ue_code
ue_code(const char *s)
{
	size_t i;

	for (i = 1; i < sizeof(ue_names) / sizeof(ue_names[0]); i++)
		if (strcmp(s, ue_names[i]) == 0)
			return (enum shopify_ue_code)i;
	return SHOPIFY_UE_UNKNOWN;
}

/* 1 when s is 1..3 decimal digits; the value in *v. */
static int
small_index(const char *s, int *v)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 3)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	*v = atoi(s);
	return 1;
}

/*
 * userErrors[].field: null or an array of strings, joined with '.' into
 * u->field; ["input","changes","N",...] sets u->change = N.
 */
static int
parse_ue_field(struct pctx *c, int el, const char *p,
    struct shopify_user_error *u)
{
	char q[PATH_MAX_], part[SHOPIFY_MSG_MAX], safe[SHOPIFY_MSG_MAX];
	size_t n, i, used = 0;
	int arr, e, idx, in_changes = 0;

	u->change = -1;
	if (get_array(c, el, p, "field", 16, 1, &arr, &n) == -1)
		return -1;
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(q, sizeof(q), p, "field", i);
		if (json_string(c->d, e, part, sizeof(part), NULL) == -1)
			return fail(c, q, NULL, "expected short string");
		sanitise(safe, sizeof(safe), part, strlen(part));
		if (i == 0)
			in_changes = strcmp(safe, "input") == 0;
		else if (i == 1)
			in_changes = in_changes && strcmp(safe, "changes") == 0;
		else if (i == 2 && in_changes && small_index(safe, &idx) &&
		    idx < SHOPIFY_CHANGES_MAX)
			u->change = idx;
		used += (size_t)snprintf(u->field + used,
		    used < sizeof(u->field) ? sizeof(u->field) - used : 0,
		    "%s%s", i ? "." : "", safe);
		if (used >= sizeof(u->field))
			used = sizeof(u->field) - 1;
	}
	return 0;
}

static int
parse_user_errors(struct pctx *c, int pay, const char *p,
    struct shopify_adjust *o)
{
	char q[PATH_MAX_], raw[SHOPIFY_MSG_MAX * 2];
	size_t n, i;
	int arr, e, el, present;
	struct shopify_user_error *u;

	if (get_array(c, pay, p, "userErrors", SHOPIFY_LIST_MAX, 0, &arr,
	    &n) == -1)
		return -1;
	o->errors = xcalloc(n, sizeof(*o->errors));
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		u = &o->errors[i];
		elempath(q, sizeof(q), p, "userErrors", i);
		if (elem_object(c, e, q, 0, &el) == -1 ||
		    parse_ue_field(c, el, q, u) == -1 ||
		    get_str(c, el, q, "message", 0, raw, sizeof(raw),
		    NULL) == -1)
			return -1;
		sanitise(u->message, sizeof(u->message), raw, strlen(raw));
		if (json_get(c->d, el, "code") >= 0) {
			if (get_str(c, el, q, "code", 1, raw, SHOPIFY_CODE_MAX,
			    &present) == -1)
				return -1;
			sanitise(u->code_text, sizeof(u->code_text), raw,
			    strlen(raw));
			u->code = ue_code(u->code_text);
		}
		o->nerrors++;
	}
	return 0;
}

static int
parse_change(struct pctx *c, int e, const char *p,
    struct shopify_change_out *ch)
{
	char q[PATH_MAX_];
	int el, t;

	if (elem_object(c, e, p, 0, &el) == -1 ||
	    get_str(c, el, p, "name", 0, ch->name, sizeof(ch->name),
	    NULL) == -1 ||
	    get_int(c, el, p, "delta", SHOPIFY_QTY_MIN * 2,
	    SHOPIFY_QTY_MAX * 2, 0, &ch->delta, NULL) == -1 ||
	    get_int(c, el, p, "quantityAfterChange", SHOPIFY_QTY_MIN,
	    SHOPIFY_QTY_MAX, 1, &ch->after, &ch->has_after) == -1 ||
	    get_object(c, el, p, "item", 1, &t) == -1)
		return -1;
	subpath(q, sizeof(q), p, "item");
	if (t != -1 && get_gid(c, t, q, "id", "InventoryItem",
	    ch->item_id) == -1)
		return -1;
	if (get_object(c, el, p, "location", 1, &t) == -1)
		return -1;
	subpath(q, sizeof(q), p, "location");
	if (t != -1 && get_gid(c, t, q, "id", "Location",
	    ch->location_id) == -1)
		return -1;
	return 0;
}

static int
parse_group(struct pctx *c, int pay, const char *p, struct shopify_adjust *o)
{
	char q[PATH_MAX_], r[PATH_MAX_];
	size_t n, i;
	int g, arr, e;

	if (get_object(c, pay, p, "inventoryAdjustmentGroup", 1, &g) == -1)
		return -1;
	if (g == -1)
		return 0;
	subpath(q, sizeof(q), p, "inventoryAdjustmentGroup");
	if (get_gid(c, g, q, "id", "InventoryAdjustmentGroup",
	    o->group_id) == -1 ||
	    get_array(c, g, q, "changes", SHOPIFY_LIST_MAX, 0, &arr,
	    &n) == -1)
		return -1;
	o->changes = xcalloc(n, sizeof(*o->changes));
	for (i = 0, e = json_array_first(c->d, arr); i < n;
	    i++, e = json_skip(c->d, e)) {
		elempath(r, sizeof(r), q, "changes", i);
		if (parse_change(c, e, r, &o->changes[i]) == -1)
			return -1;
		o->nchanges++;
	}
	return 0;
}

enum shopify_result
shopify_parse_adjust(const char *body, size_t len, struct shopify_reply *rep,
    struct shopify_adjust *out)
{
	const char *p = "data.inventoryAdjustQuantities";
	struct shopify_adjust o;
	struct pctx c;
	int data, pay;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "adjust", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "inventoryAdjustQuantities", 0,
	    &pay) == -1 ||
	    parse_user_errors(&c, pay, p, &o) == -1 ||
	    parse_group(&c, pay, p, &o) == -1) {
		shopify_adjust_free(&o);
		return pctx_done(&c);
	}
	if (o.nerrors > 0) {
		rep->result = SHOPIFY_USER_ERRORS;
		msgf(rep, "adjust: %s: %s", o.errors[0].code_text[0] ?
		    o.errors[0].code_text : "(no code)", o.errors[0].message);
	}
	*out = o;
	return pctx_done(&c);
}

void
shopify_adjust_free(struct shopify_adjust *o)
{
	if (o == NULL)
		return;
	free(o->changes);
	free(o->errors);
	memset(o, 0, sizeof(*o));
}

/* g) token */

/* Splits "a,b, c" into scopes; empty parts are refused. */
static int
split_scopes(struct pctx *c, const char *s, struct shopify_token *o)
{
	size_t n = 1, i, k;
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (*p == ',')
			n++;
	if (*s == '\0')
		n = 0;
	if (n > SHOPIFY_LIST_MAX)
		return fail(c, "", "scope", "too many scopes");
	o->scopes = xcalloc(n, sizeof(*o->scopes));
	for (i = 0, p = s; i < n; i++) {
		while (*p == ' ')
			p++;
		k = strcspn(p, ", ");
		if (k == 0 || k >= SHOPIFY_SCOPE_MAX)
			return fail(c, "", "scope", "bad scope list");
		memcpy(o->scopes[i].handle, p, k);
		p += k;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		o->nscopes++;
	}
	return 0;
}

/* A token must be printable ASCII without spaces. */
static int
token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t != '\0'; t++)
		if (*t <= ' ' || *t > '~')
			return 0;
	return 1;
}

/* {"error": "...", "error_description": "..."}: an OAuth refusal. */
static void
token_refused(struct pctx *c, int err)
{
	char raw[SHOPIFY_MSG_MAX], code[SHOPIFY_CODE_MAX], desc[SHOPIFY_MSG_MAX];
	int t;

	code[0] = desc[0] = '\0';
	if (json_string(c->d, err, raw, sizeof(raw), NULL) == 0)
		sanitise(code, sizeof(code), raw, strlen(raw));
	if ((t = json_get(c->d, 0, "error_description")) >= 0 &&
	    json_string(c->d, t, raw, sizeof(raw), NULL) == 0)
		sanitise(desc, sizeof(desc), raw, strlen(raw));
	c->rep->result = SHOPIFY_ACCESS_DENIED;
	memcpy(c->rep->code, code, sizeof(c->rep->code));
	msgf(c->rep, "token: %s%s%s", code, desc[0] ? ": " : "", desc);
}

enum shopify_result
shopify_parse_token(const char *body, size_t len, struct shopify_reply *rep,
    struct shopify_token *out)
{
	struct shopify_token o;
	struct pctx c;
	char err[JSON_ERR_MAX], *scope = NULL;
	int t;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	pctx_init(&c, "token", rep);
	c.d = json_parse(body, len, 64 * 1024, 1024, err, sizeof(err));
	if (c.d == NULL) {
		rep->result = SHOPIFY_MALFORMED;
		snprintf(rep->message, sizeof(rep->message),
		    "token: invalid JSON: %s", err);
		return pctx_done(&c);
	}
	if ((t = json_get(c.d, 0, "error")) >= 0) {
		token_refused(&c, t);
		return pctx_done(&c);
	}
	if (parse_errors(&c) != 0)
		return pctx_done(&c);
	if (get_str(&c, 0, "", "access_token", 0, o.token, sizeof(o.token),
	    NULL) == -1)
		goto bad;
	if (!token_ok(o.token)) {
		fail(&c, "", "access_token", "not a token");
		goto bad;
	}
	if (get_int(&c, 0, "", "expires_in", 1, INT32_MAX, 0, &o.expires_in,
	    NULL) == -1 ||
	    get_typed(&c, 0, "", "scope", JSON_STRING, 0, &t) == -1)
		goto bad;
	scope = json_strdup(c.d, t, NULL);
	if (split_scopes(&c, scope, &o) == -1)
		goto bad;
	free(scope);
	*out = o;
	return pctx_done(&c);
bad:
	free(scope);
	shopify_token_free(&o);
	return pctx_done(&c);
}

void
shopify_token_free(struct shopify_token *o)
{
	volatile char *p;
	size_t i;

	if (o == NULL)
		return;
	free(o->scopes);
	p = o->token;
	for (i = 0; i < sizeof(o->token); i++)
		p[i] = 0;
	memset(o, 0, sizeof(*o));
}

/* GIDs and time */

int
shopify_gid_parse(const char *s, const char *type, struct shopify_gid *g)
{
	static const char pfx[] = "gid://shopify/";
	const char *p, *q;
	size_t tl, n;
	int64_t id = 0;

	memset(g, 0, sizeof(*g));
	if (s == NULL || (n = strlen(s)) >= SHOPIFY_GID_MAX ||
	    strncmp(s, pfx, sizeof(pfx) - 1) != 0)
		return -1;
	p = s + sizeof(pfx) - 1;
	for (tl = 0; isalpha((unsigned char)p[tl]); tl++)
		continue;
	if (tl == 0 || tl >= sizeof(g->type) || p[tl] != '/')
		return -1;
	if (type != NULL && (strlen(type) != tl || memcmp(p, type, tl) != 0))
		return -1;
	memcpy(g->type, p, tl);
	for (q = p + tl + 1; *q >= '0' && *q <= '9'; q++) {
		if (id > (INT64_MAX - (*q - '0')) / 10)
			return -1;
		id = id * 10 + (*q - '0');
	}
	if (q == p + tl + 1 || (*q != '\0' && *q != '?'))
		return -1;
	if (*q == '?') {
		for (p = ++q; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr("_=&%.-", *p) == NULL)
				return -1;
		memcpy(g->query, q, strlen(q) + 1);
	}
	g->id = id;
	return 0;
}

int64_t
shopify_gid_id(const char *s, const char *type)
{
	struct shopify_gid g;

	if (shopify_gid_parse(s, type, &g) == -1)
		return -1;
	return g.id;
}

int
shopify_gid_level_item(const char *s, int64_t *item)
{
	static const char key[] = "inventory_item_id=";
	struct shopify_gid g;
	const char *p;
	int64_t v = 0;

	if (shopify_gid_parse(s, "InventoryLevel", &g) == -1 ||
	    strncmp(g.query, key, sizeof(key) - 1) != 0)
		return -1;
	p = g.query + sizeof(key) - 1;
	if (*p == '\0')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (*p != '\0')
		return -1;
	*item = v;
	return 0;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
shopify_format_time(int64_t t, char *buf, size_t bufsz)
{
	int64_t z, era, doe, yoe, y, doy, mp, d, m, s;

	if (t < 0 || t > TIME_MAX || bufsz < 21)
		return -1;
	z = t / 86400 + 719468;
	s = t % 86400;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, bufsz, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
	    (long long)y, (long long)m, (long long)d, (long long)(s / 3600),
	    (long long)(s / 60 % 60), (long long)(s % 60));
	return 0;
}

/* n decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
shopify_parse_time(const char *s, int64_t *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int y, mo, d, h, mi, se;
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			continue;
		if (p == s + 20)
			return -1;
	}
	if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0)))
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    (se == 60 ? 59 : se);
	return 0;
}

/* h) bulk operations (docs/shopify-api.md §7) */

static const char *const bulk_status_names[] = {
	[SHOPIFY_BULK_CREATED] = "CREATED",
	[SHOPIFY_BULK_RUNNING] = "RUNNING",
	[SHOPIFY_BULK_COMPLETED] = "COMPLETED",
	[SHOPIFY_BULK_FAILED] = "FAILED",
	[SHOPIFY_BULK_CANCELED] = "CANCELED",
	[SHOPIFY_BULK_CANCELING] = "CANCELING",
	[SHOPIFY_BULK_EXPIRED] = "EXPIRED",
	[SHOPIFY_BULK_OTHER] = "OTHER"
};

const char *
shopify_bulk_status_name(enum shopify_bulk_status s)
{
	if ((size_t)s >= sizeof(bulk_status_names) /
	    sizeof(bulk_status_names[0]))
		return "?";
	return bulk_status_names[s];
}

static enum shopify_bulk_status
bulk_status(const char *s)
{
	size_t i;

	for (i = 0; i < SHOPIFY_BULK_OTHER; i++)
		if (strcmp(s, bulk_status_names[i]) == 0)
			return (enum shopify_bulk_status)i;
	return SHOPIFY_BULK_OTHER;
}

/*
 * The file's URL goes back to curl: https, printable ASCII, no spaces or
 * quotes (a signed storage URL is long but plain).
 */
static int
url_ok(const char *u)
{
	if (strncmp(u, "https://", 8) != 0 || u[8] == '\0')
		return 0;
	for (; *u != '\0'; u++)
		if (*u <= ' ' || *u > '~' || *u == '"' || *u == '\\')
			return 0;
	return 1;
}

/* An UnsignedInt64, which Shopify sends as a decimal string. */
static int
get_u64_string(struct pctx *c, int obj, const char *path, const char *key,
    int64_t *v)
{
	char buf[24], *end;
	unsigned long long x;

	if (get_str(c, obj, path, key, 0, buf, sizeof(buf), NULL) == -1)
		return -1;
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0 ||
	    x > INT64_MAX)
		return fail(c, path, key, "not an unsigned integer string");
	*v = (int64_t)x;
	return 0;
}

/* bulkOperation at o (path p): id, status and what the status query adds. */
static int
parse_bulk_op(struct pctx *c, int o, const char *p, int full,
    struct shopify_bulk_op *out)
{
	char status[32], url[SHOPIFY_URL_MAX];
	int present;

	if (get_gid(c, o, p, "id", "BulkOperation", out->id) == -1 ||
	    get_str(c, o, p, "status", 0, status, sizeof(status), NULL) == -1)
		return -1;
	out->status = bulk_status(status);
	if (!full)
		return 0;
	if (get_str(c, o, p, "errorCode", 1, out->error_code,
	    sizeof(out->error_code), NULL) == -1 ||
	    get_u64_string(c, o, p, "objectCount", &out->object_count) == -1 ||
	    get_str(c, o, p, "url", 1, url, sizeof(url), &present) == -1)
		return -1;
	if (!token_ok(out->error_code) && out->error_code[0] != '\0') {
		out->error_code[0] = '\0';
		return fail(c, p, "errorCode", "not a code");
	}
	if (present && !url_ok(url))
		return fail(c, p, "url", "not a plain https URL");
	if (present)
		memcpy(out->url, url, sizeof(out->url));
	return 0;
}

/*
 * pctx_done() for parsers that fill *out as they go: a failed parse leaves
 * it zeroed, never half a reply.
 */
static enum shopify_result
done_zeroed(struct pctx *c, void *out, size_t size)
{
	enum shopify_result r = pctx_done(c);

	if (r != SHOPIFY_OK && r != SHOPIFY_USER_ERRORS)
		memset(out, 0, size);
	return r;
}

enum shopify_result
shopify_parse_bulk_run(const char *body, size_t len,
    struct shopify_reply *rep, struct shopify_bulk_op *out)
{
	struct shopify_adjust ue;
	struct pctx c;
	const char *p = "data.bulkOperationRunQuery";
	char q[PATH_MAX_];
	int data, pay, op;

	memset(out, 0, sizeof(*out));
	memset(&ue, 0, sizeof(ue));
	pctx_init(&c, "bulk_run", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "bulkOperationRunQuery", 0,
	    &pay) == -1 ||
	    parse_user_errors(&c, pay, p, &ue) == -1 ||
	    get_object(&c, pay, p, "bulkOperation", 1, &op) == -1)
		goto done;
	if (ue.nerrors > 0) {
		rep->result = SHOPIFY_USER_ERRORS;
		snprintf(rep->code, sizeof(rep->code), "%s",
		    ue.errors[0].code_text);
		msgf(rep, "bulk_run: %s", ue.errors[0].message);
		goto done;
	}
	subpath(q, sizeof(q), p, "bulkOperation");
	if (op == -1)
		fail(&c, p, "bulkOperation", "null without userErrors");
	else
		parse_bulk_op(&c, op, q, 0, out);
done:
	shopify_adjust_free(&ue);
	return done_zeroed(&c, out, sizeof(*out));
}

enum shopify_result
shopify_parse_bulk_status(const char *body, size_t len,
    struct shopify_reply *rep, struct shopify_bulk_op *out)
{
	struct pctx c;
	int data, op;

	memset(out, 0, sizeof(*out));
	pctx_init(&c, "bulk_status", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "bulkOperation", 1, &op) == -1)
		return pctx_done(&c);
	if (op == -1) {
		rep->result = SHOPIFY_NOT_FOUND;
		msgf(rep, "bulk_status: data.bulkOperation: null (no such "
		    "operation)");
	} else
		parse_bulk_op(&c, op, "data.bulkOperation", 1, out);
	return done_zeroed(&c, out, sizeof(*out));
}

enum shopify_result
shopify_parse_variants_count(const char *body, size_t len,
    struct shopify_reply *rep, int64_t *count)
{
	struct pctx c;
	int data, o;

	*count = 0;
	pctx_init(&c, "variants_count", rep);
	if (envelope(&c, body, len, &data) == -1 ||
	    get_object(&c, data, "data", "productVariantsCount", 1, &o) == -1)
		return pctx_done(&c);
	if (o == -1) {		/* nullable (2026-07): not counted */
		*count = -1;
		return pctx_done(&c);
	}
	get_int(&c, o, "data.productVariantsCount", "count", 0, INT32_MAX, 0,
	    count, NULL);
	return done_zeroed(&c, count, sizeof(*count));
}

/*
 * Parses one JSONL line of a bulk file as an object; a line is its own
 * document, with no envelope.
 */
static int
line_begin(struct pctx *c, const char *op, struct shopify_reply *rep,
    const char *line, size_t len)
{
	char err[JSON_ERR_MAX];

	pctx_init(c, op, rep);
	c->d = json_parse(line, len, LINE_MAX_BODY, LINE_MAX_TOKENS, err,
	    sizeof(err));
	if (c->d == NULL) {
		rep->result = SHOPIFY_MALFORMED;
		msgf(rep, "%s: invalid JSON: %s", op, err);
		return -1;
	}
	if (json_type(c->d, 0) != JSON_OBJECT)
		return fail(c, "line", NULL, "expected object");
	return 0;
}

enum shopify_result
shopify_parse_bulk_variant(const char *line, size_t len,
    struct shopify_reply *rep, struct shopify_variant *out)
{
	struct pctx c;

	memset(out, 0, sizeof(*out));
	if (line_begin(&c, "bulk_catalog", rep, line, len) == 0)
		parse_variant(&c, 0, "line", out);
	return done_zeroed(&c, out, sizeof(*out));
}

enum shopify_result
shopify_parse_bulk_level(const char *line, size_t len,
    struct shopify_reply *rep, struct shopify_bulk_level *out)
{
	char id[SHOPIFY_GID_MAX];
	struct pctx c;

	memset(out, 0, sizeof(*out));
	if (line_begin(&c, "bulk_levels", rep, line, len) == -1 ||
	    get_str(&c, 0, "line", "id", 0, id, sizeof(id), NULL) == -1)
		return pctx_done(&c);
	if (shopify_gid_id(id, "Location") > 0) {
		if (json_get(c.d, 0, "__parentId") >= 0)
			fail(&c, "line", "__parentId", "on a location");
		else
			memcpy(out->location_id, id, sizeof(id));
		return pctx_done(&c);
	}
	out->is_level = 1;
	if (parse_level(&c, 0, "line", &out->level) == 0)
		get_gid(&c, 0, "line", "__parentId", "Location",
		    out->location_id);
	return done_zeroed(&c, out, sizeof(*out));
}

/* Builders */

/* Starts {"query": doc, "variables": { ... */
static void
body_begin(struct json_writer *w, const char *doc)
{
	jw_init(w);
	jw_object_begin(w);
	jw_key(w, "query");
	jw_string(w, doc);
	jw_key(w, "variables");
	jw_object_begin(w);
}

/* Closes both objects and hands the body over. */
static char *
body_end(struct json_writer *w, size_t *lenp)
{
	jw_object_end(w);
	jw_object_end(w);
	return jw_finish(w, lenp);
}

/* Writes "after": cursor or null. */
static void
put_after(struct json_writer *w, const char *after)
{
	jw_key(w, "after");
	if (after != NULL)
		jw_string(w, after);
	else
		jw_null(w);
}

/* Writes "query": "updated_at:>='ISO'" or null (since < 0).  0 or -1. */
static int
put_since(struct json_writer *w, int64_t since)
{
	char iso[32], q[64];

	jw_key(w, "query");
	if (since < 0) {
		jw_null(w);
		return 0;
	}
	if (shopify_format_time(since, iso, sizeof(iso)) == -1)
		return -1;
	snprintf(q, sizeof(q), "updated_at:>='%s'", iso);
	jw_string(w, q);
	return 0;
}

static int
first_ok(int first)
{
	return first >= 1 && first <= SHOPIFY_PAGE_MAX;
}

/* A cursor from a reply: short printable ASCII. */
static int
cursor_ok(const char *after)
{
	if (after == NULL)
		return 1;
	if (strlen(after) >= SHOPIFY_CURSOR_MAX || *after == '\0')
		return 0;
	return token_ok(after);
}

char *
shopify_build_check(size_t *lenp)
{
	struct json_writer w;

	body_begin(&w, shopify_doc_check);
	return body_end(&w, lenp);
}

char *
shopify_build_variants_count(size_t *lenp)
{
	struct json_writer w;

	body_begin(&w, shopify_doc_variants_count);
	return body_end(&w, lenp);
}

char *
shopify_build_bulk_run(enum shopify_bulk_kind kind, size_t *lenp)
{
	struct json_writer w;

	body_begin(&w, shopify_doc_bulk_run);
	jw_key(&w, "query");
	jw_string(&w, kind == SHOPIFY_BULK_CATALOG ? shopify_doc_bulk_catalog :
	    shopify_doc_bulk_levels);
	return body_end(&w, lenp);
}

char *
shopify_build_bulk_status(const char *id, size_t *lenp)
{
	struct shopify_gid g;
	struct json_writer w;

	if (shopify_gid_parse(id, "BulkOperation", &g) == -1)
		return NULL;
	body_begin(&w, shopify_doc_bulk_status);
	jw_key(&w, "id");
	jw_string(&w, id);
	return body_end(&w, lenp);
}

char *
shopify_build_locations(int first, const char *after, size_t *lenp)
{
	struct json_writer w;

	if (!first_ok(first) || !cursor_ok(after))
		return NULL;
	body_begin(&w, shopify_doc_locations);
	jw_key(&w, "first");
	jw_int64(&w, first);
	put_after(&w, after);
	return body_end(&w, lenp);
}

char *
shopify_build_catalog(int first, const char *after, int64_t since,
    size_t *lenp)
{
	struct json_writer w;

	if (!first_ok(first) || !cursor_ok(after))
		return NULL;
	body_begin(&w, shopify_doc_catalog);
	jw_key(&w, "first");
	jw_int64(&w, first);
	put_after(&w, after);
	if (put_since(&w, since) == -1) {
		jw_free(&w);
		return NULL;
	}
	return body_end(&w, lenp);
}

char *
shopify_build_levels(const char *location_gid, int first, const char *after,
    int64_t since, int items, size_t *lenp)
{
	struct json_writer w;

	if (shopify_gid_id(location_gid, "Location") < 0 ||
	    !first_ok(first) || !cursor_ok(after))
		return NULL;
	body_begin(&w, items ? shopify_doc_levels : shopify_doc_levels_lean);
	jw_key(&w, "location");
	jw_string(&w, location_gid);
	jw_key(&w, "first");
	jw_int64(&w, first);
	put_after(&w, after);
	if (put_since(&w, since) == -1) {
		jw_free(&w);
		return NULL;
	}
	return body_end(&w, lenp);
}

char *
shopify_build_levels_by_id(const char *const *ids, size_t n, size_t *lenp)
{
	struct json_writer w;
	size_t i;

	if (n == 0 || n > SHOPIFY_PAGE_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		if (shopify_gid_id(ids[i], "InventoryLevel") < 0)
			return NULL;
	body_begin(&w, shopify_doc_levels_by_id);
	jw_key(&w, "ids");
	jw_array_begin(&w);
	for (i = 0; i < n; i++)
		jw_string(&w, ids[i]);
	jw_array_end(&w);
	return body_end(&w, lenp);
}

/* An idempotency key: 1..255 printable ASCII bytes, not all spaces. */
static int
key_ok(const char *key)
{
	size_t n;

	if (key == NULL || (n = strlen(key)) == 0 || n > KEY_MAX)
		return 0;
	return token_ok(key);
}

static int
change_ok(const struct shopify_change_in *c)
{
	return shopify_gid_id(c->item_id, "InventoryItem") >= 0 &&
	    shopify_gid_id(c->location_id, "Location") >= 0 &&
	    c->delta >= SHOPIFY_QTY_MIN && c->delta <= SHOPIFY_QTY_MAX &&
	    (!c->has_from || (c->from >= SHOPIFY_QTY_MIN &&
	    c->from <= SHOPIFY_QTY_MAX));
}

static void
put_change(struct json_writer *w, const struct shopify_change_in *c)
{
	jw_object_begin(w);
	jw_key(w, "inventoryItemId");
	jw_string(w, c->item_id);
	jw_key(w, "locationId");
	jw_string(w, c->location_id);
	jw_key(w, "delta");
	jw_int64(w, c->delta);
	/* mandatory from 2026-04, written even when null */
	jw_key(w, "changeFromQuantity");
	if (c->has_from)
		jw_int64(w, c->from);
	else
		jw_null(w);
	jw_object_end(w);
}

char *
shopify_build_adjust(const char *key, const char *reason,
    const char *reference_uri, const struct shopify_change_in *changes,
    size_t n, size_t *lenp)
{
	struct json_writer w;
	size_t i;

	if (!key_ok(key) || reason == NULL || !token_ok(reason) || n == 0 ||
	    n > SHOPIFY_CHANGES_MAX ||
	    (reference_uri != NULL && !token_ok(reference_uri)))
		return NULL;
	for (i = 0; i < n; i++)
		if (!change_ok(&changes[i]))
			return NULL;
	body_begin(&w, shopify_doc_adjust);
	jw_key(&w, "input");
	jw_object_begin(&w);
	jw_key(&w, "name");
	jw_string(&w, "available");
	jw_key(&w, "reason");
	jw_string(&w, reason);
	if (reference_uri != NULL) {
		jw_key(&w, "referenceDocumentUri");
		jw_string(&w, reference_uri);
	}
	jw_key(&w, "changes");
	jw_array_begin(&w);
	for (i = 0; i < n; i++)
		put_change(&w, &changes[i]);
	jw_array_end(&w);
	jw_object_end(&w);
	jw_key(&w, "key");
	jw_string(&w, key);
	return body_end(&w, lenp);
}

/* Names and dumps */

const char *
shopify_result_name(enum shopify_result r)
{
	static const char *const names[] = {
		"OK", "USER_ERRORS", "NOT_FOUND", "THROTTLED",
		"ACCESS_DENIED", "BAD_REQUEST", "INVALID", "MAX_COST",
		"SERVER_ERROR", "ERROR_OTHER", "MALFORMED"
	};

	if ((size_t)r >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[r];
}

const char *
shopify_product_status_name(enum shopify_product_status s)
{
	static const char *const names[] = {
		"ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED", "OTHER"
	};

	if ((size_t)s >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[s];
}

void
shopify_reply_print(const struct shopify_reply *r, FILE *f)
{
	fprintf(f, "result %s\n", shopify_result_name(r->result));
	if (r->cost.present) {
		fprintf(f, "cost requested %lld actual ",
		    (long long)r->cost.requested);
		if (r->cost.has_actual)
			fprintf(f, "%lld", (long long)r->cost.actual);
		else
			fprintf(f, "null");
		fprintf(f, " available %g/%g restore %g\n", r->cost.available,
		    r->cost.maximum, r->cost.restore_rate);
	}
	if (r->nerrors)
		fprintf(f, "errors %d\n", r->nerrors);
	if (r->code[0])
		fprintf(f, "code %s\n", r->code);
	if (r->message[0])
		fprintf(f, "message %s\n", r->message);
}

static void
page_print(const struct shopify_page *p, FILE *f)
{
	fprintf(f, "page has_next %d cursor \"%s\"\n", p->has_next,
	    p->end_cursor);
}

/* Prints an untrusted string sanitised, quoted. */
static void
qprint(FILE *f, const char *s)
{
	char buf[SHOPIFY_STR_MAX + 8];

	fprintf(f, "\"%s\"", log_safe(buf, sizeof(buf), s, strlen(s)));
}

void
shopify_check_print(const struct shopify_check *o, FILE *f)
{
	size_t i;

	fprintf(f, "shop ");
	qprint(f, o->shop_name);
	fprintf(f, " domain ");
	qprint(f, o->domain);
	fprintf(f, "\n");
	for (i = 0; i < o->nversions; i++) {
		fprintf(f, "version ");
		qprint(f, o->versions[i].handle);
		fprintf(f, " supported %d\n", o->versions[i].supported);
	}
	for (i = 0; i < o->nscopes; i++) {
		fprintf(f, "scope ");
		qprint(f, o->scopes[i].handle);
		fprintf(f, "\n");
	}
}

void
shopify_locations_print(const struct shopify_locations *o, FILE *f)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		fprintf(f, "location %s active %d name ", o->v[i].id,
		    o->v[i].active);
		qprint(f, o->v[i].name);
		fprintf(f, "\n");
	}
	page_print(&o->page, f);
}

void
shopify_variant_print(const struct shopify_variant *v, FILE *f)
{
	size_t i;

	fprintf(f, "variant %s product %s handle ", v->id, v->product_id);
	qprint(f, v->handle);
	fprintf(f, " status %s\n  sku ",
	    shopify_product_status_name(v->status));
	if (v->has_sku)
		qprint(f, v->sku);
	else
		fprintf(f, "null");
	fprintf(f, " barcode ");
	if (v->has_barcode)
		qprint(f, v->barcode);
	else
		fprintf(f, "null");
	fprintf(f, " item %s tracked %d bundle %d\n", v->item_id, v->tracked,
	    v->requires_components);
	for (i = 0; i < v->noptions; i++) {
		fprintf(f, "  option ");
		qprint(f, v->options[i].name);
		fprintf(f, " = ");
		qprint(f, v->options[i].value);
		fprintf(f, "\n");
	}
}

void
shopify_catalog_print(const struct shopify_catalog *o, FILE *f)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		shopify_variant_print(&o->v[i], f);
	page_print(&o->page, f);
}

void
shopify_levels_print(const struct shopify_levels *o, FILE *f)
{
	char when[32];
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (shopify_format_time(o->v[i].updated_at, when,
		    sizeof(when)) == -1)
			snprintf(when, sizeof(when), "?");
		fprintf(f, "level %s item %s active %d updated %s "
		    "available %lld\n", o->v[i].id, o->v[i].item_id,
		    o->v[i].active, when, (long long)o->v[i].available);
	}
	page_print(&o->page, f);
}

void
shopify_level_reads_print(const struct shopify_level_reads *o, FILE *f)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (!o->v[i].found) {
			fprintf(f, "read %zu gone\n", i);
			continue;
		}
		fprintf(f, "read %zu %s active %d available %lld\n", i,
		    o->v[i].id, o->v[i].active,
		    (long long)o->v[i].available);
	}
}

void
shopify_adjust_print(const struct shopify_adjust *o, FILE *f)
{
	const struct shopify_change_out *c;
	const struct shopify_user_error *u;
	size_t i;

	fprintf(f, "group \"%s\"\n", o->group_id);
	for (i = 0; i < o->nchanges; i++) {
		c = &o->changes[i];
		fprintf(f, "change %s delta %lld after ", c->name,
		    (long long)c->delta);
		if (c->has_after)
			fprintf(f, "%lld", (long long)c->after);
		else
			fprintf(f, "null");
		fprintf(f, " item \"%s\" location \"%s\"\n", c->item_id,
		    c->location_id);
	}
	for (i = 0; i < o->nerrors; i++) {
		u = &o->errors[i];
		fprintf(f, "user_error %s (%s) change %d field \"%s\" "
		    "message \"%s\"\n", shopify_ue_code_name(u->code),
		    u->code_text, u->change, u->field, u->message);
	}
}

void
shopify_token_print(const struct shopify_token *o, FILE *f)
{
	size_t i;

	fprintf(f, "token (%zu bytes, not shown) expires_in %lld\n",
	    strlen(o->token), (long long)o->expires_in);
	for (i = 0; i < o->nscopes; i++)
		fprintf(f, "scope %s\n", o->scopes[i].handle);
}

void
shopify_count_print(int64_t count, FILE *f)
{
	fprintf(f, "count %lld\n", (long long)count);
}

void
shopify_bulk_op_print(const struct shopify_bulk_op *o, FILE *f)
{
	fprintf(f, "bulk_op %s status %s error_code \"%s\" objects %lld\n",
	    o->id, shopify_bulk_status_name(o->status), o->error_code,
	    (long long)o->object_count);
	fprintf(f, "url \"%s\"\n", o->url);	/* validated: no spaces */
}

void
shopify_bulk_level_print(const struct shopify_bulk_level *o, FILE *f)
{
	char when[32];

	if (!o->is_level) {
		fprintf(f, "location %s\n", o->location_id);
		return;
	}
	if (shopify_format_time(o->level.updated_at, when, sizeof(when)) == -1)
		snprintf(when, sizeof(when), "?");
	fprintf(f, "level %s item %s location %s active %d updated %s "
	    "available %lld\n", o->level.id, o->level.item_id, o->location_id,
	    o->level.active, when, (long long)o->level.available);
}
