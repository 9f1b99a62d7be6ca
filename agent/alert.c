/*
 * alert.c: owns the alert problem tracker and the alert bodies (alert.h):
 * which problems are on and when each is told, the sentences that name
 * them and their fixes (from the README's troubleshooting table), and the
 * json, slack and ntfy renderings.  Pure: no clock, network or LMDB.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alert.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define WHY_QUOTED	200	/* bytes of a store's failure quoted */

static const char *const kind_names[ALERT_KINDS] = {
	[ALERT_STORE_FAILING] = "store_failing",
	[ALERT_WRITES_PENDING] = "writes_pending",
	[ALERT_PAUSED] = "paused",
	[ALERT_UNCERTAIN] = "uncertain_write",
	[ALERT_CYCLE_STALLED] = "cycle_stalled",
};

const char *
alert_kind_name(enum alert_kind k)
{
	return k < ALERT_KINDS ? kind_names[k] : "?";
}

/* Writes ms as a short duration ("2m05s", "950ms") into buf. */
static char *
fmt_took(int64_t ms, char *buf, size_t bufsz)
{
	if (ms < 1000)
		snprintf(buf, bufsz, "%" PRId64 "ms", ms);
	else if (ms < 60000)
		snprintf(buf, bufsz, "%" PRId64 ".%01" PRId64 "s", ms / 1000,
		    ms % 1000 / 100);
	else
		snprintf(buf, bufsz, "%" PRId64 "m%02" PRId64 "s", ms / 60000,
		    ms % 60000 / 1000);
	return buf;
}

/* ---- fixes ----------------------------------------------------------------- */

/* A store failure's reason, by a phrase in it, and the README's fix. */
static const struct {
	const char	*phrase;
	const char	*fix;
} store_fixes[] = {
	{ "certificate", "this machine's clock may be wrong (a Pi without "
	    "a real-time clock before NTP): check timedatectl; invsync "
	    "retries" },
	{ "IP allowlist", "the app has an IP allowlist (Dev Dashboard): add "
	    "this machine's public address" },
	{ "token request refused", "install the app on the store, or fix "
	    "client_id or the secret file" },
	{ "access refused", "wrong token, or a scope missing from the app: "
	    "add it and reinstall the app" },
	{ "lacks the scope", "a scope is missing from the app: add it and "
	    "reinstall the app" },
	{ "no active location", "fix the [locations] line it names" },
	{ "CA bundle", "install ca-certificates, or set ca_file" },
};

const char *
alert_store_fix(const char *why)
{
	size_t i;

	for (i = 0; why != NULL && i < sizeof(store_fixes) /
	    sizeof(store_fixes[0]); i++)
		if (strstr(why, store_fixes[i].phrase) != NULL)
			return store_fixes[i].fix;
	return "the store or the network is down or refusing: invsync "
	    "status says why; invsync retries with backoff";
}

static const char *
paused_fix(const char *why)
{
	if (why != NULL && strncmp(why, "guard:", 6) == 0)
		return "a bulk change (an import mistake?) was held back; "
		    "sales never trip it: check the stores, then run invsync "
		    "resume";
	return "run invsync resume to write again";
}

/* ---- the tracker ----------------------------------------------------------- */

void
alert_tracker_init(struct alert_tracker *t, int64_t after_ms)
{
	memset(t, 0, sizeof(*t));
	t->after_ms = after_ms;
	t->uncertain = -1;
}

