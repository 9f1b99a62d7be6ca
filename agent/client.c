/*
 * client.c: owns one store's conversation with the Admin API: endpoint,
 * credentials (a token file, or the client-credentials grant refreshed
 * ahead of expiry and once on a 401), the local cost bucket fed by
 * extensions.cost (docs/design.md §5), and retries of reads.  Writes are sent once;
 * the engine decides about replays.  Tokens are never logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "http.h"
#include "jsonl.h"
#include "log.h"
#include "notify.h"
#include "shopify.h"
#include "util.h"

#define READ_TRIES		4	/* attempts of one read */
#define THROTTLE_TRIES		8	/* THROTTLED answers of one read */
#define RETRY_BASE_MS		250
#define RETRY_CAP_MS		4000
#define TOKEN_REFRESH_AHEAD_MS	(60 * 60 * 1000)	/* refresh 1 h early */
#define LEVELS_FIRST_IDLE	25	/* first page of an incremental poll */
#define LEVELS_FIRST		250
#define CATALOG_FIRST		100
#define LOCATIONS_FIRST		100
#define URL_MAX			(CONF_PATH_MAX + 128)
#define COST_MARGIN		10	/* points kept free when sizing pages */
#define PAGE_MIN_NODES		25	/* a page shrinks to fit the bucket down to this */
#define QUERY_COST_MAX		1000	/* Shopify's single-query limit (docs/shopify-api.md §4) */

/* The paged operations, for the per-node cost learned from replies. */
enum paged_op { OP_LOCATIONS, OP_CATALOG, OP_LEVELS, OP_COUNT };
/*
 * The operations whose size is a list of levels or changes, for the cost
 * per element learned from replies: a read by id, a write.
 */
enum sized_op { SIZED_BY_ID, SIZED_ADJUST, SIZED_COUNT };
#define ADJUST_REASON		"correction"

/*
 * What a sized operation (levels by id, a write batch) asked, as a line
 * a + b*n through the last two sizes n seen (requestedQueryCost): reads by
 * id grow with their levels, a write does not grow with its changes (its
 * changes list is one object), and neither is assumed.
 */
struct cost_line {
	double		 n[2], cost[2];	/* [0] the last, [1] the last of
					   another size */
	int		 seen;		/* 0, 1 or 2 of them */
};

struct client {
	const struct conf	*c;
	const struct store_conf	*sc;
	size_t			 idx;
	struct http		*h;
	volatile int		*stop;
	char			 url_graphql[URL_MAX + 64];
	char			 url_token[URL_MAX + 64];
	char			 token[SHOPIFY_TOKEN_MAX];
	int			 grant;		/* client-credentials */
	int64_t			 token_expires;	/* wall ms */
	int64_t			 token_lifetime;	/* ms, as granted */
	/* the cost bucket as last reported, and when (monotonic ms) */
	int			 bucket_known;
	double			 available, maximum, restore;
	int64_t			 bucket_at;
	double			 node_cost[OP_COUNT];	/* requested / first */
	struct cost_line	 sized[SIZED_COUNT];	/* learned costs */
	int			 levels_items;	/* a level gid named no item:
						   polls ask for item { id } */
	struct client_stats	 stats;
};

/* A parser adapter: the shopify_parse_* of one operation. */
typedef enum shopify_result (*parse_fn)(const char *, size_t,
    struct shopify_reply *, void *out, void *arg);

const char *
client_name(const struct client *cl)
{
	return cl->sc->name;
}

const struct client_stats *
client_stats(const struct client *cl)
{
	return &cl->stats;
}

static void
set_error(struct client *cl, const char *fmt, const char *what)
{
	char safe[200];

	log_safe(safe, sizeof(safe), what, strlen(what));
	snprintf(cl->stats.last_error, sizeof(cl->stats.last_error), fmt, safe);
}

struct client *
client_new(const struct conf *c, size_t i, volatile int *stop)
{
	struct client *cl = xcalloc(1, sizeof(*cl));
	char why[256], base[URL_MAX];

	cl->c = c;
	cl->sc = &c->stores[i];
	cl->idx = i;
	cl->stop = stop;
	if (cl->sc->url[0] != '\0')
		snprintf(base, sizeof(base), "%s", cl->sc->url);
	else
		snprintf(base, sizeof(base), "https://%s", cl->sc->shop);
	snprintf(cl->url_graphql, sizeof(cl->url_graphql),
	    "%s/admin/api/%s/graphql.json", base, c->api_version);
	snprintf(cl->url_token, sizeof(cl->url_token),
	    "%s/admin/oauth/access_token", base);
	cl->grant = cl->sc->token_file[0] == '\0';
	/* estimates until the first replies tell the real per-node costs */
	cl->node_cost[OP_LOCATIONS] = 2;
	cl->node_cost[OP_CATALOG] = 5;
	cl->node_cost[OP_LEVELS] = 4;
	if (!cl->grant && conf_read_secret(cl->sc->token_file, cl->token,
	    sizeof(cl->token), why, sizeof(why)) == -1) {
		log_err("store %s: %s", cl->sc->name, why);
		free(cl);
		return NULL;
	}
	if ((cl->h = http_new(c->ca_file, c->timeout_ms, stop)) == NULL) {
		client_free(cl);
		return NULL;
	}
	return cl;
}

void
client_free(struct client *cl)
{
	if (cl == NULL)
		return;
	http_free(cl->h);
	memset(cl->token, 0, sizeof(cl->token));
	free(cl);
}

/* ---- credentials -------------------------------------------------------- */

/* Appends s to buf form-urlencoded (application/x-www-form-urlencoded). */
static void
form_append(char *buf, size_t bufsz, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);

	for (; *s != '\0' && n + 4 < bufsz; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			buf[n++] = (char)ch;
		else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = '\0';
}

