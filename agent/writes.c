/*
 * writes.c: owns the write protocol of docs/design.md §4 (docs/write-protocol.md
 * has its case table).
 *
 *   plan     one transaction journals each store's owed changes as a
 *            pending batch under a fresh idempotency key;
 *   send     the batch is marked `sent` from curl's read callback, just
 *            before its first byte leaves, then posted exactly once;
 *   settle   a definitive answer moves owed into the baseline (applied) or
 *            drops the batch (not applied: re-read, re-plan).
 *   resolve  a batch whose answer never came is never sent again: a
 *            replay could run it twice (a store that forgot the key, or
 *            runs a replay again, applies it once more wherever a level is
 *            back at its changeFromQuantity).  A zero-delta probe under its
 *            key waits out a run still in flight and keeps an unseen key
 *            from running later; then its levels are read afresh and it is
 *            settled as `uncertain`: taken as applied or not from what the
 *            probe and the levels suggest, counted, and logged.
 * A batch never marked sent never left the machine: it is dropped.
 *
 * Return conventions: transaction callbacks (*_txn) return 0 or -1, and
 * get_pending() 0, 1 (none) or -1, as state.h's; the functions that act
 * on a batch return 0, or -1 when the state failed (a store failure backs
 * the store off and returns 0: the batch stays, or is dropped, as the case
 * table says); read_batch_levels() returns an enum step; likely_applied()
 * is a predicate (1 or 0); writes_resolve() an enum step (writes.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "meta.h"
#include "util.h"
#include "writes.h"

#define CONCURRENT_WAIT_MS	1000	/* IDEMPOTENCY_CONCURRENT_REQUEST */

/* ---- plan --------------------------------------------------------------- */

struct plan_ctx {
	size_t		 store;
	struct pending	*p;
};

/*
 * Adds the change owed to store x->store's side of l to the batch: one
 * change, or one a member of a group side (sync_spread()).  A link's
 * changes never straddle two batches: a full batch stops the walk.
 */
static int
collect_owed(const struct link *l, void *arg)
{
	struct plan_ctx *x = arg;
	struct member_change mc[GROUP_MAX];
	const struct link_member *mb;
	struct pending_change *ch;
	int64_t from, delta;
	size_t i = x->store, k, n;

	if (!sync_planned(l, i, &from, &delta) ||
	    (n = sync_spread(l, i, delta, mc)) == 0)
		return 0;
	if (x->p->n + n > BATCH_MAX)
		return 1;	/* the rest goes in the next cycle's batch */
	for (k = 0; k < n; k++) {
		ch = &x->p->ch[x->p->n++];
		snprintf(ch->link, sizeof(ch->link), "%s", l->key);
		ch->item = l->side[i].item;
		ch->location = l->side[i].location;
		ch->level = l->side[i].level;
		if (sync_is_group(l, i)) {
			mb = &l->pool[i].member[mc[k].member];
			ch->location = mb->location;
			ch->level = mb->level;
		}
		ch->from = mc[k].from;
		ch->delta = mc[k].delta;
	}
	return 0;
}

static int
plan_txn(struct state_txn *t, void *arg)
{
	struct run *e = arg;
	struct pending *p = xmalloc(sizeof(*p));
	struct plan_ctx x = { 0, p };
	size_t i;
	int r = 0;

	for (i = 0; i < e->nstores && r == 0; i++) {
		if (!run_store_ok(e, i))
			continue;
		if ((r = state_pending_get(t, (uint32_t)i, p)) == -1)
			break;
		if (r == 0)
			continue;	/* still in flight: resolved first */
		memset(p, 0, offsetof(struct pending, ch));
		if (util_random_key(p->key) == -1)
			fatal("no randomness for idempotency keys");
		p->store = (uint32_t)i;
		p->created_ms = util_now_ms();
		x.store = i;
		if ((r = state_owed_each(t, (uint32_t)i, collect_owed, &x)) == -1)
			break;
		run_tally_plan(e, i, p);
		r = p->n > 0 ? state_pending_put(t, p) : 0;
	}
	free(p);
	return r;
}

