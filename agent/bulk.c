/*
 * bulk.c: owns the bulk operations of a big store (issue 7, docs/shopify-api.md §7).
 * A store with at least bulk_threshold variants reads its full catalog,
 * and the first sighting of its levels, as one JSONL file each: a few
 * points instead of several per variant.  An operation runs while the
 * cycles go on: its id is kept in LMDB (a restart picks it up), its state
 * is read once a cycle, and its file is streamed a line at a time when it
 * is done, never held whole.
 *
 * The file is a snapshot taken while the operation ran, so it is never
 * applied over newer news: a catalog file is followed by an incremental
 * read of what changed since the last refresh (catalog.c), and a levels
 * file only gives links their first sighting; a link the polls have seen
 * is theirs (docs/design.md §5).
 *
 * Which path a store's full reads take, and why, is its *path* record
 * (struct path, LMDB meta value META_BULKPATH, read by status and check):
 * bulk operations, or pages because the store is small, did not count its
 * variants, has no bulk access (ACCESS_DENIED; tried again `bulk_retry`
 * later, a day by default), or let BULK_GIVE_UP operations in a row fail
 * to start (LIMIT_REACHED ...) or to finish.  The fast path is an
 * optimisation: when it is unavailable the store is read in pages, never
 * left unloaded (issue 14).
 *
 * Return conventions: the steps (bulk_catalog(), bulk_levels(), op_start(),
 * op_step(), op_finish(), read_file(), count_big()) return an enum step
 * (run.h); a store failure backs the store off and the step is done for
 * this cycle.  Functions on an operation's LMDB record and the transaction
 * callbacks return 0 or -1; predicates 1, 0, or -1 when LMDB failed; the
 * line callbacks non-zero to stop the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulk.h"
#include "catalog.h"
#include "log.h"
#include "meta.h"
#include "timing.h"
#include "util.h"

#define BULK_RETRY_MS	60000	/* after a failed or refused operation, */
#define BULK_RETRY_CYCLES 10	/* or 10 intervals when that is shorter */
#define WHY_MAX		256
#define BULK_GIVE_UP	3	/* operations in a row that did not start or
				   finish before a store is read in pages */
#define PATH_WHY_MAX	200

static const char *const kind_name[] = {
	[SHOPIFY_BULK_CATALOG] = "catalog",
	[SHOPIFY_BULK_LEVELS] = "levels"
};

/*
 * Which path store i's full reads take (the META_BULKPATH meta value, kept
 * beside meta.c's table: "REFUSED UNTIL FAILS WHY").  refused: read in
 * pages until `until` (wall ms), then bulk operations are tried again.
 */
struct path {
	int	 refused;
	int64_t	 until;
	int64_t	 fails;		/* operations in a row that did not start
				   or finish */
	char	 why[PATH_WHY_MAX];	/* "bulk: ..." or "pages: ..." */
};

struct path_ctx {
	size_t		 i;
	struct path	*p;
	int		 changed;
};


static int
path_get(struct state_txn *t, size_t i, struct path *p)
{
	char v[META_STR_MAX];
	long long until, fails;
	int refused, n = 0, r;

	memset(p, 0, sizeof(*p));
	if ((r = meta_get_str(t, META_BULKPATH, i, v, sizeof(v))) != 0)
		return r == 1 ? 0 : -1;
	if (sscanf(v, "%d %lld %lld %n", &refused, &until, &fails, &n) < 3 ||
	    n == 0)
		return 0;	/* unreadable: as if none */
	p->refused = refused != 0;
	p->until = until;
	p->fails = fails;
	snprintf(p->why, sizeof(p->why), "%s", v + n);
	return 0;
}

static int
path_get_txn(struct state_txn *t, void *arg)
{
	struct path_ctx *x = arg;

	return path_get(t, x->i, x->p);
}

int
bulk_path_why(struct state_txn *t, size_t i, char *why, size_t whysz)
{
	struct path p;

	if (path_get(t, i, &p) == -1)
		return -1;
	snprintf(why, whysz, "%s", p.why);
	return 0;
}