/* Runs the client-credentials grant (docs/shopify-api.md §5).  CLIENT_OK or why not. */
static enum client_result
fetch_token(struct client *cl)
{
	char secret[SHOPIFY_TOKEN_MAX], why[256], body[2048];
	struct http_request req;
	struct http_reply rep;
	struct shopify_reply sr;
	struct shopify_token tok;
	enum http_result hr;

	if (conf_read_secret(cl->sc->client_secret_file, secret,
	    sizeof(secret), why, sizeof(why)) == -1) {
		set_error(cl, "%s", why);
		return CLIENT_AUTH;
	}
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=");
	form_append(body, sizeof(body), cl->sc->client_id);
	strncat(body, "&client_secret=", sizeof(body) - strlen(body) - 1);
	form_append(body, sizeof(body), secret);
	memset(secret, 0, sizeof(secret));
	memset(&req, 0, sizeof(req));
	req.url = cl->url_token;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = body;
	req.len = strlen(body);
	hr = http_post(cl->h, &req, &rep);
	memset(body, 0, sizeof(body));
	cl->stats.requests++;
	if (rep.date_offset_ms != 0)
		cl->stats.clock_offset_ms = rep.date_offset_ms;
	if (hr != HTTP_OK) {
		set_error(cl, "token request: %s", rep.error);
		http_reply_free(&rep);
		return hr == HTTP_ERR_ABORTED ? CLIENT_STOPPED : CLIENT_TRANSIENT;
	}
	if (rep.status != 200) {
		char st[32];

		/* Shopify's code (app_not_installed, invalid_client ...),
		   sanitised by the parser; the secret is never echoed */
		snprintf(st, sizeof(st), "%ld", rep.status);
		if (rep.status == 403)
			set_error(cl, "token request answered HTTP 403: %s",
			    "this machine's IP address may not be in the "
			    "app's IP allowlist");
		else if (rep.len > 0 && shopify_parse_token(rep.body, rep.len,
		    &sr, &tok) == SHOPIFY_ACCESS_DENIED && sr.code[0] != '\0')
			set_error(cl, "token request refused: %s",
			    sr.message + (strncmp(sr.message, "token: ",
			    7) == 0 ? 7 : 0));
		else
			set_error(cl, "token request answered HTTP %s", st);
		shopify_token_free(&tok);
		http_reply_free(&rep);
		return rep.status >= 500 ? CLIENT_TRANSIENT : CLIENT_AUTH;
	}
	if (shopify_parse_token(rep.body, rep.len, &sr, &tok) != SHOPIFY_OK) {
		set_error(cl, "token reply: %s", sr.message);
		http_reply_free(&rep);
		return CLIENT_BAD_REPLY;
	}
	http_reply_free(&rep);
	snprintf(cl->token, sizeof(cl->token), "%s", tok.token);
	cl->token_lifetime = tok.expires_in * 1000;
	cl->token_expires = util_now_ms() + cl->token_lifetime;
	shopify_token_free(&tok);
	log_info("store %s: new access token, valid %" PRId64 " s",
	    cl->sc->name, (cl->token_expires - util_now_ms()) / 1000);
	return CLIENT_OK;
}

/*
 * Makes sure a usable token is at hand: refreshed an hour before it
 * expires, or at the last tenth of a shorter lifetime.
 */
static enum client_result
ensure_token(struct client *cl)
{
	int64_t left = cl->token_expires - util_now_ms();
	int64_t ahead = cl->token_lifetime / 10;

	if (!cl->grant)
		return CLIENT_OK;
	if (ahead > TOKEN_REFRESH_AHEAD_MS)
		ahead = TOKEN_REFRESH_AHEAD_MS;
	if (cl->token[0] != '\0' && left > ahead)
		return CLIENT_OK;
	return fetch_token(cl);
}

/* ---- the cost bucket ---------------------------------------------------- */

static void
bucket_update(struct client *cl, const struct shopify_cost *cost)
{
	if (!cost->present)
		return;
	cl->bucket_known = 1;
	cl->available = cost->available;
	cl->maximum = cost->maximum;
	cl->restore = cost->restore_rate;
	cl->bucket_at = util_mono_ms();
	cl->stats.available = cost->available;
	cl->stats.maximum = cost->maximum;
	cl->stats.restore = cost->restore_rate;
	if (cost->has_actual) {
		cl->stats.cost_actual += cost->actual;
		cl->stats.last_cost = cost->actual;
	}
}

/*
 * Waits until the bucket should hold cost points, instead of being refused
 * (docs/design.md §5).  Returns 0, or -1 when stopped.
 */
/* The points in the store's bucket now, as the last reply and time say. */
static double
bucket_now(const struct client *cl)
{
	double v = cl->available +
	    cl->restore * (double)(util_mono_ms() - cl->bucket_at) / 1000.0;

	return v < cl->maximum ? v : cl->maximum;
}

static int
bucket_wait(struct client *cl, double cost)
{
	double now_avail, need;
	int64_t ms;

	if (!cl->bucket_known || cl->restore <= 0)
		return 0;
	if (cost > cl->maximum)
		cost = cl->maximum;
	now_avail = bucket_now(cl);
	if (now_avail >= cost)
		return 0;
	need = cost - now_avail;
	ms = (int64_t)(need / cl->restore * 1000.0) + 1;
	log_debug("store %s: waiting %" PRId64 " ms for %.0f cost points",
	    cl->sc->name, ms, cost);
	return util_sleep_ms(ms, cl->stop) ? -1 : 0;
}

/*
 * The page size for a paged operation: want, or fewer so that one request
 * fits in the bucket and under the single-query limit (a page that can
 * never fit would be refused forever), and, down to PAGE_MIN_NODES, in
 * what the bucket holds now: the whole requested cost must be there before
 * a query may run, so a big page on a low bucket waits for points its few
 * results would never use, and a poll's second page would hold up every
 * change behind it (issue 7: latency under load).
 */
