/*
 * explain.c: owns `invsync explain WHAT`: for every link a handle, SKU,
 * barcode or link key names (sync_key_matches()), each store's side: its
 * item, location and level, whether it syncs and if not why, its baseline
 * and owed amounts, the pending write that holds it, and its last audit
 * entries.  One read-only transaction, no network and no lock: it runs
 * beside the daemon, as status and log do.
 *
 * Why a side does not sync comes from what the state records: the side's
 * status (state.h enum side_status), its absence from the link, and the
 * note of its last AUDIT_UNLINKED entry (catalog.h CATALOG_WHY_*).
 *
 * Return conventions: report_explain() returns the process exit status;
 * the transaction callbacks return 0, or -1 when the state failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "json.h"
#include "log.h"
#include "meta.h"
#include "report.h"
#include "state.h"
#include "sync.h"
#include "util.h"

#define EXPLAIN_LINKS_MAX	64	/* links shown; more are counted */
#define EXPLAIN_AUDIT_N		5	/* audit entries shown per side */
#define EXIT_USAGE		2

/* Why a side does or does not sync: one row of whys[] each. */
enum why {
	WHY_LINKED,
	WHY_UNTRACKED,
	WHY_BUNDLE,
	WHY_INACTIVE,
	WHY_DUPLICATE,
	WHY_NOT_STOCKED,
	WHY_NO_MATCH,
	WHY_RENAMED,
	WHY_GONE,
	WHY_LOCATION,
	WHY_UNLINKED,
	WHY_UNKNOWN
};

static const struct {
	const char	*code;		/* --json "reason" */
	const char	*text;
} whys[] = {
	[WHY_LINKED] = { "linked", "linked" },
	[WHY_UNTRACKED] = { "untracked", "its inventory is not tracked "
	    "(Shopify: \"Track quantity\" is off)" },
	[WHY_BUNDLE] = { "bundle", "a bundle parent (requiresComponents): "
	    "Shopify derives its quantity from its components" },
	[WHY_INACTIVE] = { "inactive", "its inventory level is inactive at "
	    "the linked location" },
	[WHY_DUPLICATE] = { "duplicate", "the key is not unique in this "
	    "store: another variant has the same key (the log names both "
	    "items)" },
	[WHY_NOT_STOCKED] = { "not_stocked", "the item is not stocked at the "
	    "linked location (no inventory level there)" },
	[WHY_NO_MATCH] = { "no_match", "no variant of this store has this "
	    "key" },
	[WHY_RENAMED] = { "renamed", "its variant moved to another key (a "
	    "handle, SKU or barcode edit)" },
	[WHY_GONE] = { "gone", "its variant is gone from the store "
	    "(deleted, or no longer keyed so)" },
	[WHY_LOCATION] = { "location_unlinked", "its location is no longer "
	    "in a linked location group ([locations] or equal names)" },
	[WHY_UNLINKED] = { "unlinked", "it left the link" },
	[WHY_UNKNOWN] = { "unknown", "an unknown side status (a newer "
	    "invsync's state?)" }
};

/* The last audit entries of one store's side of a link. */
struct side_audit {
	struct audit_entry	e[EXPLAIN_AUDIT_N];	/* a ring */
	size_t			n;			/* entries seen */
	struct audit_entry	last_link;	/* its last (un)linked entry */
	int			has_last_link;
};

/* One matched link; in_state 0: only the audit log names it now. */
struct found {
	struct link		l;
	int			in_state;
	struct side_audit	a[CONF_MAX_STORES];
};

struct explain {
	const struct conf	*c;
	const char		*what;
	struct found		*f;
	size_t			 n, cap;
	size_t			 more;		/* links in the state not shown */
	int			 truncated;	/* some link was not shown */
	struct pending		*p[CONF_MAX_STORES];	/* NULL: none */
	char			 stores[META_STR_MAX];	/* META_STORES */
};

/* ---- reading ------------------------------------------------------------ */