/* The sentences of a problem (or of its end) into m. */
static void
describe(struct alert_msg *m, const struct alert_view *v, size_t i,
    int64_t after_ms)
{
	char since[32], q[WHY_QUOTED], a[32], b[32], end[32];

	util_iso_time(m->since, since, sizeof(since));
	switch (m->kind) {
	case ALERT_STORE_FAILING:
		log_safe(q, sizeof(q), v->failure[i] ? v->failure[i] : "?",
		    strlen(v->failure[i] ? v->failure[i] : "?"));
		if (m->resolved)
			snprintf(m->message, sizeof(m->message), "store %s "
			    "answers again (it failed from %s)", m->store,
			    since);
		else
			snprintf(m->message, sizeof(m->message), "store %s has "
			    "been failing since %s: %s", m->store, since, q);
		snprintf(m->fix, sizeof(m->fix), "%s",
		    alert_store_fix(v->failure[i]));
		break;
	case ALERT_WRITES_PENDING:
		snprintf(m->message, sizeof(m->message), m->resolved ?
		    "the write batch to store %s pending since %s is settled" :
		    "a write batch to store %s has awaited its outcome since "
		    "%s", m->store, since);
		snprintf(m->fix, sizeof(m->fix), "the store is likely "
		    "unreachable or throttling: invsync status says why; the "
		    "batch is retried until its outcome is known");
		break;
	case ALERT_PAUSED:
		log_safe(q, sizeof(q), v->paused_why ? v->paused_why : "",
		    strlen(v->paused_why ? v->paused_why : ""));
		if (m->resolved)
			snprintf(m->message, sizeof(m->message), "writing "
			    "resumed (paused since %s)", since);
		else
			snprintf(m->message, sizeof(m->message), "writing is "
			    "paused since %s: %s", since, q);
		snprintf(m->fix, sizeof(m->fix), "%s",
		    paused_fix(v->paused_why));
		break;
	case ALERT_UNCERTAIN:
		snprintf(m->message, sizeof(m->message), "write batches "
		    "settled as uncertain since %s: %" PRId64 " in all",
		    since, v->uncertain);
		snprintf(m->fix, sizeof(m->fix), "a write's outcome could not "
		    "be proven after a network fault; invsync log names the "
		    "level to check");
		break;
	case ALERT_CYCLE_STALLED:
		util_iso_time(v->now, end, sizeof(end));
		if (m->resolved)
			snprintf(m->message, sizeof(m->message), "sync cycles "
			    "complete in time again (slow since %s)", since);
		else
			snprintf(m->message, sizeof(m->message), "a sync cycle "
			    "took %s, longer than alert_after (%s): none "
			    "completed from %s to %s",
			    fmt_took(v->cycle_ms, a, sizeof(a)),
			    fmt_took(after_ms, b, sizeof(b)), since, end);
		snprintf(m->fix, sizeof(m->fix), "a slow or throttled store, "
		    "or an overloaded machine: see invsync status and "
		    "journalctl -u invsync");
		break;
	case ALERT_KINDS:
		break;
	}
	if (m->resolved)
		m->fix[0] = '\0';
}

/* Appends a message of kind k for store i (or the agent) to out[*n]. */
static void
emit(struct alert_msg *out, size_t *n, const struct alert_view *v,
    enum alert_kind k, size_t i, int per_store, int resolved, int reminder,
    int64_t since, int64_t after_ms)
{
	struct alert_msg *m = &out[(*n)++];

	memset(m, 0, sizeof(*m));
	m->kind = k;
	m->resolved = resolved;
	m->reminder = reminder;
	if (per_store)
		snprintf(m->store, sizeof(m->store), "%s", v->store[i]);
	m->since = since;
	m->at = v->now;
	describe(m, v, i, after_ms);
	if (reminder) {
		size_t len = strlen(m->message);

		if (len > sizeof(m->message) - 8)
			len = sizeof(m->message) - 8;
		memmove(m->message + 7, m->message, len);
		memcpy(m->message, "still: ", 7);
		m->message[len + 7] = '\0';
	}
}

/*
 * Steps problem k of store i: on since `since` (0: off), told once it has
 * lasted wait ms, reminded hourly, resolved when it ends.
 */