static int
fit_first(struct client *cl, enum paged_op op, int want)
{
	double per = cl->node_cost[op], room = QUERY_COST_MAX, now;
	int n;

	if (cl->bucket_known && cl->maximum < room)
		room = cl->maximum;
	if (per <= 0 || room <= COST_MARGIN)
		return want;
	if (cl->bucket_known && (now = bucket_now(cl)) < room)
		room = now > COST_MARGIN + PAGE_MIN_NODES * per ? now :
		    COST_MARGIN + PAGE_MIN_NODES * per;
	n = (int)((room - COST_MARGIN) / per);
	return n < 1 ? 1 : n < want ? n : want;
}

/* Wait after THROTTLED: (requested - available) / restoreRate, >= 1 s. */
static int64_t
throttle_wait_ms(const struct shopify_cost *c)
{
	double ms = 1000;

	if (c->present && c->restore_rate > 0)
		ms = ((double)c->requested - c->available) / c->restore_rate *
		    1000.0;
	return ms < 1000 ? 1000 : ms > 60000 ? 60000 : (int64_t)ms;
}

/* ---- one GraphQL exchange ----------------------------------------------- */

struct call {
	const char	*op;		/* for logs */
	int		 paged;		/* enum paged_op, or -1 */
	int		 first;		/* nodes asked for when paged */
	int		 sized;		/* enum sized_op, or -1 */
	size_t		 units;		/* its levels or changes when sized */
	const char	*body;
	size_t		 len;
	int		 write;		/* a mutation: sent at most once */
	double		 cost;		/* requested-cost estimate */
	parse_fn	 parse;
	void		*out;
	void		*arg;
	int		(*on_send)(void *);
	void		*send_arg;
	int		 too_big;	/* a page that can never fit: resize */
	struct shopify_reply reply;	/* the last parsed envelope */
};

/*
 * What call() does after one exchange: classify() decides, call() acts.
 * The classifiers below return the exchange's result and set *next when
 * it is not NEXT_RETURN.
 */
enum next {
	NEXT_RETURN,		/* return the result */
	NEXT_REFRESH,		/* a 401 under the grant: a fresh token, once */
	NEXT_THROTTLED,		/* a read answered THROTTLED: wait, ask again */
	NEXT_RETRY,		/* a transient read fault: back off, ask again */
	NEXT_SHRINK		/* a page that can never fit: ask for fewer */
};

/* What a failed transport means: for a write, whether it may have applied. */
static enum client_result
transport_failed(struct client *cl, struct call *k, enum http_result hr,
    const struct http_reply *rep)
{
	set_error(cl, "%s", rep->error[0] ? rep->error : http_result_str(hr));
	if (hr == HTTP_ERR_ABORTED && *cl->stop)
		return k->write && rep->sent ? CLIENT_UNKNOWN : CLIENT_STOPPED;
	if (k->write)
		return rep->sent ? CLIENT_UNKNOWN : CLIENT_TRANSIENT;
	return CLIENT_TRANSIENT;
}

/* Classifies an HTTP reply that is not 200; NEXT_REFRESH after a 401. */
static enum client_result
status_failed(struct client *cl, struct call *k, const struct http_reply *rep,
    int *refreshed, enum next *next)
{
	char st[64];

	snprintf(st, sizeof(st), "HTTP %ld", rep->status);
	set_error(cl, "%s", st);
	if (rep->status == 401 && cl->grant && !*refreshed) {
		*refreshed = 1;
		cl->token[0] = '\0';	/* the grant runs again */
		*next = NEXT_REFRESH;
		return CLIENT_AUTH;
	}
	if (rep->status == 401) {
		set_error(cl, "%s: check the token and the app's scopes", st);
		return CLIENT_AUTH;
	}
	if (rep->status == 403) {
		/* an IP allowlist answers 403 too (docs/shopify-api.md §11) */
		set_error(cl, "%s: the app's scopes, or this machine's IP "
		    "address is not in the app's IP allowlist", st);
		return CLIENT_AUTH;
	}
	if (k->write)	/* 429 is the rate limiter's: the mutation never ran */
		return rep->status == 429 ? CLIENT_THROTTLED : CLIENT_UNKNOWN;
	return rep->status == 429 || rep->status >= 500 ? CLIENT_TRANSIENT :
	    CLIENT_BAD_REPLY;
}

/* Maps a parsed envelope to a result; NEXT_THROTTLED for a read. */
static enum client_result
reply_failed(struct client *cl, struct call *k, enum next *next)
{
	struct shopify_reply *sr = &k->reply;

	switch (sr->result) {
	case SHOPIFY_OK:
	case SHOPIFY_USER_ERRORS:
		return CLIENT_OK;
	case SHOPIFY_THROTTLED:
		cl->stats.throttled++;
		set_error(cl, "%s", "throttled");
		/* the cost is checked before a query runs: nothing ran */
		if (!k->write)
			*next = NEXT_THROTTLED;
		return k->write ? CLIENT_THROTTLED : CLIENT_TRANSIENT;
	case SHOPIFY_ACCESS_DENIED:
		set_error(cl, "access denied: %s", sr->message);
		return CLIENT_AUTH;
	case SHOPIFY_SERVER_ERROR:
		set_error(cl, "server error: %s", sr->message);
		return k->write ? CLIENT_UNKNOWN : CLIENT_TRANSIENT;
	case SHOPIFY_MALFORMED:
		set_error(cl, "%s", sr->message);
		return k->write ? CLIENT_UNKNOWN : CLIENT_BAD_REPLY;
	case SHOPIFY_NOT_FOUND:
		set_error(cl, "%s", sr->message);
		return CLIENT_BAD_REPLY;
	default:
		set_error(cl, "%s", sr->message);
		return CLIENT_REFUSED;
	}
}

/* Adds the cost of a request of n elements to line l. */
static void
line_learn(struct cost_line *l, double n, double cost)
{
	if (l->seen > 0 && l->n[0] != n) {
		l->n[1] = l->n[0];
		l->cost[1] = l->cost[0];
		l->seen = 2;
	} else if (l->seen == 0)
		l->seen = 1;
	l->n[0] = n;
	l->cost[0] = cost;
}

/*
 * Learns what one node of a paged operation, or one element of a sized
 * one, costs from requestedQueryCost (a THROTTLED reply says it too).
 */