int
writes_plan(struct run *e)
{
	if (state_update(e->st, plan_txn, e) != 0)
		return -1;
	run_tally_planned(e);
	return 0;
}

/* ---- settle ------------------------------------------------------------- */

struct settle_ctx {
	struct run		*e;
	const struct pending	*p;
	enum audit_kind		 kind;	/* APPLIED, UNCERTAIN, UNCERTAIN_REPLANNED
					   or DROPPED */
	const char		*note;
	uint16_t		 epoch;	/* the store's snapshot epoch
					   (run_epoch()), read once a batch */
};

/* Applies change ch of an applied batch to its link, if still linked. */
static int
settle_change(struct state_txn *t, struct settle_ctx *x,
    const struct pending_change *ch)
{
	struct audit_entry a;
	struct link l;
	char side[AUDIT_NOTE_MAX];
	size_t i = x->p->store;
	int r;

	if ((r = state_link_get(t, ch->link, &l)) == -1)
		return -1;
	if (r == 0 && l.side[i].item == ch->item &&
	    sync_member(&l, i, ch->location) >= 0) {
		/* the level may have moved: a snapshot begun is older news */
		if (x->kind != AUDIT_UNCERTAIN_REPLANNED)
			sync_applied_at(&l, i, ch->location, ch->delta);
		l.side[i].touched = x->epoch;
		if (state_link_put(t, &l) == -1)
			return -1;
	}
	memset(&a, 0, sizeof(a));
	a.kind = x->kind;
	a.store = (uint32_t)i;
	a.from = ch->from;
	a.delta = ch->delta;
	memcpy(a.batch, x->p->key, sizeof(a.batch));
	snprintf(a.link, sizeof(a.link), "%s", ch->link);
	side[0] = '\0';
	if (r == 0)
		run_side_note(x->e, i, &l, ch->location, side, sizeof(side));
	if (side[0] == '\0')
		snprintf(a.note, sizeof(a.note), "%s", x->note);
	else if (x->kind == AUDIT_APPLIED)
		snprintf(a.note, sizeof(a.note), "%s", side);
	else	/* the reason first: the side's part may be cut */
		snprintf(a.note, sizeof(a.note), "%.100s; %.55s", x->note,
		    side);
	return state_audit_append(t, &a);
}

static int
settle_txn(struct state_txn *t, void *arg)
{
	struct settle_ctx *x = arg;
	struct audit_entry a;
	int64_t n = 0;
	size_t k;

	if (x->kind == AUDIT_DROPPED) {
		memset(&a, 0, sizeof(a));
		a.kind = AUDIT_DROPPED;
		a.store = x->p->store;
		memcpy(a.batch, x->p->key, sizeof(a.batch));
		snprintf(a.note, sizeof(a.note), "%s", x->note);
		if (state_audit_append(t, &a) == -1)
			return -1;
		return state_pending_del(t, x->p->store);
	}
	if (run_epoch(t, x->p->store, &x->epoch) == -1)
		return -1;
	for (k = 0; k < x->p->n; k++)
		if (settle_change(t, x, &x->p->ch[k]) == -1)
			return -1;
	if (x->kind == AUDIT_UNCERTAIN || x->kind == AUDIT_UNCERTAIN_REPLANNED) {
		if (meta_get_i64(t, META_UNCERTAIN, 0, &n) == -1 ||
		    meta_put_i64(t, META_UNCERTAIN, 0, n + 1) == -1)
			return -1;
	}
	return state_pending_del(t, x->p->store);
}

/*
 * Ends batch p: applied, uncertain (taken as applied, or as not applied and
 * so re-planned), or dropped.  0, or -1 when the state failed.
 */
static int
settle(struct run *e, const struct pending *p, enum audit_kind kind,
    const char *note)
{
	struct settle_ctx x = { e, p, kind, note, 0 };
	const char *store = e->c->stores[p->store].name;

	if (state_update(e->st, settle_txn, &x) != 0)
		return -1;
	if (kind == AUDIT_APPLIED) {
		e->written += p->n;
		run_tally_applied(e, p, util_now_ms());
		log_info("store %s: batch %.8s applied (%zu changes)", store,
		    p->key, p->n);
	} else if (kind == AUDIT_UNCERTAIN || kind == AUDIT_UNCERTAIN_REPLANNED)
		log_warn("store %s: batch %.8s: outcome unknown (%s); taken as "
		    "%s, counted as uncertain", store, p->key, note,
		    kind == AUDIT_UNCERTAIN ? "applied" : "not applied");
	else
		log_notice("store %s: batch %.8s dropped: %s", store, p->key,
		    note);
	return 0;
}