static int
path_put_txn(struct state_txn *t, void *arg)
{
	struct path_ctx *x = arg;
	struct path old;
	char v[META_STR_MAX];

	if (path_get(t, x->i, &old) == -1)
		return -1;
	x->changed = strcmp(old.why, x->p->why) != 0;
	if (old.refused == x->p->refused && old.until == x->p->until &&
	    old.fails == x->p->fails && !x->changed)
		return 0;
	snprintf(v, sizeof(v), "%d %lld %lld %s", x->p->refused,
	    (long long)x->p->until, (long long)x->p->fails, x->p->why);
	return meta_put_str(t, META_BULKPATH, x->i, v);
}

/* Reads store i's path into *p.  0 or -1. */
static int
path_load(struct run *e, size_t i, struct path *p)
{
	struct path_ctx x = { i, p, 0 };

	return state_view(e->st, path_get_txn, &x) == 0 ? 0 : -1;
}

/*
 * Stores *p as store i's path; *changed (may be NULL) says whether its why
 * changed, for what is said once.  0 or -1.
 */
static int
path_store(struct run *e, size_t i, struct path *p, int *changed)
{
	struct path_ctx x = { i, p, 0 };

	if (changed != NULL)
		*changed = 0;
	if (e->dry_run)
		return 0;
	if (state_update(e->st, path_put_txn, &x) != 0)
		return -1;
	if (changed != NULL)
		*changed = x.changed;
	return 0;
}

/* What LMDB keeps of an operation in flight. */
struct op_meta {
	enum shopify_bulk_kind	 kind;
	size_t			 i;
	char			 id[META_STR_MAX];	/* "" = none */
	int64_t			 at;	/* wall ms just before it started */
	int64_t			 gen;	/* catalog: the load's generation */
};

/* The meta value (meta.h) what (META_BULK_CATALOG, META_BULKAT_CATALOG or
   META_BULKGEN_CATALOG) of an operation of kind: one row per kind. */
static enum meta_id
op_meta(enum meta_id what, enum shopify_bulk_kind kind)
{
	return (enum meta_id)(what + (kind == SHOPIFY_BULK_LEVELS));
}

const char *
bulk_kind_name(enum shopify_bulk_kind kind)
{
	return kind_name[kind];
}

int
bulk_op_get(struct state_txn *t, enum shopify_bulk_kind kind, size_t i,
    char *id, size_t idsz, int64_t *at)
{
	if (meta_get_str(t, op_meta(META_BULK_CATALOG, kind), i, id,
	    idsz) == -1)
		return -1;
	return meta_get_i64(t, op_meta(META_BULKAT_CATALOG, kind), i,
	    at) == -1 ? -1 : 0;
}

static int
get_txn(struct state_txn *t, void *arg)
{
	struct op_meta *m = arg;

	if (bulk_op_get(t, m->kind, m->i, m->id, sizeof(m->id), &m->at) == -1)
		return -1;
	return meta_get_i64(t, op_meta(META_BULKGEN_CATALOG, m->kind), m->i,
	    &m->gen) == -1 ? -1 : 0;
}

/* Stores m, or forgets the operation when m->id is "". */
static int
put_txn(struct state_txn *t, void *arg)
{
	const struct op_meta *m = arg;
	enum meta_id id = op_meta(META_BULK_CATALOG, m->kind);
	enum meta_id at = op_meta(META_BULKAT_CATALOG, m->kind);
	enum meta_id gen = op_meta(META_BULKGEN_CATALOG, m->kind);

	if (m->id[0] == '\0')
		return meta_del(t, id, m->i) == -1 ||
		    meta_del(t, at, m->i) == -1 ||
		    meta_del(t, gen, m->i) == -1 ? -1 : 0;
	return meta_put_str(t, id, m->i, m->id) == -1 ||
	    meta_put_i64(t, at, m->i, m->at) == -1 ||
	    meta_put_i64(t, gen, m->i, m->gen) == -1 ? -1 : 0;
}

/* The functions on an operation's record return 0, or -1 (LMDB failed). */
static int
op_load(struct run *e, enum shopify_bulk_kind kind, size_t i,
    struct op_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->i = i;
	return state_view(e->st, get_txn, m) == 0 ? 0 : -1;
}