static void
learn_node_cost(struct client *cl, const struct call *k)
{
	if (!k->reply.cost.present || k->reply.cost.requested <= 0)
		return;
	if (k->paged >= 0 && k->first > 0)
		cl->node_cost[k->paged] = (double)k->reply.cost.requested /
		    k->first;
	if (k->sized >= 0 && k->units > 0)
		line_learn(&cl->sized[k->sized], (double)k->units,
		    (double)k->reply.cost.requested);
}

/*
 * The requested-cost estimate of sized operation op over n elements, and
 * never under least, so that call() waits for the points before it asks
 * (THROTTLED costs a round trip and, for a write, the batch): on the line
 * through two sizes seen (its slope never below 0); from one size, that
 * cost in proportion to the elements when per_unit (reads by id), else
 * that cost (a write); from none, guess (each element's when per_unit).
 */
static double
sized_cost(const struct client *cl, enum sized_op op, size_t n, double guess,
    double least, int per_unit)
{
	const struct cost_line *l = &cl->sized[op];
	double x = (double)n, cost, slope;

	if (l->seen == 2) {
		slope = (l->cost[0] - l->cost[1]) / (l->n[0] - l->n[1]);
		if (slope < 0)
			slope = 0;
		cost = l->cost[0] + slope * (x - l->n[0]);
	} else if (l->seen == 1)
		cost = per_unit ? l->cost[0] * x / l->n[0] : l->cost[0];
	else
		cost = per_unit ? guess * x : guess;
	return cost > least ? cost : least;
}

/* Posts k once with the store's token into *rep (freed by the caller). */
static enum http_result
exchange(struct client *cl, struct call *k, struct http_reply *rep)
{
	struct http_request req;
	char auth[SHOPIFY_TOKEN_MAX + 40];
	enum http_result hr;

	notify_watchdog();	/* a long cycle is still alive */
	memset(&req, 0, sizeof(req));
	snprintf(auth, sizeof(auth), "X-Shopify-Access-Token: %s", cl->token);
	req.url = cl->url_graphql;
	req.content_type = "application/json";
	req.headers[0] = auth;
	req.body = k->body;
	req.len = k->len;
	req.on_send = k->on_send;
	req.arg = k->send_arg;
	hr = http_post(cl->h, &req, rep);
	memset(auth, 0, sizeof(auth));
	cl->stats.requests++;
	if (rep->date_offset_ms != 0)
		cl->stats.clock_offset_ms = rep->date_offset_ms;
	return hr;
}

/*
 * What one exchange of k means: its result into *r, and what call() does
 * next.  A page asked for is too big when the store says so (MAX_COST) or
 * its requested cost exceeds the bucket: only asking for less gets
 * through, so neither a throttle wait nor a refusal is the answer.
 */
static enum next
classify(struct client *cl, struct call *k, enum http_result hr,
    const struct http_reply *rep, int *refreshed, enum client_result *r)
{
	enum next next = NEXT_RETURN;

	if (hr != HTTP_OK)
		*r = transport_failed(cl, k, hr, rep);
	else if (rep->status != 200)
		*r = status_failed(cl, k, rep, refreshed, &next);
	else {
		k->parse(rep->body, rep->len, &k->reply, k->out, k->arg);
		bucket_update(cl, &k->reply.cost);
		learn_node_cost(cl, k);
		*r = reply_failed(cl, k, &next);
	}
	if ((next != NEXT_RETURN || *r == CLIENT_REFUSED) && k->paged >= 0 &&
	    (k->reply.result == SHOPIFY_MAX_COST || (k->reply.cost.present &&
	    k->reply.cost.requested > k->reply.cost.maximum)))
		return NEXT_SHRINK;
	if (next == NEXT_RETURN && *r == CLIENT_TRANSIENT && !k->write)
		return NEXT_RETRY;
	return next;
}

/*
 * One GraphQL call: exchanges until a result, refreshing the token once,
 * waiting out THROTTLED reads (THROTTLE_TRIES) and retrying transient read
 * faults (READ_TRIES, Retry-After honoured); a write is posted once.
 */
static enum client_result
call(struct client *cl, struct call *k)
{
	struct http_reply rep;
	enum client_result r;
	unsigned tries = 0, throttles = 0;
	int refreshed = 0;
	enum next next;
	int64_t wait;

	for (;;) {
		if (*cl->stop)
			return CLIENT_STOPPED;
		if ((r = ensure_token(cl)) != CLIENT_OK)
			return r;
		if (bucket_wait(cl, k->cost) == -1)
			return CLIENT_STOPPED;
		next = classify(cl, k, exchange(cl, k, &rep), &rep, &refreshed,
		    &r);
		wait = rep.retry_after_ms;
		http_reply_free(&rep);
		switch (next) {
		case NEXT_RETURN:
			if (r == CLIENT_OK)
				cl->stats.last_error[0] = '\0';
			return r;
		case NEXT_REFRESH:
			continue;
		case NEXT_SHRINK:
			if (k->reply.result == SHOPIFY_MAX_COST &&
			    !k->reply.cost.present)
				cl->node_cost[k->paged] = 2.0 * QUERY_COST_MAX /
				    k->first;
			k->too_big = 1;
			return CLIENT_TRANSIENT;
		case NEXT_THROTTLED:
			if (++throttles > THROTTLE_TRIES)
				return CLIENT_TRANSIENT;
			wait = throttle_wait_ms(&k->reply.cost);
			log_info("store %s: %s throttled; waiting %" PRId64
			    " ms", cl->sc->name, k->op, wait);
			break;
		case NEXT_RETRY:
			if (++tries >= READ_TRIES)
				return r;
			if (wait < 0)
				wait = http_backoff_ms(tries, RETRY_BASE_MS,
				    RETRY_CAP_MS);
			log_debug("store %s: %s: %s; retry in %" PRId64 " ms",
			    cl->sc->name, k->op, cl->stats.last_error, wait);
			break;
		}
		if (util_sleep_ms(wait, cl->stop))
			return CLIENT_STOPPED;
	}
}