static void
step(struct alert_tracker *t, const struct alert_view *v, enum alert_kind k,
    size_t i, int per_store, int64_t since, int64_t wait,
    struct alert_msg *out, size_t *n)
{
	struct alert_slot *s = &t->slot[k][i];

	if (since == 0) {
		if (s->told != 0)
			emit(out, n, v, k, i, per_store, 1, 0, s->since,
			    t->after_ms);
		memset(s, 0, sizeof(*s));
		return;
	}
	if (s->told == 0)
		s->since = since;	/* not told yet: the current episode */
	if (v->now - s->since < wait)
		return;
	if (s->told == 0 || v->now - s->told >= ALERT_REMIND_MS) {
		emit(out, n, v, k, i, per_store, 0, s->told != 0, s->since,
		    t->after_ms);
		s->told = v->now;
	}
}

/* Uncertain writes: an event, told at most hourly, never resolved. */
static void
step_uncertain(struct alert_tracker *t, const struct alert_view *v,
    struct alert_msg *out, size_t *n)
{
	struct alert_slot *s = &t->slot[ALERT_UNCERTAIN][0];

	if (t->uncertain == -1 || v->uncertain < t->uncertain) {
		t->uncertain = v->uncertain;	/* the first view; a new state */
		return;
	}
	if (v->uncertain > t->uncertain && t->uncertain_at == 0)
		t->uncertain_at = v->now;
	if (t->uncertain_at == 0 ||
	    (s->told != 0 && v->now - s->told < ALERT_REMIND_MS))
		return;
	emit(out, n, v, ALERT_UNCERTAIN, 0, 0, 0, 0, t->uncertain_at,
	    t->after_ms);
	s->told = v->now;
	t->uncertain = v->uncertain;
	t->uncertain_at = 0;
}

size_t
alert_track(struct alert_tracker *t, const struct alert_view *v,
    struct alert_msg *out)
{
	size_t i, n = 0;

	for (i = 0; i < v->nstores && i < CONF_MAX_STORES; i++) {
		step(t, v, ALERT_STORE_FAILING, i, 1, v->failing_since[i],
		    t->after_ms, out, &n);
		step(t, v, ALERT_WRITES_PENDING, i, 1, v->pending_since[i],
		    t->after_ms, out, &n);
	}
	step(t, v, ALERT_PAUSED, 0, 0, v->paused ? v->now : 0, 0, out, &n);
	step(t, v, ALERT_CYCLE_STALLED, 0, 0, v->cycle_ms > t->after_ms ?
	    v->cycle_start : 0, 0, out, &n);
	step_uncertain(t, v, out, &n);
	return n;
}

/* ---- bodies ---------------------------------------------------------------- */

/* Copies s into the body, cut to fit. */
static void
body_set(struct alert_body *b, const char *s, size_t len)
{
	if (len >= sizeof(b->text))
		len = sizeof(b->text) - 1;
	memcpy(b->text, s, len);
	b->text[len] = '\0';
	b->len = len;
}

/*
 * Ends writer w into the body.  The texts are ASCII (log_safe()), so the
 * writer cannot refuse them; should it, a fixed body goes instead.
 */
static void
body_finish(struct alert_body *b, struct json_writer *w)
{
	size_t len;
	char *s;

	b->content_type = "application/json";
	if ((s = jw_finish(w, &len)) == NULL) {
		body_set(b, "{\"text\":\"invsync: an alert could not be "
		    "rendered\"}", 50);
		return;
	}
	body_set(b, s, len);
	free(s);
}

static void
render_json(const struct alert_msg *m, const char *host, struct alert_body *b)
{
	struct json_writer w;
	char since[32];

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "event");
	jw_string(&w, m->resolved ? "resolved" : "problem");
	jw_key(&w, "problem");
	jw_string(&w, alert_kind_name(m->kind));
	jw_key(&w, "store");
	if (m->store[0] != '\0')
		jw_string(&w, m->store);
	else
		jw_null(&w);
	jw_key(&w, "since");
	jw_string(&w, util_iso_time(m->since, since, sizeof(since)));
	jw_key(&w, "message");
	jw_string(&w, m->message);
	jw_key(&w, "fix");
	if (m->fix[0] != '\0')
		jw_string(&w, m->fix);
	else
		jw_null(&w);
	jw_key(&w, "host");
	jw_string(&w, host);
	jw_object_end(&w);
	body_finish(b, &w);
}