static int
op_forget(struct run *e, struct op_meta *m)
{
	m->id[0] = '\0';
	return state_update(e->st, put_txn, m) == 0 ? 0 : -1;
}

/*
 * Bulk reads are for a real run of a store that has not refused them
 * lately.  1, 0, or -1 (LMDB failed).
 */
static int
bulk_allowed(struct run *e, size_t i)
{
	struct path p;

	if (e->dry_run || e->c->bulk_threshold <= 0)
		return 0;
	if (path_load(e, i, &p) == -1)
		return -1;
	return !p.refused || util_now_ms() >= p.until;
}

static const char *
store_name(struct run *e, size_t i)
{
	return e->c->stores[i].name;
}

/* Waits a while before the next operation (or download) of this kind. */
static void
retry_later(struct run *e, const struct op_meta *m)
{
	int64_t wait = e->c->interval_ms * BULK_RETRY_CYCLES;

	if (wait > BULK_RETRY_MS)
		wait = BULK_RETRY_MS;
	e->s[m->i].bulk_retry_at[m->kind] = util_mono_ms() + wait;
}

/*
 * Store i is read in pages for `bulk_retry`, for why (detail: the store's
 * words, logged).  STEP_IN_PAGES or STEP_STATE_FAILED.
 */
static enum step
refuse(struct run *e, size_t i, const char *why, const char *detail)
{
	struct path p;
	char at[32];
	time_t t;
	struct tm tm;

	if (path_load(e, i, &p) == -1)
		return STEP_STATE_FAILED;
	p.refused = 1;
	p.until = util_now_ms() + e->c->bulk_retry_ms;
	p.fails = 0;
	t = (time_t)(p.until / 1000);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(p.why, sizeof(p.why), "pages: %s; bulk tried again at %s",
	    why, at);
	log_warn("store %s: %s%s%s; reading in pages, bulk operations tried "
	    "again at %s", store_name(e, i), why, detail[0] ? ": " : "",
	    detail, at);
	return path_store(e, i, &p, NULL) == -1 ? STEP_STATE_FAILED :
	    STEP_IN_PAGES;
}

/*
 * An operation of store i did not start or finish: after BULK_GIVE_UP in
 * a row the store is read in pages (refuse()).  STEP_DONE (try again),
 * STEP_IN_PAGES or STEP_STATE_FAILED.
 */
static enum step
failed_once(struct run *e, size_t i, const char *why)
{
	struct path p;
	char w[PATH_WHY_MAX];

	if (path_load(e, i, &p) == -1)
		return STEP_STATE_FAILED;
	if (++p.fails >= BULK_GIVE_UP) {
		snprintf(w, sizeof(w), "%s %d times in a row", why,
		    BULK_GIVE_UP);
		return refuse(e, i, w, "");
	}
	return path_store(e, i, &p, NULL) == -1 ? STEP_STATE_FAILED :
	    STEP_DONE;
}

/*
 * Starts an operation of m->kind.  Returns STEP_DONE (started, or the
 * store failed: backed off), STEP_IN_PAGES when the store refuses bulk
 * operations, STEP_STATE_FAILED.
 */