/* ---- parser adapters ---------------------------------------------------- */

static enum shopify_result
p_check(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_check(b, n, r, o);
}

static enum shopify_result
p_locations(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_locations(b, n, r, o);
}

static enum shopify_result
p_catalog(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_catalog(b, n, r, o);
}

static enum shopify_result
p_levels(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_levels(b, n, r, o);
}

struct ids {
	const char *const	*v;
	size_t			 n;
};

static enum shopify_result
p_levels_by_id(const char *b, size_t n, struct shopify_reply *r, void *o,
    void *a)
{
	struct ids *ids = a;

	return shopify_parse_levels_by_id(b, n, ids->v, ids->n, r, o);
}

static enum shopify_result
p_adjust(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_adjust(b, n, r, o);
}

/* ---- operations --------------------------------------------------------- */

static void
join(char *buf, size_t bufsz, const char *s)
{
	if (buf[0] != '\0')
		strncat(buf, ",", bufsz - strlen(buf) - 1);
	strncat(buf, s, bufsz - strlen(buf) - 1);
}

enum client_result
client_info(struct client *cl, struct client_info *out)
{
	struct shopify_check chk;
	struct call k;
	enum client_result r;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	k.op = "check";
	k.paged = -1;
	k.sized = -1;
	k.body = shopify_build_check(&k.len);
	k.cost = 5;
	k.parse = p_check;
	k.out = &chk;
	r = call(cl, &k);
	free((char *)k.body);
	if (r != CLIENT_OK)
		return r;
	snprintf(out->shop_name, sizeof(out->shop_name), "%s", chk.shop_name);
	for (i = 0; i < chk.nversions; i++) {
		if (!chk.versions[i].supported)
			continue;
		join(out->versions, sizeof(out->versions),
		    chk.versions[i].handle);
		if (strcmp(chk.versions[i].handle, cl->c->api_version) == 0)
			out->version_supported = 1;
	}
	for (i = 0; i < chk.nscopes; i++)
		join(out->scopes, sizeof(out->scopes), chk.scopes[i].handle);
	shopify_check_free(&chk);
	return CLIENT_OK;
}

/* What a page request needs besides its size. */
struct page_args {
	const char	*gid;		/* levels: the location */
	const char	*after;		/* NULL: the first page */
	int64_t		 since;		/* unix seconds, < 0: no filter */
	int		 items;		/* levels: ask for item { id } */
};

static char *
build_locations(int first, const struct page_args *a, size_t *lenp)
{
	return shopify_build_locations(first, a->after, lenp);
}

static char *
build_catalog(int first, const struct page_args *a, size_t *lenp)
{
	return shopify_build_catalog(first, a->after, a->since, lenp);
}

static char *
build_levels(int first, const struct page_args *a, size_t *lenp)
{
	return shopify_build_levels(a->gid, first, a->after, a->since,
	    a->items, lenp);
}

/*
 * Fetches one page of a paged operation into k->out: built at the largest
 * size (up to want) that fits the bucket, and built again smaller when the
 * store says the page can never fit.  Returns call()'s result.
 */
static enum client_result
fetch_page(struct client *cl, struct call *k, enum paged_op op, int want,
    char *(*build)(int, const struct page_args *, size_t *),
    const struct page_args *a)
{
	enum client_result r = CLIENT_REFUSED;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		k->paged = op;
		k->sized = -1;
		k->first = fit_first(cl, op, want);
		k->too_big = 0;
		if ((k->body = build(k->first, a, &k->len)) == NULL)
			return CLIENT_REFUSED;
		k->cost = k->first * (cl->node_cost[op] > 0 ?
		    cl->node_cost[op] : 4) + 3;
		r = call(cl, k);
		free((char *)k->body);
		k->body = NULL;
		if (r != CLIENT_TRANSIENT || !k->too_big)
			break;
	}
	return r;
}

/* The cursor of the next page into after, or 0 at the end. */
static int
next_page(const struct shopify_page *pg, char *after, size_t aftersz)
{
	snprintf(after, aftersz, "%s", pg->end_cursor);
	return pg->has_next && after[0] != '\0';
}

enum client_result
client_locations(struct client *cl, struct client_location **out, size_t *n)
{
	struct shopify_locations page;
	char after[SHOPIFY_CURSOR_MAX] = "";
	struct page_args a = { NULL, NULL, -1, 0 };
	struct call k;
	enum client_result r;
	size_t i, cap = 0;
	int more;

	*out = NULL;
	*n = 0;
	do {
		memset(&k, 0, sizeof(k));
		k.op = "locations";
		k.parse = p_locations;
		k.out = &page;
		a.after = after[0] ? after : NULL;
		if ((r = fetch_page(cl, &k, OP_LOCATIONS, LOCATIONS_FIRST,
		    build_locations, &a)) != CLIENT_OK) {
			free(*out);
			*out = NULL;
			*n = 0;
			return r;
		}
		for (i = 0; i < page.n; i++) {
			struct client_location *l;
			int64_t id = shopify_gid_id(page.v[i].id, "Location");

			if (!page.v[i].active || id <= 0)
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*out = xreallocarray(*out, cap, sizeof(**out));
			}
			l = &(*out)[(*n)++];
			l->id = (uint64_t)id;
			l->active = 1;
			snprintf(l->name, sizeof(l->name), "%s", page.v[i].name);
		}
		more = next_page(&page.page, after, sizeof(after));
		shopify_locations_free(&page);
	} while (more);
	return CLIENT_OK;
}