/* The one-line summary of m the slack and ntfy shapes start with. */
static void
headline(const struct alert_msg *m, const char *host, char *buf, size_t sz)
{
	snprintf(buf, sz, "invsync on %s: %s %s%s%s", host,
	    m->resolved ? "resolved" : "problem", alert_kind_name(m->kind),
	    m->store[0] ? " in store " : "", m->store);
}

/* Appends s to buf (size sz) with Slack's three escapes (& < >). */
static void
slack_escape(char *buf, size_t sz, const char *s)
{
	size_t n = strlen(buf);
	const char *r;
	char one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		one[0] = *s;
		r = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ?
		    "&gt;" : one;
		if (n + strlen(r) + 1 > sz)
			return;
		memcpy(buf + n, r, strlen(r) + 1);
		n += strlen(r);
	}
}

static void
render_slack(const struct alert_msg *m, const char *host, struct alert_body *b)
{
	struct json_writer w;
	char head[256], text[ALERT_BODY_MAX / 2] = "";

	headline(m, host, head, sizeof(head));
	slack_escape(text, sizeof(text), m->resolved ? ":white_check_mark: " :
	    ":warning: ");
	slack_escape(text, sizeof(text), "*");
	slack_escape(text, sizeof(text), head);
	slack_escape(text, sizeof(text), "*\n");
	slack_escape(text, sizeof(text), m->message);
	if (m->fix[0] != '\0') {
		slack_escape(text, sizeof(text), "\nFix: ");
		slack_escape(text, sizeof(text), m->fix);
	}
	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "text");
	jw_string(&w, text);
	jw_object_end(&w);
	body_finish(b, &w);
}

/* Copies s into a header value: printable ASCII only, others as '?'. */
static void
header_set(char *dst, size_t sz, const char *name, const char *s)
{
	size_t n = (size_t)snprintf(dst, sz, "%s: ", name);

	for (; *s != '\0' && n + 1 < sz; s++)
		dst[n++] = (*s >= ' ' && *s < 0x7f) ? *s : '?';
	dst[n] = '\0';
}

static void
render_ntfy(const struct alert_msg *m, const char *host, struct alert_body *b)
{
	char head[256];
	int n;

	headline(m, host, head, sizeof(head));
	n = snprintf(b->text, sizeof(b->text), "%s%s%s\n", m->message,
	    m->fix[0] ? "\nFix: " : "", m->fix);
	b->len = n < 0 ? 0 : (size_t)n >= sizeof(b->text) ?
	    sizeof(b->text) - 1 : (size_t)n;
	b->content_type = "text/plain; charset=utf-8";
	header_set(b->header[0], sizeof(b->header[0]), "Title", head);
	header_set(b->header[1], sizeof(b->header[1]), "Tags", m->resolved ?
	    "white_check_mark,invsync" : "warning,invsync");
	header_set(b->header[2], sizeof(b->header[2]), "Priority",
	    m->resolved ? "default" : "high");
	b->nheader = 3;
}

void
alert_render(enum alert_format f, const struct alert_msg *m,
    const char *host, struct alert_body *b)
{
	memset(b, 0, sizeof(*b));
	switch (f) {
	case ALERT_FORMAT_SLACK:
		render_slack(m, host, b);
		break;
	case ALERT_FORMAT_NTFY:
		render_ntfy(m, host, b);
		break;
	case ALERT_FORMAT_JSON:
	default:
		render_json(m, host, b);
		break;
	}
}