static enum step
op_start(struct run *e, struct op_meta *m)
{
	struct shopify_bulk_op op;
	enum client_result cr;
	uint32_t gen = 0;
	int64_t poll;

	m->at = util_now_ms();
	cr = client_bulk_start(e->s[m->i].cl, m->kind, &op);
	if (cr == CLIENT_AUTH) {
		/* no bulk access: "Allow bulk queries" off, or lost after 31
		   days without one (docs/shopify-api.md §7, §11) */
		return refuse(e, m->i, "no bulk access (ACCESS_DENIED: "
		    "\"Allow bulk queries\" off for the app, or lost after "
		    "31 days without a bulk query)",
		    client_stats(e->s[m->i].cl)->last_error);
	}
	if (cr == CLIENT_REFUSED) {	/* LIMIT_REACHED, ... */
		log_warn("store %s: %s bulk operation not started: %s",
		    store_name(e, m->i), kind_name[m->kind],
		    client_stats(e->s[m->i].cl)->last_error);
		/* soon again: a few tries within a few cycles, then pages */
		e->s[m->i].bulk_retry_at[m->kind] = util_mono_ms() +
		    e->c->interval_ms / 2;
		return failed_once(e, m->i, "bulk operations did not start "
		    "(LIMIT_REACHED: other operations of the shop run)");
	}
	if (cr != CLIENT_OK) {
		run_store_failed(e, m->i, "starting a bulk operation", cr);
		return STEP_DONE;
	}
	if (m->kind == SHOPIFY_BULK_CATALOG) {
		if (catalog_new_gen(e, &gen) == -1)
			return STEP_STATE_FAILED;
		m->gen = gen;
	}
	snprintf(m->id, sizeof(m->id), "%s", op.id);
	if (state_update(e->st, put_txn, m) != 0)
		return STEP_STATE_FAILED;
	log_info("store %s: %s bulk operation %s started", store_name(e, m->i),
	    kind_name[m->kind], m->id);
	/* levels: the polls cover what changes from now on */
	if (m->kind != SHOPIFY_BULK_LEVELS)
		return STEP_DONE;
	if (run_meta_get(e, META_POLL, m->i, &poll) == -1 ||
	    (poll == 0 && run_meta_set(e, META_POLL, m->i, m->at) == -1))
		return STEP_STATE_FAILED;
	return STEP_DONE;
}

/* ---- reading a finished operation's file ------------------------------- */

struct file_ctx {
	struct run		*e;
	const struct op_meta	*m;
	struct catalog_ctx	*cat;
	struct client_level	 page[LEVEL_PAGE];
	size_t			 n;
	size_t			 found;	/* changes a reconciliation's file
					   showed */
	int			 state_failed;
	int			 malformed;
	char			 why[WHY_MAX];
};

static int
on_catalog_line(const char *line, size_t len, void *arg)
{
	struct file_ctx *f = arg;
	struct client_variant v;
	int r;

	if ((r = client_bulk_variant(line, len, &v, f->why,
	    sizeof(f->why))) == -1) {
		f->malformed = 1;
		return -1;
	}
	if (r == 0 && catalog_full_variant(f->cat, &v) == -1) {
		f->state_failed = 1;
		return -1;
	}
	return 0;
}

/*
 * Observes the levels gathered from a levels file: a first sighting's
 * (gen 0), or a reconciliation's snapshot of epoch gen.
 */
static int
flush_levels(struct file_ctx *f)
{
	int r = f->m->gen == 0 ?
	    run_observe_first(f->e, f->m->i, f->page, f->n) :
	    run_observe_snapshot(f->e, f->m->i, f->page, f->n,
	    (uint16_t)f->m->gen, &f->found);

	if (r == -1) {
		f->state_failed = 1;
		return -1;
	}
	f->n = 0;
	return 0;
}

static int
on_level_line(const char *line, size_t len, void *arg)
{
	struct file_ctx *f = arg;
	struct client_level lv;
	int r;

	if ((r = client_bulk_level(line, len, &lv, f->why,
	    sizeof(f->why))) == -1) {
		f->malformed = 1;
		return -1;
	}
	if (r == 1 || !linkloc_has(f->e->g, f->e->ngroups, f->m->i,
	    lv.location))
		return 0;
	f->page[f->n++] = lv;
	return f->n == LEVEL_PAGE ? flush_levels(f) : 0;
}

/*
 * Streams the file of op into f.  Returns STEP_DONE when every line was
 * read and taken, STEP_STORE_FAILED when not (the reason is logged;
 * *forget says whether the file is gone for good), STEP_STATE_FAILED.
 */