static void
to_variant(const struct shopify_variant *v, struct client_variant *cv)
{
	size_t i;

	memset(cv, 0, sizeof(*cv));
	cv->variant = (uint64_t)shopify_gid_id(v->id, "ProductVariant");
	cv->item = (uint64_t)shopify_gid_id(v->item_id, "InventoryItem");
	cv->product = (uint64_t)shopify_gid_id(v->product_id, "Product");
	snprintf(cv->handle, sizeof(cv->handle), "%s", v->handle);
	if (v->has_sku)
		snprintf(cv->sku, sizeof(cv->sku), "%s", v->sku);
	if (v->has_barcode)
		snprintf(cv->barcode, sizeof(cv->barcode), "%s", v->barcode);
	for (i = 0; i < v->noptions; i++) {
		char opt[2 * SHOPIFY_STR_MAX + 2];

		snprintf(opt, sizeof(opt), "%s=%s", v->options[i].name,
		    v->options[i].value);
		join(cv->options, sizeof(cv->options), opt);
	}
	snprintf(cv->status, sizeof(cv->status), "%s",
	    shopify_product_status_name(v->status));
	cv->tracked = v->tracked;
	cv->bundle = v->requires_components;
}

enum client_result
client_catalog(struct client *cl, int64_t since_ms,
    int (*fn)(const struct client_variant *, void *), void *arg)
{
	struct shopify_catalog page;
	struct client_variant cv;
	char after[SHOPIFY_CURSOR_MAX] = "";
	struct page_args a = { NULL, NULL, -1, 0 };
	struct call k;
	enum client_result r;
	size_t i;
	int more, stop = 0;

	a.since = since_ms > 0 ? since_ms / 1000 : -1;
	do {
		memset(&k, 0, sizeof(k));
		k.op = "catalog";
		k.parse = p_catalog;
		k.out = &page;
		a.after = after[0] ? after : NULL;
		if ((r = fetch_page(cl, &k, OP_CATALOG, CATALOG_FIRST,
		    build_catalog, &a)) != CLIENT_OK)
			return r;
		for (i = 0; i < page.n && !stop; i++) {
			to_variant(&page.v[i], &cv);
			if (cv.variant > 0 && cv.item > 0)
				stop = fn(&cv, arg);
		}
		more = next_page(&page.page, after, sizeof(after)) && !stop;
		shopify_catalog_free(&page);
	} while (more);
	return CLIENT_OK;
}

/* 1 when every level of page names its item (levels_lean: off its gid). */
static int
items_named(const struct shopify_levels *page)
{
	size_t i;

	for (i = 0; i < page->n; i++)
		if (page->v[i].item_id[0] == '\0')
			return 0;
	return 1;
}

/*
 * Reads one page of levels of location (gid) into fn, first nodes from
 * a->after; the next cursor goes to next.  Returns fetch_page()'s result.
 */
static enum client_result
levels_page(struct client *cl, uint64_t location, int first,
    struct page_args *a, char *next, size_t nextsz,
    int (*fn)(const struct client_level *, void *), void *arg)
{
	struct shopify_levels page;
	struct client_level lv;
	struct call k;
	enum client_result r;
	size_t i;
	int stop = 0;

	for (;;) {	/* twice at most: lean, then with items */
		memset(&k, 0, sizeof(k));
		k.op = "levels";
		k.parse = p_levels;
		k.out = &page;
		a->items = cl->levels_items;
		if ((r = fetch_page(cl, &k, OP_LEVELS, first, build_levels,
		    a)) != CLIENT_OK)
			return r;
		if (a->items || items_named(&page))
			break;
		/* a gid without its item: this store's polls ask for it */
		log_warn("store %s: a level gid names no inventory item; "
		    "reading levels with their items from now on",
		    cl->sc->name);
		cl->levels_items = 1;
		shopify_levels_free(&page);
	}
	for (i = 0; i < page.n && !stop; i++) {
		int64_t item = shopify_gid_id(page.v[i].item_id,
		    "InventoryItem");
		int64_t level = shopify_gid_id(page.v[i].id, "InventoryLevel");

		if (item <= 0)
			continue;
		memset(&lv, 0, sizeof(lv));
		lv.level = level > 0 ? (uint64_t)level : 0;
		lv.item = (uint64_t)item;
		lv.location = location;
		lv.available = page.v[i].available;
		lv.active = page.v[i].active;
		lv.found = 1;
		stop = fn(&lv, arg);
	}
	if (!next_page(&page.page, next, nextsz) || stop)
		next[0] = '\0';
	shopify_levels_free(&page);
	return CLIENT_OK;
}

enum client_result
client_levels(struct client *cl, uint64_t location, int64_t since_ms,
    int (*fn)(const struct client_level *, void *), void *arg)
{
	char gid[SHOPIFY_GID_MAX], after[SHOPIFY_CURSOR_MAX] = "";
	struct page_args a = { gid, NULL, -1, 0 };
	enum client_result r;
	/* an idle incremental poll must cost a few points (docs/design.md §9) */
	int first = since_ms > 0 ? LEVELS_FIRST_IDLE : LEVELS_FIRST;

	a.since = since_ms > 0 ? since_ms / 1000 : -1;
	snprintf(gid, sizeof(gid), "gid://shopify/Location/%" PRIu64, location);
	do {
		a.after = after[0] ? after : NULL;
		r = levels_page(cl, location, first, &a, after, sizeof(after),
		    fn, arg);
		first = LEVELS_FIRST;
	} while (r == CLIENT_OK && after[0] != '\0');
	return r;
}

enum client_result
client_levels_page(struct client *cl, uint64_t location, const char *after,
    char *next, size_t nextsz,
    int (*fn)(const struct client_level *, void *), void *arg)
{
	char gid[SHOPIFY_GID_MAX];
	struct page_args a = { gid, after[0] ? after : NULL, -1, 0 };

	snprintf(gid, sizeof(gid), "gid://shopify/Location/%" PRIu64, location);
	return levels_page(cl, location, LEVELS_FIRST, &a, next, nextsz, fn,
	    arg);
}