/* The found link of key, or NULL. */
static struct found *
find_key(struct explain *x, const char *key)
{
	size_t k;

	for (k = 0; k < x->n; k++)
		if (strcmp(x->f[k].l.key, key) == 0)
			return &x->f[k];
	return NULL;
}

/* A new found link of key (empty sides), or NULL when x is full. */
static struct found *
add_found(struct explain *x, const char *key)
{
	struct found *f;

	if (x->n == EXPLAIN_LINKS_MAX) {
		x->truncated = 1;
		return NULL;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 4;
		x->f = xreallocarray(x->f, x->cap, sizeof(*x->f));
	}
	f = &x->f[x->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->l.key, sizeof(f->l.key), "%s", key);
	f->l.nsides = x->c->nstores;
	return f;
}

static int
on_link(const struct link *l, void *arg)
{
	struct explain *x = arg;
	struct found *f;

	if (!sync_key_matches(l->key, x->what))
		return 0;
	if ((f = add_found(x, l->key)) == NULL) {
		x->more++;
		return 0;
	}
	f->l = *l;
	f->in_state = 1;
	return 0;
}

static int
on_audit(const struct audit_entry *e, void *arg)
{
	struct explain *x = arg;
	struct side_audit *a;
	struct found *f;

	if (e->store >= x->c->nstores || !sync_key_matches(e->link, x->what))
		return 0;
	if ((f = find_key(x, e->link)) == NULL &&
	    (f = add_found(x, e->link)) == NULL)
		return 0;
	a = &f->a[e->store];
	a->e[a->n++ % EXPLAIN_AUDIT_N] = *e;
	if (e->kind == AUDIT_LINKED || e->kind == AUDIT_UNLINKED) {
		a->last_link = *e;
		a->has_last_link = 1;
	}
	return 0;
}

static int
read_pending(struct state_txn *t, struct explain *x)
{
	struct pending *p;
	size_t i;
	int r;

	for (i = 0; i < x->c->nstores; i++) {
		p = xmalloc(sizeof(*p));
		if ((r = state_pending_get(t, (uint32_t)i, p)) == -1) {
			free(p);
			return -1;
		}
		if (r == 0)
			x->p[i] = p;
		else
			free(p);
	}
	return 0;
}

static int
read_txn(struct state_txn *t, void *arg)
{
	struct explain *x = arg;

	if (meta_get_str(t, META_STORES, 0, x->stores,
	    sizeof(x->stores)) == -1)
		return -1;
	if (state_link_each(t, on_link, x) == -1 ||
	    state_audit_last(t, AUDIT_MAX, on_audit, x) == -1)
		return -1;
	return read_pending(t, x);
}

/* ---- judging ------------------------------------------------------------ */

static enum why
status_why(uint8_t status)
{
	switch (status) {
	case SIDE_OK:		return WHY_LINKED;
	case SIDE_UNTRACKED:	return WHY_UNTRACKED;
	case SIDE_BUNDLE:	return WHY_BUNDLE;
	case SIDE_INACTIVE:	return WHY_INACTIVE;
	case SIDE_DUPLICATE:	return WHY_DUPLICATE;
	case SIDE_MISSING:	return WHY_NOT_STOCKED;
	}
	return WHY_UNKNOWN;
}

/* Why store s's side of f syncs or not; *note: the unlinked entry's note. */
static enum why
side_why(const struct found *f, size_t s, const char **note)
{
	const struct audit_entry *u = &f->a[s].last_link;

	*note = NULL;
	if (s < f->l.nsides && f->l.side[s].item != 0)
		return status_why(f->l.side[s].status);
	if (!f->a[s].has_last_link || u->kind != AUDIT_UNLINKED)
		return WHY_NO_MATCH;
	*note = u->note;
	if (strncmp(u->note, CATALOG_WHY_RELINKED,
	    strlen(CATALOG_WHY_RELINKED)) == 0)
		return WHY_RENAMED;
	if (strcmp(u->note, CATALOG_WHY_GONE) == 0)
		return WHY_GONE;
	if (strcmp(u->note, CATALOG_WHY_LOCATION) == 0)
		return WHY_LOCATION;
	return WHY_UNLINKED;
}

