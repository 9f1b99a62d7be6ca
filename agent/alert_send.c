/*
 * alert_send.c: owns the sending of alerts and pings (alert_send.h): the
 * view of a running engine the tracker (alert.c) judges, the outbox of
 * unsent messages with its backoff, and ping_url's schedule.  Transfers go
 * through http.c; URLs are logged by their origin only (conf_url_origin()),
 * since their path or query may be a secret.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "alert_send.h"
#include "http.h"
#include "log.h"
#include "meta.h"
#include "run.h"
#include "util.h"

#define HOST_MAX	128

/* A message waiting to be sent. */
struct outbox_item {
	struct alert_msg	msg;
	unsigned		attempts;	/* failed so far */
	int64_t			next_try;	/* mono ms */
	int64_t			made;		/* mono ms */
};

struct alerter {
	const struct conf	*c;
	struct http		*h;
	int			 alerts;	/* alert_url set, not `once` */
	struct alert_tracker	 t;
	struct outbox_item	 box[ALERT_OUTBOX_MAX];
	size_t			 nbox;
	char			 host[HOST_MAX];
	char			 alert_origin[CONF_PATH_MAX];
	char			 ping_origin[CONF_PATH_MAX];
	int64_t			 ping_next;	/* mono ms; 0: at once */
	unsigned		 ping_fails;
	char			 ping_why[256];	/* the last failure, said once */
};

struct alerter *
alerter_new(const struct conf *c, int once, volatile int *stop)
{
	struct alerter *a;
	char host[HOST_MAX];

	if (c->ping_url[0] == '\0' && (once || c->alert_url[0] == '\0'))
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->c = c;
	a->alerts = !once && c->alert_url[0] != '\0';
	if ((a->h = http_new(c->ca_file[0] ? c->ca_file : NULL,
	    ALERT_TIMEOUT_MS, stop)) == NULL) {
		log_err("alerts and pings disabled: no CA bundle");
		free(a);
		return NULL;
	}
	alert_tracker_init(&a->t, c->alert_after_ms);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	log_safe(a->host, sizeof(a->host), host, strlen(host));
	conf_url_origin(c->alert_url, a->alert_origin, sizeof(a->alert_origin));
	conf_url_origin(c->ping_url, a->ping_origin, sizeof(a->ping_origin));
	return a;
}

void
alerter_free(struct alerter *a)
{
	if (a == NULL)
		return;
	http_free(a->h);
	free(a);
}

/* ---- the view -------------------------------------------------------------- */

struct view_ctx {
	struct alert_view	*v;
	struct pending		*p;
	char			*why;		/* META_STR_MAX */
};

/* Reads the pause, the uncertain count and the pending batches.  0 or -1. */
static int
view_txn(struct state_txn *t, void *arg)
{
	struct view_ctx *x = arg;
	struct alert_view *v = x->v;
	size_t i;
	int r;

	if ((r = meta_get_str(t, META_PAUSED, 0, x->why, META_STR_MAX)) == -1 ||
	    meta_get_i64(t, META_UNCERTAIN, 0, &v->uncertain) == -1)
		return -1;
	v->paused = r == 0;
	v->paused_why = x->why;
	for (i = 0; i < v->nstores; i++) {
		if ((r = state_pending_get(t, (uint32_t)i, x->p)) == -1)
			return -1;
		v->pending_since[i] = r == 0 ? x->p->created_ms : 0;
		if (r == 0 && v->pending_since[i] <= 0)
			v->pending_since[i] = 1;	/* on, whatever its stamp */
	}
	return 0;
}