enum client_result
client_read_levels(struct client *cl, struct client_level *lv, size_t n)
{
	char (*gids)[SHOPIFY_GID_MAX];
	const char **ids;
	struct shopify_level_reads out;
	struct ids a;
	struct call k;
	enum client_result r;
	size_t i;

	if (n == 0)
		return CLIENT_OK;
	if (n > SHOPIFY_PAGE_MAX)
		fatal("client_read_levels: %zu levels", n);
	gids = xcalloc(n, sizeof(*gids));
	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		snprintf(gids[i], sizeof(gids[i]),
		    "gid://shopify/InventoryLevel/%" PRIu64
		    "?inventory_item_id=%" PRIu64, lv[i].level, lv[i].item);
		ids[i] = gids[i];
	}
	a.v = ids;
	a.n = n;
	memset(&k, 0, sizeof(k));
	k.op = "levels by id";
	k.paged = -1;
	k.sized = SIZED_BY_ID;
	k.units = n;
	k.body = shopify_build_levels_by_id(ids, n, &k.len);
	k.cost = sized_cost(cl, SIZED_BY_ID, n, 2, 1, 1);
	k.parse = p_levels_by_id;
	k.out = &out;
	k.arg = &a;
	r = k.body == NULL ? CLIENT_REFUSED : call(cl, &k);
	free((char *)k.body);
	if (r == CLIENT_OK) {
		for (i = 0; i < n && i < out.n; i++) {
			lv[i].found = out.v[i].found;
			lv[i].active = out.v[i].active;
			lv[i].available = out.v[i].available;
		}
		shopify_level_reads_free(&out);
	}
	free(gids);
	free(ids);
	return r;
}

/* Maps the first userError of an adjust reply to an outcome. */
static void
adjust_outcome(const struct shopify_adjust *a, struct adjust_result *res)
{
	const struct shopify_user_error *ue;

	memset(res, 0, sizeof(*res));
	res->bad_index = -1;
	if (a->nerrors == 0) {
		res->outcome = ADJUST_APPLIED;
		return;
	}
	ue = &a->errors[0];
	snprintf(res->code, sizeof(res->code), "%s",
	    ue->code_text[0] ? ue->code_text : "UNKNOWN");
	snprintf(res->message, sizeof(res->message), "%s", ue->message);
	res->bad_index = ue->change;
	switch (ue->code) {
	case SHOPIFY_UE_CHANGE_FROM_QUANTITY_STALE:
		res->outcome = ADJUST_STALE;
		break;
	case SHOPIFY_UE_IDEMPOTENCY_CONCURRENT_REQUEST:
		res->outcome = ADJUST_CONCURRENT;
		break;
	case SHOPIFY_UE_IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED:
		res->outcome = ADJUST_PREVIOUS_FAILED;
		break;
	case SHOPIFY_UE_IDEMPOTENCY_KEY_PARAMETER_MISMATCH:
		res->outcome = ADJUST_KEY_MISMATCH;
		break;
	default:
		res->outcome = ADJUST_REFUSED;
	}
}

/* Sends one adjust of n changes under key.  CLIENT_OK: *res is definitive. */
static enum client_result
adjust(struct client *cl, const char *key, const struct shopify_change_in *ch,
    size_t n, int (*on_send)(void *), void *arg, struct adjust_result *res)
{
	struct shopify_adjust out;
	char uri[80];
	struct call k;
	enum client_result r;

	snprintf(uri, sizeof(uri), "gid://invsync/Batch/%s", key);
	memset(&k, 0, sizeof(k));
	k.op = "adjust";
	k.paged = -1;
	k.write = 1;
	k.body = shopify_build_adjust(key, ADJUST_REASON, uri, ch, n, &k.len);
	if (k.body == NULL) {
		set_error(cl, "%s", "adjust: invalid batch");
		return CLIENT_REFUSED;
	}
	k.sized = SIZED_ADJUST;
	k.units = n;
	/* the captures' writes asked 11 to 14 points */
	k.cost = sized_cost(cl, SIZED_ADJUST, n, 15, 10, 0);
	k.parse = p_adjust;
	k.out = &out;
	k.on_send = on_send;
	k.send_arg = arg;
	r = call(cl, &k);
	free((char *)k.body);
	if (r != CLIENT_OK)
		return r;
	adjust_outcome(&out, res);
	shopify_adjust_free(&out);
	return CLIENT_OK;
}

enum client_result
client_adjust(struct client *cl, const struct pending *p,
    int (*on_send)(void *), void *arg, struct adjust_result *res)
{
	struct shopify_change_in *ch = xcalloc(p->n, sizeof(*ch));
	enum client_result r;
	size_t i;

	for (i = 0; i < p->n; i++) {
		snprintf(ch[i].item_id, sizeof(ch[i].item_id),
		    "gid://shopify/InventoryItem/%" PRIu64, p->ch[i].item);
		snprintf(ch[i].location_id, sizeof(ch[i].location_id),
		    "gid://shopify/Location/%" PRIu64, p->ch[i].location);
		ch[i].delta = p->ch[i].delta;
		ch[i].has_from = 1;	/* compare-and-set, always */
		ch[i].from = p->ch[i].from;
	}
	r = adjust(cl, p->key, ch, p->n, on_send, arg, res);
	free(ch);
	return r;
}

enum client_result
client_probe_key(struct client *cl, const char *key, uint64_t item,
    uint64_t location, enum key_probe *found)
{
	struct shopify_change_in ch;
	struct adjust_result res;
	enum client_result r;

	memset(&ch, 0, sizeof(ch));
	snprintf(ch.item_id, sizeof(ch.item_id),
	    "gid://shopify/InventoryItem/%" PRIu64, item);
	snprintf(ch.location_id, sizeof(ch.location_id),
	    "gid://shopify/Location/%" PRIu64, location);
	ch.delta = 0;
	ch.has_from = 0;	/* a zero delta needs no compare-and-set */
	*found = PROBE_UNTOLD;
	r = adjust(cl, key, &ch, 1, NULL, NULL, &res);
	if (r == CLIENT_THROTTLED || r == CLIENT_UNKNOWN)
		return CLIENT_TRANSIENT;	/* a no-op either way: ask again */
	if (r != CLIENT_OK)
		return r;
	if (res.outcome == ADJUST_KEY_MISMATCH)
		*found = PROBE_SEEN;
	else if (res.outcome == ADJUST_APPLIED)
		*found = PROBE_UNSEEN;
	else if (res.outcome == ADJUST_CONCURRENT)
		*found = PROBE_IN_FLIGHT;
	log_info("store %s: key %.8s probed: %s%s%s", cl->sc->name, key,
	    client_probe_str(*found), *found == PROBE_UNTOLD ? ": " : "",
	    *found == PROBE_UNTOLD ? res.code : "");
	return CLIENT_OK;
}