/* ---- re-reading the levels of a batch ----------------------------------- */

/*
 * Reads the levels of batch p fresh from its store into lv (p->n entries).
 * Returns STEP_DONE, or STEP_STORE_FAILED when the store could not be
 * read (backed off).
 */
static enum step
read_batch_levels(struct run *e, const struct pending *p,
    struct client_level *lv)
{
	enum client_result r;
	size_t k;

	for (k = 0; k < p->n; k++) {
		memset(&lv[k], 0, sizeof(lv[k]));
		lv[k].item = p->ch[k].item;
		lv[k].location = p->ch[k].location;
		lv[k].level = p->ch[k].level;
	}
	r = client_read_levels(e->s[p->store].cl, lv, p->n);
	if (r != CLIENT_OK) {
		run_store_failed(e, p->store, "re-reading levels", r);
		return STEP_STORE_FAILED;
	}
	return STEP_DONE;
}

/* Drops batch p as not applied, then observes its levels afresh. */
static int
drop_and_reread(struct run *e, const struct pending *p, const char *why)
{
	struct client_level *lv = xcalloc(p->n, sizeof(*lv));
	int r = -1;

	if (settle(e, p, AUDIT_DROPPED, why) == -1)
		goto out;
	r = 0;
	if (read_batch_levels(e, p, lv) == STEP_DONE)
		r = run_observe_levels(e, p->store, lv, p->n);
out:
	free(lv);
	return r;
}

/*
 * Whether batch p, whose answer never came, most likely ran, from what the
 * probe found and its levels read afresh (lv).  A guess, never a proof: an
 * external change of the same size looks the same.  A store that has seen
 * the key received the batch, which then ran unless its level had moved; a
 * store that has not either never received it (a level still at its
 * changeFromQuantity) or forgot the key of a batch that ran (a level at
 * from + delta).
 */
static int
likely_applied(const struct pending *p, enum key_probe found,
    const struct client_level *lv)
{
	size_t k, at_from = 0, at_after = 0;

	for (k = 0; k < p->n; k++) {
		if (!lv[k].found)
			continue;
		at_from += lv[k].available == p->ch[k].from;
		at_after += lv[k].available == p->ch[k].from + p->ch[k].delta;
	}
	if (found == PROBE_SEEN)
		return at_from < p->n;
	return at_after > at_from;
}

/*
 * Settles batch p, whose answer never came, as uncertain from its levels
 * read afresh (lv): taken as applied or not (likely_applied()), then the
 * levels are observed on top.  0, or -1 when the state failed.
 */
static int
settle_unknown(struct run *e, const struct pending *p,
    enum key_probe found, const struct client_level *lv, const char *why)
{
	char note[160];
	int r;

	snprintf(note, sizeof(note), "no answer came; the store's key: %s; %s",
	    client_probe_str(found), why);
	r = settle(e, p, likely_applied(p, found, lv) ? AUDIT_UNCERTAIN :
	    AUDIT_UNCERTAIN_REPLANNED, note);
	return r == 0 ? run_observe_levels(e, p->store, lv, p->n) : r;
}

/*
 * Resolves batch p, sent earlier with no definitive answer
 * (docs/write-protocol.md): it is never sent again, not even under its own
 * key, because a store that forgot the key, or runs a replay again, would
 * apply it twice wherever a level is back at its changeFromQuantity, and
 * no read can rule that out for the moment the replay arrives.  The probe
 * first: a batch still running is waited for, and an unseen key is now
 * held by the probe, so the batch cannot run later; then its levels are
 * read afresh and it is settled as uncertain.  Returns 0 (settled, or left
 * for later), or -1 when the state failed.
 */