static enum step
read_file(struct file_ctx *f, const struct shopify_bulk_op *op, int *forget)
{
	struct run *e = f->e;
	size_t i = f->m->i, lines = 0;
	enum client_result cr = CLIENT_OK;

	*forget = 0;
	if (op->url[0] != '\0')		/* null: the operation found nothing */
		cr = client_bulk_read(e->s[i].cl, op->url,
		    f->m->kind == SHOPIFY_BULK_CATALOG ? on_catalog_line :
		    on_level_line, f, &lines);
	if (cr == CLIENT_OK && f->n > 0)
		(void)flush_levels(f);
	if (f->state_failed)
		return STEP_STATE_FAILED;
	if (f->malformed) {
		log_err("store %s: %s bulk file, line %zu: %s; starting "
		    "another operation later", store_name(e, i),
		    kind_name[f->m->kind], lines, f->why);
		*forget = 1;
		return STEP_STORE_FAILED;
	}
	if (cr == CLIENT_OK && (int64_t)lines != op->object_count) {
		log_err("store %s: %s bulk file has %zu lines, the operation "
		    "counted %" PRId64 "; reading it again later",
		    store_name(e, i), kind_name[f->m->kind], lines,
		    op->object_count);
		return STEP_STORE_FAILED;
	}
	if (cr != CLIENT_OK) {
		log_warn("store %s: %s bulk file: %s; %s", store_name(e, i),
		    kind_name[f->m->kind], client_stats(e->s[i].cl)->last_error,
		    cr == CLIENT_REFUSED ? "starting another operation" :
		    "reading it again");
		*forget = cr == CLIENT_REFUSED;
		return STEP_STORE_FAILED;
	}
	return STEP_DONE;
}

/*
 * Applies the file of a completed operation.  STEP_DONE (applied, or to
 * be read again later) or STEP_STATE_FAILED.
 */
static enum step
op_finish(struct run *e, struct op_meta *m,
    const struct shopify_bulk_op *op)
{
	struct file_ctx *f = xcalloc(1, sizeof(*f));
	enum step r;
	int forget;

	f->e = e;
	f->m = m;
	if (m->kind == SHOPIFY_BULK_CATALOG)
		f->cat = catalog_full_begin(e, m->i, (uint32_t)m->gen);
	r = read_file(f, op, &forget);
	if (m->kind == SHOPIFY_BULK_CATALOG) {
		if (r == STEP_DONE)
			r = catalog_full_end(f->cat, m->at);
		else
			catalog_full_abort(f->cat);
	} else if (r == STEP_DONE && run_levels_sighted(e, m->i, m->at) == -1)
		r = STEP_STATE_FAILED;
	else if (r == STEP_DONE && m->gen != 0)
		log_info("store %s: reconciliation by bulk operation done: %zu "
		    "changes no poll had seen", store_name(e, m->i), f->found);
	free(f);
	if (r == STEP_STATE_FAILED)
		return STEP_STATE_FAILED;
	if (r == STEP_DONE) {
		struct path p;

		log_info("store %s: %s bulk operation %s applied (%" PRId64
		    " lines)", store_name(e, m->i), kind_name[m->kind], m->id,
		    op->object_count);
		if (path_load(e, m->i, &p) == -1)
			return STEP_STATE_FAILED;
		p.fails = 0;
		if (path_store(e, m->i, &p, NULL) == -1)
			return STEP_STATE_FAILED;
		return op_forget(e, m) == -1 ? STEP_STATE_FAILED : STEP_DONE;
	}
	retry_later(e, m);
	return forget && op_forget(e, m) == -1 ? STEP_STATE_FAILED : STEP_DONE;
}

/*
 * Reads where operation m is, and applies its file once done.  STEP_DONE
 * (a store failure included: backed off) or STEP_STATE_FAILED.
 */
static enum step
op_step(struct run *e, struct op_meta *m)
{
	struct shopify_bulk_op op;
	enum client_result cr;

	if (util_mono_ms() < e->s[m->i].bulk_retry_at[m->kind])
		return STEP_DONE;
	cr = client_bulk_status(e->s[m->i].cl, m->id, &op);
	if (cr != CLIENT_OK) {
		run_store_failed(e, m->i, "reading a bulk operation", cr);
		return STEP_DONE;
	}
	if (op.id[0] == '\0') {
		log_warn("store %s: bulk operation %s is unknown to the store; "
		    "starting another", store_name(e, m->i), m->id);
		return op_forget(e, m) == -1 ? STEP_STATE_FAILED : STEP_DONE;
	}
	switch (op.status) {
	case SHOPIFY_BULK_CREATED:
	case SHOPIFY_BULK_RUNNING:
	case SHOPIFY_BULK_CANCELING:
		return STEP_DONE;
	case SHOPIFY_BULK_COMPLETED:
		return op_finish(e, m, &op);
	default:
		break;
	}
	log_warn("store %s: %s bulk operation %s ended %s%s%s",
	    store_name(e, m->i), kind_name[m->kind], m->id,
	    shopify_bulk_status_name(op.status), op.error_code[0] ? " " : "",
	    op.error_code);
	retry_later(e, m);
	if (op_forget(e, m) == -1)
		return STEP_STATE_FAILED;
	if (strcmp(op.error_code, "ACCESS_DENIED") == 0)
		return refuse(e, m->i, "no bulk access (an operation ended "
		    "ACCESS_DENIED)", "");
	return failed_once(e, m->i, "bulk operations did not finish");
}