/* ---- bulk operations (docs/shopify-api.md §7) ------------------------------------- */

static enum shopify_result
p_count(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_variants_count(b, n, r, o);
}

static enum shopify_result
p_bulk_run(const char *b, size_t n, struct shopify_reply *r, void *o, void *a)
{
	(void)a;
	return shopify_parse_bulk_run(b, n, r, o);
}

static enum shopify_result
p_bulk_status(const char *b, size_t n, struct shopify_reply *r, void *o,
    void *a)
{
	(void)a;
	return shopify_parse_bulk_status(b, n, r, o);
}

/* One small unpaged read or the bulk mutation; body is freed. */
static enum client_result
call_small(struct client *cl, const char *op, char *body, size_t len,
    double cost, parse_fn parse, void *out)
{
	struct call k;
	enum client_result r;

	if (body == NULL) {
		set_error(cl, "%s: invalid request", op);
		return CLIENT_REFUSED;
	}
	memset(&k, 0, sizeof(k));
	k.op = op;
	k.paged = -1;
	k.sized = -1;
	k.body = body;
	k.len = len;
	k.cost = cost;
	k.parse = parse;
	k.out = out;
	r = call(cl, &k);
	free(body);
	if (r == CLIENT_OK && k.reply.result == SHOPIFY_USER_ERRORS) {
		set_error(cl, "%s", k.reply.message);
		return CLIENT_REFUSED;
	}
	if (r == CLIENT_BAD_REPLY && k.reply.result == SHOPIFY_NOT_FOUND)
		return CLIENT_OK;	/* the parser left *out empty */
	return r;
}

enum client_result
client_variants_count(struct client *cl, int64_t *count)
{
	size_t len;
	char *b = shopify_build_variants_count(&len);

	return call_small(cl, "variants_count", b, len, 2, p_count, count);
}

enum client_result
client_bulk_start(struct client *cl, enum shopify_bulk_kind kind,
    struct shopify_bulk_op *op)
{
	size_t len;
	char *b = shopify_build_bulk_run(kind, &len);

	/*
	 * Not journaled like an adjust: a lost reply leaves an operation
	 * nobody reads, which Shopify expires; the next cycle starts another.
	 */
	return call_small(cl, "bulk_run", b, len, 10, p_bulk_run, op);
}

enum client_result
client_bulk_status(struct client *cl, const char *id,
    struct shopify_bulk_op *op)
{
	size_t len;
	char *b = shopify_build_bulk_status(id, &len);

	return call_small(cl, "bulk_status", b, len, 2, p_bulk_status, op);
}

static int
feed_lines(const char *data, size_t n, void *arg)
{
	return jsonl_feed(arg, data, n);
}

enum client_result
client_bulk_read(struct client *cl, const char *url, jsonl_line_fn fn,
    void *arg, size_t *lines)
{
	struct http_reply rep;
	struct jsonl j;
	enum http_result hr;
	enum client_result r = CLIENT_OK;

	jsonl_init(&j, SHOPIFY_LINE_MAX, fn, arg);
	notify_watchdog();
	hr = http_get_stream(cl->h, url, feed_lines, &j, &rep);
	cl->stats.requests++;
	if (hr == HTTP_OK && rep.status == 200)
		(void)jsonl_finish(&j);
	*lines = j.lines;
	if (j.failed) {
		set_error(cl, "%s", "bulk file: a line refused or too long");
		r = CLIENT_BAD_REPLY;
	} else if (hr != HTTP_OK) {
		set_error(cl, "bulk file: %s", rep.error);
		r = hr == HTTP_ERR_ABORTED && *cl->stop ? CLIENT_STOPPED :
		    CLIENT_TRANSIENT;
	} else if (rep.status != 200) {
		char st[64];

		/* a signed URL past its 7 days: 403 (or 404, 410) */
		snprintf(st, sizeof(st), "bulk file: HTTP %ld", rep.status);
		set_error(cl, "%s", st);
		r = rep.status >= 500 ? CLIENT_TRANSIENT : CLIENT_REFUSED;
	}
	http_reply_free(&rep);
	jsonl_free(&j);
	return r;
}

int
client_bulk_variant(const char *line, size_t len, struct client_variant *cv,
    char *why, size_t whysz)
{
	struct shopify_variant v;
	struct shopify_reply rep;

	if (shopify_parse_bulk_variant(line, len, &rep, &v) != SHOPIFY_OK) {
		snprintf(why, whysz, "%s", rep.message);
		return -1;
	}
	to_variant(&v, cv);
	return cv->variant > 0 && cv->item > 0 ? 0 : 1;
}

int
client_bulk_level(const char *line, size_t len, struct client_level *lv,
    char *why, size_t whysz)
{
	struct shopify_bulk_level b;
	struct shopify_reply rep;
	int64_t item, level, loc;

	memset(lv, 0, sizeof(*lv));
	if (shopify_parse_bulk_level(line, len, &rep, &b) != SHOPIFY_OK) {
		snprintf(why, whysz, "%s", rep.message);
		return -1;
	}
	if (!b.is_level)
		return 1;
	item = shopify_gid_id(b.level.item_id, "InventoryItem");
	level = shopify_gid_id(b.level.id, "InventoryLevel");
	loc = shopify_gid_id(b.location_id, "Location");
	if (item <= 0 || loc <= 0)
		return 1;
	lv->level = level > 0 ? (uint64_t)level : 0;
	lv->item = (uint64_t)item;
	lv->location = (uint64_t)loc;
	lv->available = b.level.available;
	lv->active = b.level.active;
	lv->found = 1;
	return 0;
}