static int
resolve_unknown(struct run *e, const struct pending *p)
{
	struct client_level *lv;
	enum key_probe found;
	enum client_result r;
	int rc = 0;

	r = client_probe_key(e->s[p->store].cl, p->key, p->ch[0].item,
	    p->ch[0].location, &found);
	if (r != CLIENT_OK) {
		run_store_failed(e, p->store, "probing a key", r);
		return 0;	/* the batch stays */
	}
	if (found == PROBE_IN_FLIGHT) {
		e->s[p->store].retry_at = util_mono_ms() + CONCURRENT_WAIT_MS;
		return 0;
	}
	lv = xcalloc(p->n, sizeof(*lv));
	if (read_batch_levels(e, p, lv) == STEP_DONE)
		rc = settle_unknown(e, p, found, lv, "levels read afresh");
	free(lv);
	return rc;
}

/* ---- send --------------------------------------------------------------- */

struct send_ctx {
	struct run	*e;
	uint32_t	 store;
	int		 marked;
};

static int
mark_sent_txn(struct state_txn *t, void *arg)
{
	struct send_ctx *x = arg;
	struct pending *p = xmalloc(sizeof(*p));
	int r;

	if ((r = state_pending_get(t, x->store, p)) == 0) {
		p->sent = 1;
		p->attempts++;
		r = state_pending_put(t, p);
	}
	free(p);
	return r == 0 ? 0 : -1;
}

/* curl's read callback point: journal `sent` or refuse to send. */
static int
on_send(void *arg)
{
	struct send_ctx *x = arg;
	struct timespec a, b;

	/* docs/design.md §4 asks how small this window is: make bench reads the line */
	clock_gettime(CLOCK_MONOTONIC, &a);
	x->marked = state_update(x->e->st, mark_sent_txn, x) == 0;
	clock_gettime(CLOCK_MONOTONIC, &b);
	log_debug("store %s: batch marked sent in %ld us",
	    x->e->c->stores[x->store].name,
	    (long)((b.tv_sec - a.tv_sec) * 1000000L +
	    (b.tv_nsec - a.tv_nsec) / 1000));
	return !x->marked;
}

/* Marks side i of the change an error names as not syncable. */
static int
mark_bad_side_txn(struct state_txn *t, void *arg)
{
	const struct pending_change *ch = ((void **)arg)[0];
	const struct adjust_result *ar = ((void **)arg)[1];
	size_t i = *(const size_t *)((void **)arg)[2];
	struct link l;
	int r;

	if ((r = state_link_get(t, ch->link, &l)) != 0)
		return r == 1 ? 0 : -1;
	if (strcmp(ar->code, "NON_MUTABLE_INVENTORY_ITEM") == 0)
		l.side[i].status = SIDE_BUNDLE;
	else
		l.side[i].status = SIDE_MISSING;
	l.side[i].has_baseline = 0;
	return state_link_put(t, &l);
}

static int
refused(struct run *e, const struct pending *p,
    const struct adjust_result *ar)
{
	char why[META_STR_MAX];
	size_t i = p->store;

	snprintf(why, sizeof(why), "refused: %s: %s", ar->code, ar->message);
	if (ar->bad_index >= 0 && (size_t)ar->bad_index < p->n &&
	    (strcmp(ar->code, "NON_MUTABLE_INVENTORY_ITEM") == 0 ||
	    strcmp(ar->code, "ITEM_NOT_STOCKED_AT_LOCATION") == 0 ||
	    strcmp(ar->code, "INVALID_INVENTORY_ITEM") == 0 ||
	    strcmp(ar->code, "INVALID_LOCATION") == 0)) {
		void *args[3] = { (void *)&p->ch[ar->bad_index], (void *)ar, &i };

		log_warn("store %s: %s: %s; that level is no longer synced",
		    e->c->stores[i].name, p->ch[ar->bad_index].link, ar->code);
		if (state_update(e->st, mark_bad_side_txn, args) != 0)
			return -1;
	} else
		run_store_failed(e, i, why, CLIENT_REFUSED);
	return drop_and_reread(e, p, why);
}

/*
 * Acts on the store's definitive answer to the first and only send of
 * batch p.  Returns 0, or -1 when the state failed.
 */