/*
 * Whether store i is big enough for bulk reads: counted afresh, the count
 * kept in LMDB for the levels (META_VARIANTS), *big set.  STEP_DONE,
 * STEP_STORE_FAILED (backed off) or STEP_STATE_FAILED.
 */
static enum step
count_big(struct run *e, size_t i, int *big)
{
	enum client_result cr;
	int64_t n = 0;

	struct path p;
	int changed;

	*big = 0;
	if ((cr = client_variants_count(e->s[i].cl, &n)) != CLIENT_OK) {
		run_store_failed(e, i, "counting variants", cr);
		return STEP_STORE_FAILED;
	}
	/* -1: the count is nullable and was not given; it only chooses */
	if (run_meta_set(e, META_VARIANTS, i, n) == -1 ||
	    path_load(e, i, &p) == -1)
		return STEP_STATE_FAILED;
	*big = n >= e->c->bulk_threshold;
	p.refused = 0;
	p.until = 0;
	if (!*big)
		p.fails = 0;
	if (n < 0)
		snprintf(p.why, sizeof(p.why), "pages: the store did not count "
		    "its variants (productVariantsCount null)");
	else
		snprintf(p.why, sizeof(p.why), "%s: %" PRId64 " variants %s "
		    "bulk_threshold %ld", *big ? "bulk" : "pages", n,
		    *big ? ">=" : "<", e->c->bulk_threshold);
	if (path_store(e, i, &p, &changed) == -1)
		return STEP_STATE_FAILED;
	if (changed && n < 0)
		log_notice("store %s: the store did not count its variants "
		    "(productVariantsCount null); reading in pages",
		    store_name(e, i));
	else if (changed)
		log_info("store %s: full reads %s", store_name(e, i), p.why);
	return STEP_DONE;
}

enum step
bulk_catalog(struct run *e, size_t i)
{
	struct op_meta m;
	enum step r;
	int big, ok;

	if ((ok = bulk_allowed(e, i)) != 1)
		return ok == -1 ? STEP_STATE_FAILED : STEP_IN_PAGES;
	if (op_load(e, SHOPIFY_BULK_CATALOG, i, &m) == -1)
		return STEP_STATE_FAILED;
	if (m.id[0] != '\0')
		return op_step(e, &m);
	if (util_mono_ms() < e->s[i].bulk_retry_at[m.kind])
		return STEP_DONE;
	if ((r = count_big(e, i, &big)) != STEP_DONE)
		return r == STEP_STATE_FAILED ? r : STEP_DONE;
	if (!big)
		return STEP_IN_PAGES;
	return op_start(e, &m);
}

int
bulk_catalog_running(struct run *e, size_t i)
{
	struct op_meta m;
	int ok;

	if ((ok = bulk_allowed(e, i)) != 1)
		return ok;
	if (op_load(e, SHOPIFY_BULK_CATALOG, i, &m) == -1)
		return -1;
	return m.id[0] != '\0';
}

int
bulk_forget(struct run *e, enum shopify_bulk_kind kind, size_t i)
{
	struct op_meta m;

	if (op_load(e, kind, i, &m) == -1)
		return -1;
	if (m.id[0] == '\0')
		return 0;
	log_info("store %s: %s read in pages; bulk operation %s left",
	    store_name(e, i), kind_name[kind], m.id);
	return op_forget(e, &m);
}