/* Fills v from e.  0, or -1 when the state could not be read. */
static int
view_fill(struct alert_view *v, struct run *e, int64_t took_ms, char *why)
{
	struct view_ctx x = { v, xmalloc(sizeof(struct pending)), why };
	size_t i;
	int r;

	memset(v, 0, sizeof(*v));
	v->now = util_now_ms();
	v->nstores = e->nstores;
	v->cycle_ms = took_ms;
	v->cycle_start = v->now - took_ms;
	for (i = 0; i < e->nstores; i++) {
		v->store[i] = e->c->stores[i].name;
		v->failing_since[i] = e->s[i].failures > 0 ?
		    e->s[i].failing_since : 0;
		if (e->s[i].failures > 0 && v->failing_since[i] <= 0)
			v->failing_since[i] = v->now;
		v->failure[i] = e->s[i].failure;
	}
	r = state_view(e->st, view_txn, &x);
	free(x.p);
	return r == 0 ? 0 : -1;
}

/* ---- the outbox ------------------------------------------------------------ */

/* Queues m; a full outbox drops its oldest message (logged). */
static void
outbox_add(struct alerter *a, const struct alert_msg *m, int64_t mono)
{
	struct outbox_item *it;

	if (a->nbox == ALERT_OUTBOX_MAX) {
		log_warn("alert: %zu messages unsent: dropping the oldest (%s "
		    "%s)", a->nbox, a->box[0].msg.resolved ? "resolved" :
		    "problem", alert_kind_name(a->box[0].msg.kind));
		memmove(&a->box[0], &a->box[1],
		    (a->nbox - 1) * sizeof(a->box[0]));
		a->nbox--;
	}
	it = &a->box[a->nbox++];
	memset(it, 0, sizeof(*it));
	it->msg = *m;
	it->made = mono;
	it->next_try = mono;
}

static void
outbox_pop(struct alerter *a)
{
	memmove(&a->box[0], &a->box[1], (a->nbox - 1) * sizeof(a->box[0]));
	a->nbox--;
}

/*
 * Posts the outbox's first message once.  Returns 1 when it left the
 * outbox (sent, refused for good, or given up), 0 when it stays for a
 * later try.
 */
static int
send_first(struct alerter *a, int64_t mono)
{
	struct outbox_item *it = &a->box[0];
	const struct alert_msg *m = &it->msg;
	struct http_request req;
	struct http_reply rep;
	struct alert_body *b = xmalloc(sizeof(*b));
	enum http_result r;
	int64_t wait;
	size_t k;
	char what[128];

	snprintf(what, sizeof(what), "%s %s%s%s", m->resolved ? "resolved" :
	    "problem", alert_kind_name(m->kind), m->store[0] ? " store " : "",
	    m->store);
	alert_render(a->c->alert_format, m, a->host, b);
	memset(&req, 0, sizeof(req));
	req.url = a->c->alert_url;
	req.plain_ok = 1;	/* conf.c allows http to loopback hosts only */
	req.content_type = b->content_type;
	for (k = 0; k < b->nheader; k++)
		req.headers[k] = b->header[k];
	req.body = b->text;
	req.len = b->len;
	r = http_post(a->h, &req, &rep);
	http_reply_free(&rep);
	free(b);
	if (r == HTTP_OK && rep.status >= 200 && rep.status <= 299) {
		log_info("alert sent to %s: %s", a->alert_origin, what);
		return 1;
	}
	if (r == HTTP_OK && rep.status >= 400 && rep.status <= 499 &&
	    rep.status != 408 && rep.status != 429) {
		log_warn("alert to %s refused with HTTP %ld: %s dropped; check "
		    "alert_url and alert_format", a->alert_origin, rep.status,
		    what);
		return 1;
	}
	if (mono - it->made >= ALERT_GIVE_UP_MS) {
		log_warn("alert to %s: %s unsent for a day: dropped",
		    a->alert_origin, what);
		return 1;
	}
	wait = http_backoff_ms(it->attempts++, ALERT_RETRY_BASE_MS,
	    ALERT_RETRY_CAP_MS);
	if (rep.retry_after_ms > wait && rep.retry_after_ms < ALERT_RETRY_CAP_MS)
		wait = rep.retry_after_ms;
	it->next_try = mono + wait;
	if (r == HTTP_OK)
		log_warn("alert to %s not sent (HTTP %ld): %s; retrying in "
		    "%" PRId64 " ms", a->alert_origin, rep.status, what, wait);
	else
		log_warn("alert to %s not sent (%s: %s): %s; retrying in "
		    "%" PRId64 " ms", a->alert_origin, http_result_str(r),
		    rep.error, what, wait);
	return 0;
}