/* "in_step", "waiting" (for writes or first sightings) or "not_synced". */
static const char *
link_state(const struct found *f, size_t *active)
{
	size_t s;

	*active = 0;
	for (s = 0; s < f->l.nsides; s++)
		*active += sync_side_active(&f->l, s);
	if (*active < 2)
		return "not_synced";
	return sync_in_step(&f->l) ? "in_step" : "waiting";
}

/*
 * 1 when the state was made for other stores than the configuration names
 * (META_STORES, spelled by conf_store_names()), else 0.
 */
static int
stores_differ(const struct explain *x)
{
	char want[META_STR_MAX];

	if (x->stores[0] == '\0')
		return 0;	/* no cycle has run yet */
	conf_store_names(x->c, want, sizeof(want));
	return strcmp(want, x->stores) != 0;
}

/* ---- text --------------------------------------------------------------- */

/* Prints untrusted text with control bytes as '?' (UTF-8 kept). */
static void
put_safe(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void
text_audit(const struct side_audit *a)
{
	size_t k, first = a->n > EXPLAIN_AUDIT_N ? a->n - EXPLAIN_AUDIT_N : 0;
	const struct audit_entry *e;
	char when[32];

	for (k = first; k < a->n; k++) {
		e = &a->e[k % EXPLAIN_AUDIT_N];
		util_iso_time(e->time_ms, when, sizeof(when));
		printf("      %s %s", when, report_audit_kind(e->kind));
		if (e->kind == AUDIT_APPLIED || e->kind == AUDIT_UNCERTAIN ||
		    e->kind == AUDIT_UNCERTAIN_REPLANNED ||
		    e->kind == AUDIT_OBSERVED)
			printf(" %+" PRId64 " (%" PRId64 " -> %" PRId64 ")",
			    e->delta, e->from, e->from + e->delta);
		if (e->note[0] != '\0' && e->kind != AUDIT_APPLIED &&
		    e->kind != AUDIT_OBSERVED &&
		    strcmp(e->note, report_audit_kind(e->kind)) != 0) {
			printf(": ");
			put_safe(e->note);
		}
		printf("\n");
	}
}

static void
text_pending(const struct explain *x, const struct found *f, size_t s)
{
	const struct pending *p = x->p[s];
	size_t k;
	int any = 0;

	for (k = 0; p != NULL && k < p->n; k++) {
		if (strcmp(p->ch[k].link, f->l.key) != 0)
			continue;
		printf("    pending write: %+" PRId64 " (%" PRId64 " -> %"
		    PRId64 "), batch %s, %s, %d attempt(s)\n", p->ch[k].delta,
		    p->ch[k].from, p->ch[k].from + p->ch[k].delta, p->key,
		    p->sent ? "sent, awaiting confirmation" : "not sent yet",
		    p->attempts);
		any = 1;
	}
	if (!any)
		printf("    pending write: none\n");
}

/* A group side's members, and what a buffer holds back (docs/design.md §3a). */
static void
text_pool(const struct explain *x, const struct link *l, size_t s)
{
	const struct link_member *mb;
	size_t m;

	for (m = 0; sync_is_group(l, s) && m < l->pool[s].nmembers; m++) {
		mb = &l->pool[s].member[m];
		printf("    member %zu: location %" PRIu64 ", ", m + 1,
		    mb->location);
		if (mb->status != SIDE_OK)
			printf("%s: left out of the sum\n",
			    mb->status == SIDE_INACTIVE ? "inactive" :
			    "not stocked");
		else if (mb->seen)
			printf("level %" PRIu64 ", %" PRId64 " available\n",
			    mb->level, mb->quantity);
		else
			printf("not read yet\n");
	}
	if (x->c->stores[s].buffer > 0 && l->side[s].has_baseline)
		printf("    buffer %" PRId64 ": pool %" PRId64 ", %" PRId64
		    " held back, target %" PRId64 "\n",
		    x->c->stores[s].buffer, sync_pool(l, s), l->pool[s].held,
		    sync_pool(l, s) - l->pool[s].held);
}

static void
text_side(const struct explain *x, const struct found *f, size_t s)
{
	const struct link_side *sd = &f->l.side[s];
	const char *note;
	enum why w = side_why(f, s, &note);

	printf("  store ");
	put_safe(x->c->stores[s].name);
	if (w == WHY_LINKED)
		printf(": linked\n");
	else
		printf(": NOT SYNCED (%s): %s\n", whys[w].code, whys[w].text);
	if (note != NULL) {
		printf("    audit note: ");
		put_safe(note);
		printf("\n");
	}
	if (s < f->l.nsides && sd->item != 0) {
		if (sync_is_group(&f->l, s))
			printf("    item %" PRIu64 " at a group of %u locations "
			    "(their sum is synced)\n", sd->item,
			    (unsigned)f->l.pool[s].nmembers);
		else if (sd->level != 0)
			printf("    item %" PRIu64 " at location %" PRIu64
			    ", level %" PRIu64 "\n", sd->item, sd->location,
			    sd->level);
		else
			printf("    item %" PRIu64 " at location %" PRIu64
			    ", level not read yet\n", sd->item, sd->location);
		if (sd->has_baseline)
			printf("    baseline %" PRId64 ", owed %+" PRId64 "\n",
			    sd->baseline, sd->owed);
		else
			printf("    baseline none yet (awaiting a first "
			    "sighting), owed %+" PRId64 "\n", sd->owed);
		text_pool(x, &f->l, s);
	}
	text_pending(x, f, s);
	if (f->a[s].n == 0)
		printf("    audit: none kept\n");
	else {
		printf("    audit (last %zu):\n", f->a[s].n < EXPLAIN_AUDIT_N ?
		    f->a[s].n : (size_t)EXPLAIN_AUDIT_N);
		text_audit(&f->a[s]);
	}
}

static void
print_text(const struct explain *x)
{
	const char *ls;
	size_t k, s, active;

	for (k = 0; k < x->n; k++) {
		const struct found *f = &x->f[k];

		ls = link_state(f, &active);
		printf("%slink ", k > 0 ? "\n" : "");
		put_safe(f->l.key);
		if (!f->in_state)
			printf(": not in the state any more (every store "
			    "left it)\n");
		else
			printf(": %s (%zu of %zu stores synced)\n",
			    strcmp(ls, "in_step") == 0 ? "in step" :
			    strcmp(ls, "waiting") == 0 ? "waiting for writes "
			    "or a first reading" : "NOT SYNCED", active,
			    x->c->nstores);
		for (s = 0; s < x->c->nstores; s++)
			text_side(x, f, s);
	}
	if (x->truncated)
		printf("\nmore links match than the %d shown: name one by "
		    "its key\n", EXPLAIN_LINKS_MAX);
}

/* ---- JSON --------------------------------------------------------------- */

/*
 * Writes string s from the state, which a cut or an older invsync may have
 * left not UTF-8: then as log_safe() shows it, so that one bad byte does
 * not cost the whole document.
 */
static void
jw_state_string(struct json_writer *w, const char *s)
{
	struct json_writer probe;
	char buf[LINK_KEY_MAX], *ok;

	jw_init(&probe);
	jw_string(&probe, s);
	if ((ok = jw_finish(&probe, NULL)) != NULL) {
		free(ok);
		jw_string(w, s);
	} else
		jw_string(w, log_safe(buf, sizeof(buf), s, strlen(s)));
}

static void
json_audit(struct json_writer *w, const struct side_audit *a)
{
	size_t k, first = a->n > EXPLAIN_AUDIT_N ? a->n - EXPLAIN_AUDIT_N : 0;
	const struct audit_entry *e;
	char when[32];

	jw_array_begin(w);
	for (k = first; k < a->n; k++) {
		e = &a->e[k % EXPLAIN_AUDIT_N];
		util_iso_time(e->time_ms, when, sizeof(when));
		jw_object_begin(w);
		jw_key(w, "seq");
		jw_int64(w, (int64_t)e->seq);
		jw_key(w, "time");
		jw_string(w, when);
		jw_key(w, "kind");
		jw_string(w, report_audit_kind(e->kind));
		jw_key(w, "from");
		jw_int64(w, e->from);
		jw_key(w, "delta");
		jw_int64(w, e->delta);
		jw_key(w, "batch");
		jw_state_string(w, e->batch);
		jw_key(w, "note");
		jw_state_string(w, e->note);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static void
json_pending(struct json_writer *w, const struct explain *x,
    const struct found *f, size_t s)
{
	const struct pending *p = x->p[s];
	size_t k;

	jw_array_begin(w);
	for (k = 0; p != NULL && k < p->n; k++) {
		if (strcmp(p->ch[k].link, f->l.key) != 0)
			continue;
		jw_object_begin(w);
		jw_key(w, "batch");
		jw_state_string(w, p->key);
		jw_key(w, "from");
		jw_int64(w, p->ch[k].from);
		jw_key(w, "delta");
		jw_int64(w, p->ch[k].delta);
		jw_key(w, "sent");
		jw_bool(w, p->sent);
		jw_key(w, "attempts");
		jw_int64(w, p->attempts);
		jw_key(w, "created_ms");
		jw_int64(w, p->created_ms);
		jw_object_end(w);
	}
	jw_array_end(w);
}

/* An id, or null when 0 (unknown). */
static void
json_id(struct json_writer *w, const char *key, uint64_t id)
{
	jw_key(w, key);
	if (id != 0)
		jw_int64(w, (int64_t)id);
	else
		jw_null(w);
}

/* "held" and "members" (a group side's; [] for one location). */
static void
json_pool(struct json_writer *w, const struct link *l, size_t s)
{
	const struct link_member *mb;
	size_t m;

	jw_key(w, "held");
	jw_int64(w, s < l->nsides ? l->pool[s].held : 0);
	jw_key(w, "members");
	jw_array_begin(w);
	for (m = 0; s < l->nsides && sync_is_group(l, s) &&
	    m < l->pool[s].nmembers; m++) {
		mb = &l->pool[s].member[m];
		jw_object_begin(w);
		json_id(w, "location", mb->location);
		json_id(w, "level", mb->level);
		jw_key(w, "status");
		jw_string(w, mb->status == SIDE_OK ? "ok" :
		    mb->status == SIDE_INACTIVE ? "inactive" : "not_stocked");
		jw_key(w, "available");
		if (mb->status == SIDE_OK && mb->seen)
			jw_int64(w, mb->quantity);
		else
			jw_null(w);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static void
json_side(struct json_writer *w, const struct explain *x,
    const struct found *f, size_t s)
{
	static const struct link_side none;
	const struct link_side *sd = s < f->l.nsides ? &f->l.side[s] : &none;
	const char *note;
	enum why why = side_why(f, s, &note);

	jw_object_begin(w);
	jw_key(w, "name");
	jw_string(w, x->c->stores[s].name);
	jw_key(w, "linked");
	jw_bool(w, why == WHY_LINKED);
	jw_key(w, "reason");
	jw_string(w, whys[why].code);
	jw_key(w, "why");
	jw_string(w, whys[why].text);
	jw_key(w, "note");
	if (note != NULL)
		jw_state_string(w, note);
	else
		jw_null(w);
	json_id(w, "item", sd->item);
	json_id(w, "location", sd->item != 0 ? sd->location : 0);
	json_id(w, "level", sd->item != 0 ? sd->level : 0);
	jw_key(w, "baseline");
	if (sd->item != 0 && sd->has_baseline)
		jw_int64(w, sd->baseline);
	else
		jw_null(w);
	jw_key(w, "owed");
	jw_int64(w, sd->owed);
	json_pool(w, &f->l, s);
	jw_key(w, "pending");
	json_pending(w, x, f, s);
	jw_key(w, "audit");
	json_audit(w, &f->a[s]);
	jw_object_end(w);
}

/* The document, or NULL when a string was not UTF-8 (writer refused). */
static char *
json_doc(const struct explain *x)
{
	static const char *const match[] = { "handle", "sku", "barcode" };
	struct json_writer w;
	size_t k, s, active;

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "what");
	jw_string(&w, x->what);
	jw_key(&w, "match");
	jw_string(&w, (size_t)x->c->match < 3 ? match[x->c->match] : "?");
	jw_key(&w, "found");
	jw_bool(&w, x->n > 0);
	jw_key(&w, "more");
	jw_int64(&w, (int64_t)x->more);
	jw_key(&w, "truncated");
	jw_bool(&w, x->truncated);
	jw_key(&w, "links");
	jw_array_begin(&w);
	for (k = 0; k < x->n; k++) {
		const struct found *f = &x->f[k];

		jw_object_begin(&w);
		jw_key(&w, "key");
		jw_state_string(&w, f->l.key);
		jw_key(&w, "in_state");
		jw_bool(&w, f->in_state);
		jw_key(&w, "state");
		jw_string(&w, link_state(f, &active));
		jw_key(&w, "stores_synced");
		jw_int64(&w, (int64_t)active);
		jw_key(&w, "stores");
		jw_array_begin(&w);
		for (s = 0; s < x->c->nstores; s++)
			json_side(&w, x, f, s);
		jw_array_end(&w);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	return jw_finish(&w, NULL);
}

/* ---- the command -------------------------------------------------------- */

/*
 * Checks WHAT before any I/O: not empty, shorter than a link key, UTF-8
 * (every key came from JSON).  Returns 0, or -1 after saying why.
 */
static int
what_ok(const char *what)
{
	struct json_writer w;
	size_t n = strlen(what);
	char *s;

	if (n == 0) {
		log_err("explain: WHAT is empty: give a handle, SKU, barcode "
		    "or link key");
		return -1;
	}
	if (n >= LINK_KEY_MAX) {
		log_err("explain: WHAT is %zu bytes; no handle, SKU, barcode "
		    "or link key is longer than %d", n, LINK_KEY_MAX - 1);
		return -1;
	}
	jw_init(&w);
	jw_string(&w, what);
	if ((s = jw_finish(&w, NULL)) == NULL) {
		log_err("explain: WHAT is not UTF-8 text");
		return -1;
	}
	free(s);
	return 0;
}

static void
explain_free(struct explain *x)
{
	size_t i;

	for (i = 0; i < CONF_MAX_STORES; i++)
		free(x->p[i]);
	free(x->f);
	free(x);
}

/* Prints x as asked; returns the exit status. */
static int
explain_print(const struct explain *x, int json)
{
	char *doc, safe[128];

	if (json) {
		if ((doc = json_doc(x)) == NULL) {
			log_err("explain: the state holds a string that is "
			    "not UTF-8");
			return 1;
		}
		printf("%s\n", doc);
		free(doc);
	} else if (x->n > 0)
		print_text(x);
	if (x->n == 0)
		log_err("explain: nothing matches '%s': no link key, handle, "
		    "SKU or barcode in the state or its audit log (links "
		    "are keyed by match = %s; 'invsync check' shows what "
		    "matches)", log_safe(safe, sizeof(safe), x->what,
		    strlen(x->what)), x->c->match == MATCH_HANDLE ? "handle" :
		    x->c->match == MATCH_SKU ? "sku" : "barcode");
	return x->n > 0 ? 0 : 1;
}

int
report_explain(const struct conf *c, const char *what, int json)
{
	struct state *st;
	struct explain *x;
	int r;

	if (what_ok(what) == -1)
		return EXIT_USAGE;
	if ((st = state_open(c->state_dir, 1)) == NULL)
		return 1;
	x = xcalloc(1, sizeof(*x));
	x->c = c;
	x->what = what;
	r = state_view(st, read_txn, x);
	state_close(st);
	if (r == 0 && stores_differ(x)) {
		log_err("explain: the state in %s was made for stores "
		    "'%s', not the configuration's", c->state_dir, x->stores);
		r = -1;
	}
	r = r == 0 ? explain_print(x, json) : 1;
	explain_free(x);
	return r;
}