int
bulk_levels_wanted(struct run *e, size_t i)
{
	int64_t n;
	int ok;

	if ((ok = bulk_allowed(e, i)) != 1)
		return ok;
	if (run_meta_get(e, META_VARIANTS, i, &n) == -1)
		return -1;
	return n >= e->c->bulk_threshold;
}

enum step
bulk_levels(struct run *e, size_t i)
{
	struct op_meta m;

	if (op_load(e, SHOPIFY_BULK_LEVELS, i, &m) == -1)
		return STEP_STATE_FAILED;
	if (m.id[0] != '\0')
		return op_step(e, &m);
	if (util_mono_ms() < e->s[i].bulk_retry_at[m.kind])
		return STEP_DONE;
	return op_start(e, &m) == STEP_STATE_FAILED ? STEP_STATE_FAILED :
	    STEP_DONE;
}

/* Moves store i's snapshot epoch on (META_EPOCH) into m->gen.  0 or -1. */
static int
epoch_txn(struct state_txn *t, void *arg)
{
	struct op_meta *m = arg;
	int64_t epoch;

	if (meta_get_i64(t, META_EPOCH, m->i, &epoch) == -1)
		return -1;
	m->gen = epoch >= 65535 || epoch < 0 ? 1 : epoch + 1;
	return meta_put_i64(t, META_EPOCH, m->i, m->gen);
}

enum step
bulk_reconcile(struct run *e, size_t i)
{
	struct op_meta m;
	int64_t pstart, last;

	if (op_load(e, SHOPIFY_BULK_LEVELS, i, &m) == -1)
		return STEP_STATE_FAILED;
	if (m.id[0] != '\0')
		return op_step(e, &m);
	if (run_meta_get(e, META_RSTART, i, &pstart) == -1 ||
	    run_meta_get(e, META_RECONCILE, i, &last) == -1)
		return STEP_STATE_FAILED;
	if (pstart != 0)
		return STEP_IN_PAGES;	/* a paced pass ends in pages */
	if (!timing_reconcile_due(util_now_ms(), last, e->c->reconcile_ms) ||
	    util_mono_ms() < e->s[i].bulk_retry_at[m.kind])
		return STEP_DONE;
	/* the epoch is kept before the snapshot it dates can begin */
	if (state_update(e->st, epoch_txn, &m) != 0)
		return STEP_STATE_FAILED;
	log_info("store %s: reconciliation by bulk operation (epoch %" PRId64
	    ")", store_name(e, i), m.gen);
	return op_start(e, &m) == STEP_STATE_FAILED ? STEP_STATE_FAILED :
	    STEP_DONE;
}

int
bulk_loading(struct run *e)
{
	struct op_meta m;
	int64_t loaded;
	size_t i;
	int ok;

	for (i = 0; i < e->nstores; i++) {
		if ((ok = bulk_allowed(e, i)) == -1)
			return -1;
		if (!ok || !run_store_ok(e, i))
			continue;
		if (op_load(e, SHOPIFY_BULK_LEVELS, i, &m) == -1 ||
		    run_meta_get(e, META_CATALOGFULL, i, &loaded) == -1)
			return -1;
		if (m.id[0] != '\0' && m.gen == 0)
			return 1;	/* a first sighting */
		if (loaded != 0)
			continue;
		if (op_load(e, SHOPIFY_BULK_CATALOG, i, &m) == -1)
			return -1;
		if (m.id[0] != '\0')
			return 1;
	}
	return 0;
}

int
bulk_busy(struct run *e)
{
	struct op_meta m;
	struct path p;
	size_t i;
	int k, ok;

	for (i = 0; i < e->nstores; i++) {
		if ((ok = bulk_allowed(e, i)) == -1)
			return -1;
		if (!ok || !run_store_ok(e, i))
			continue;
		/* an operation that did not start is tried again, or gives
		   way to pages, within a few cycles */
		if (path_load(e, i, &p) == -1)
			return -1;
		if (p.fails > 0 && !p.refused)
			return 1;
		for (k = SHOPIFY_BULK_CATALOG; k <= SHOPIFY_BULK_LEVELS; k++) {
			if (op_load(e, (enum shopify_bulk_kind)k, i, &m) == -1)
				return -1;
			if (m.id[0] != '\0')
				return 1;
		}
	}
	return 0;
}