/*
 * Sends the outbox in order until deadline (mono ms), a message not due
 * yet, or one that failed: a later message never overtakes an earlier
 * one, so a "resolved" never comes before its problem.
 */
static void
outbox_send(struct alerter *a, int64_t deadline)
{
	int64_t mono;

	while (a->nbox > 0 && (mono = util_mono_ms()) < deadline &&
	    a->box[0].next_try <= mono) {
		if (!send_first(a, mono))
			break;
		outbox_pop(a);
	}
}

/* ---- the ping -------------------------------------------------------------- */

/* Whether e's last cycle was healthy: linked, and no store failing. */
static int
healthy(const struct run *e)
{
	size_t i;

	if (!e->ready || e->state_failed)
		return 0;
	for (i = 0; i < e->nstores; i++)
		if (e->s[i].failures > 0)
			return 0;
	return 1;
}

/* GETs ping_url when one is due; a failure is said once per reason. */
static void
ping(struct alerter *a, int64_t mono)
{
	struct http_request req;
	struct http_reply rep;
	enum http_result r;
	char why[256];

	memset(&req, 0, sizeof(req));
	req.url = a->c->ping_url;
	req.plain_ok = 1;	/* conf.c allows http to loopback hosts only */
	r = http_post(a->h, &req, &rep);
	http_reply_free(&rep);
	if (r == HTTP_OK && rep.status >= 200 && rep.status <= 299) {
		if (a->ping_why[0] != '\0')
			log_notice("ping_url %s: answered again",
			    a->ping_origin);
		a->ping_why[0] = '\0';
		a->ping_fails = 0;
		a->ping_next = mono + a->c->ping_every_ms;
		log_debug("ping_url %s: pinged", a->ping_origin);
		return;
	}
	if (r == HTTP_OK)
		snprintf(why, sizeof(why), "HTTP %ld", rep.status);
	else
		snprintf(why, sizeof(why), "%s: %.200s", http_result_str(r),
		    rep.error);
	if (strcmp(why, a->ping_why) != 0)
		log_warn("ping_url %s failed (%s); syncing goes on (said once "
		    "until the reason changes)", a->ping_origin, why);
	snprintf(a->ping_why, sizeof(a->ping_why), "%s", why);
	a->ping_next = mono + http_backoff_ms(a->ping_fails++,
	    ALERT_RETRY_BASE_MS, a->c->ping_every_ms);
}

/* ---- after a cycle ---------------------------------------------------------- */

int64_t
alerter_cycle(struct alerter *a, struct run *e, int64_t took_ms)
{
	struct alert_msg *msgs;
	struct alert_view v;
	char why[META_STR_MAX];
	int64_t start = util_mono_ms();
	size_t i, n;

	if (a == NULL)
		return 0;
	if (a->c->ping_url[0] != '\0' && healthy(e) && start >= a->ping_next)
		ping(a, start);
	if (a->alerts) {
		if (view_fill(&v, e, took_ms, why) == -1)
			log_warn("alert: the state could not be read; no "
			    "problems judged this cycle");
		else {
			msgs = xcalloc(ALERT_TRACK_MAX, sizeof(*msgs));
			n = alert_track(&a->t, &v, msgs);
			for (i = 0; i < n; i++) {
				log_notice("alert: %s", msgs[i].message);
				outbox_add(a, &msgs[i], util_mono_ms());
			}
			free(msgs);
		}
		outbox_send(a, start + ALERT_BUDGET_MS);
	}
	return util_mono_ms() - start;
}