static int
answered(struct run *e, const struct pending *p,
    const struct adjust_result *ar)
{
	switch (ar->outcome) {
	case ADJUST_APPLIED:
		return settle(e, p, AUDIT_APPLIED, "applied");
	case ADJUST_STALE:	/* compare-and-set failed: nothing was written */
		return drop_and_reread(e, p, "the level changed meanwhile "
		    "(CHANGE_FROM_QUANTITY_STALE)");
	case ADJUST_KEY_MISMATCH:	/* the key was not ours: it did not run */
		return drop_and_reread(e, p,
		    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH");
	case ADJUST_PREVIOUS_FAILED:
		return drop_and_reread(e, p, "the earlier attempt failed");
	case ADJUST_CONCURRENT:
		/* cannot happen to a fresh key: resolved as an unknown outcome */
		e->s[p->store].retry_at = util_mono_ms() + CONCURRENT_WAIT_MS;
		return 0;
	case ADJUST_REFUSED:
		return refused(e, p, ar);
	}
	return 0;
}

/*
 * Whether every level of batch p, journaled and not sent, is still active
 * and at its changeFromQuantity, read by id just before the send.  From
 * API 2026-10 the store takes a write to a deactivated level
 * (ITEM_NOT_STOCKED_AT_LOCATION is gone: docs/shopify-api.md §11), and a
 * merchant who deactivated a level in one store expects invsync to leave
 * it alone, on every version; a level that moved since the plan would
 * fail compare-and-set, so the write would be spent for nothing (a flash
 * sale moves levels faster than batches go out).  1: send.  0: not sent
 * and dropped, as a batch that never left (row 1 of
 * docs/write-protocol.md); the levels read are observed, so a change is
 * counted, and an inactive or gone level stops being synced and is
 * reported.  -1: the state failed.
 */
static int
levels_ready(struct run *e, const struct pending *p)
{
	struct client_level *lv;
	size_t k, off = 0, moved = 0;
	int r = 0;

	for (k = 0; k < p->n; k++)
		if (p->ch[k].level == 0)
			return 1;	/* no level id to read by: the store
					   judges (older states) */
	lv = xcalloc(p->n, sizeof(*lv));
	if (read_batch_levels(e, p, lv) != STEP_DONE) {
		r = settle(e, p, AUDIT_DROPPED, "not sent: its levels could "
		    "not be read first");
		goto out;
	}
	for (k = 0; k < p->n; k++)
		if (!lv[k].found || !lv[k].active) {
			log_warn("store %s: %s at location %" PRIu64 " is %s in "
			    "the store; not written", e->c->stores[p->store].name,
			    p->ch[k].link, p->ch[k].location, lv[k].found ?
			    "inactive" : "not stocked");
			off++;
		} else if (lv[k].available != p->ch[k].from)
			moved++;
	if (off == 0 && moved == 0) {
		r = 1;
		goto out;
	}
	if (settle(e, p, AUDIT_DROPPED, off > 0 ? "not sent: a level was "
	    "deactivated or removed in the store" : "not sent: a level changed "
	    "meanwhile (read before the send)") == -1 ||
	    run_observe_levels(e, p->store, lv, p->n) == -1)
		r = -1;
out:
	free(lv);
	return r;
}

/*
 * Counts a send to store i that ended with r and, for CLIENT_OK, *ar: ok
 * when applied, throttled when refused by the rate limit, else failed
 * (refused, stale, no answer); a send cut short by a stop is not counted.
 */
static void
tally_write(struct run *e, size_t i, enum client_result r,
    const struct adjust_result *ar)
{
	uint64_t *writes = e->s[i].tally.writes;

	if (r == CLIENT_STOPPED)
		return;
	if (r == CLIENT_OK && ar->outcome == ADJUST_APPLIED)
		writes[METRICS_OK]++;
	else if (r == CLIENT_THROTTLED)
		writes[METRICS_THROTTLED]++;
	else
		writes[METRICS_FAILED]++;
}

/*
 * Sends batch p, journaled and never sent, exactly once and settles what
 * its answer settles.  Returns 0, or -1 on a state failure.
 */
static int
send_batch(struct run *e, struct pending *p)
{
	struct send_ctx x = { e, p->store, 0 };
	struct adjust_result ar;
	enum client_result r;
	int ok;

	if ((ok = levels_ready(e, p)) != 1) {
		/* dropped unsent, its levels read: plan afresh */
		e->s[p->store].again = ok == 0 && run_store_ok(e, p->store);
		return ok;
	}
	r = client_adjust(e->s[p->store].cl, p, on_send, &x, &ar);
	tally_write(e, p->store, r, &ar);
	if (r == CLIENT_OK) {
		run_store_succeeded(e, p->store);
		e->s[p->store].again = ar.outcome == ADJUST_STALE ||
		    (ar.outcome == ADJUST_APPLIED && p->n == BATCH_MAX);
		return answered(e, p, &ar);
	}
	if (r == CLIENT_THROTTLED) {
		run_store_failed(e, p->store, "writing", r);
		return settle(e, p, AUDIT_DROPPED, "throttled: it did not run");
	}
	if (!x.marked && r != CLIENT_STOPPED) {
		/* nothing left the machine: forget it, plan again */
		run_store_failed(e, p->store, "writing", r);
		return settle(e, p, AUDIT_DROPPED, "not sent");
	}
	/* unknown outcome: the batch stays and is resolved, never re-sent */
	run_store_failed(e, p->store, "writing (outcome unknown)", r);
	return 0;
}

/* Reads store p->store's pending batch into p: 0, 1 (none), -1. */
static int
get_pending(struct state_txn *t, void *arg)
{
	struct pending *p = arg;

	return state_pending_get(t, p->store, p);
}

enum step
writes_resolve(struct run *e, size_t i)
{
	struct pending *p = xmalloc(sizeof(*p));
	int r;

	p->store = (uint32_t)i;
	r = state_view(e->st, get_pending, p);
	if (r == 1) {
		free(p);
		return STEP_DONE;
	}
	if (r == 0 && !p->sent)
		r = settle(e, p, AUDIT_DROPPED, "never sent; re-planned");
	else if (r == 0)
		r = resolve_unknown(e, p);
	free(p);
	if (r == -1)
		return STEP_STATE_FAILED;
	p = xmalloc(sizeof(*p));
	p->store = (uint32_t)i;
	r = state_view(e->st, get_pending, p);
	free(p);
	if (r == -1)
		return STEP_STATE_FAILED;
	return r == 1 ? STEP_DONE : STEP_PENDING;
}

int
writes_send(struct run *e, size_t i)
{
	struct pending *p = xmalloc(sizeof(*p));
	int r;

	p->store = (uint32_t)i;
	if ((r = state_view(e->st, get_pending, p)) == 0 && !p->sent)
		r = send_batch(e, p);
	free(p);
	return r == -1 ? -1 : 0;
}

int
writes_report_plan(struct run *e)
{
	struct pending *p = xmalloc(sizeof(*p));
	size_t i, k;
	int r = 0;

	for (i = 0; i < e->nstores; i++) {
		p->store = (uint32_t)i;
		if ((r = state_view(e->st, get_pending, p)) == -1)
			break;
		if (r == 1)
			continue;
		for (k = 0; k < p->n; k++)
			log_notice("dry run: would adjust %s %s by %+" PRId64
			    " (changeFromQuantity %" PRId64 ")",
			    e->c->stores[i].name, p->ch[k].link,
			    p->ch[k].delta, p->ch[k].from);
	}
	free(p);
	return r == -1 ? -1 : 0;
}

int
writes_drop_unsent(struct run *e)
{
	struct pending *p = xmalloc(sizeof(*p));
	size_t i;
	int r = 0;

	for (i = 0; i < e->nstores && r == 0; i++) {
		p->store = (uint32_t)i;
		if ((r = state_view(e->st, get_pending, p)) == 1) {
			r = 0;
			continue;
		}
		if (r == 0 && !p->sent)
			r = settle(e, p, AUDIT_DROPPED, "never sent before a "
			    "restart; re-planned");
	}
	free(p);
	return r;
}
