/*
 * test_alert.c: drives agent/alert.c, the pure half of alerts: the problem
 * tracker (told once a problem has lasted alert_after, reminded hourly,
 * resolved once, one message per problem, a pause told at once, an
 * uncertain write an event), the fixes taken from the README's table, and
 * the json, slack and ntfy bodies against golden output.  The daemon's use
 * of it is tests/e2e/test_alerts.py's.
 */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "check.h"

#define T0	1764670000000LL		/* 2025-12-02T10:06:40Z */
#define MIN	60000LL
#define AFTER	(5 * MIN)

static struct alert_tracker tr;
static struct alert_view v;
static struct alert_msg out[ALERT_TRACK_MAX];

/* A view of two stores at now, nothing wrong, the uncertain count u. */
static void
view(int64_t now, int64_t u)
{
	memset(&v, 0, sizeof(v));
	v.now = now;
	v.nstores = 2;
	v.store[0] = "source";
	v.store[1] = "destination";
	v.failure[0] = v.failure[1] = "";
	v.uncertain = u;
	v.cycle_start = now - 300;
	v.cycle_ms = 300;
}

static size_t
track(void)
{
	return alert_track(&tr, &v, out);
}

static void
test_store_failing(void)
{
	int64_t down = T0 + 10000;
	size_t n, i, told = 0;

	alert_tracker_init(&tr, AFTER);
	view(T0, 0);
	CHECK_INT("store: nothing wrong, nothing said", track(), 0);
	/* failing, but not for alert_after yet */
	view(down + AFTER - 1, 0);
	v.failing_since[1] = down;
	v.failure[1] = "polling levels: access refused: HTTP 401";
	CHECK_INT("store: not before alert_after", track(), 0);
	view(down + AFTER, 0);
	v.failing_since[1] = down;
	v.failure[1] = "polling levels: access refused: HTTP 401";
	n = track();
	CHECK_INT("store: told at alert_after", n, 1);
	CHECK_INT("store: a problem", out[0].resolved, 0);
	CHECK_INT("store: not a reminder", out[0].reminder, 0);
	CHECK_INT("store: its kind", out[0].kind, ALERT_STORE_FAILING);
	CHECK_STR("store: its store", out[0].store, "destination");
	CHECK("store: since the first failure", out[0].since == down);
	CHECK_STR("store: the message", out[0].message, "store destination "
	    "has been failing since 2025-12-02T10:06:50Z: polling levels: "
	    "access refused: HTTP 401");
	CHECK_STR("store: the README's fix for a 401", out[0].fix,
	    "wrong token, or a scope missing from the app: add it and "
	    "reinstall the app");
	/* every cycle for 59 minutes: nothing more */
	for (i = 1; i < 59 * 12; i++) {
		view(down + AFTER + i * 5000, 0);
		v.failing_since[1] = down;
		told += track();
	}
	CHECK_INT("store: one message per problem within the hour", told, 0);
	view(down + AFTER + 60 * MIN, 0);
	v.failing_since[1] = down;
	n = track();
	CHECK_INT("store: a reminder after an hour", n, 1);
	CHECK_INT("store: the reminder says so", out[0].reminder, 1);
	CHECK("store: the reminder starts 'still: '",
	    strncmp(out[0].message, "still: store destination", 24) == 0);
	CHECK("store: the reminder keeps the since", out[0].since == down);
	view(down + AFTER + 61 * MIN, 0);
	v.failing_since[1] = down;
	CHECK_INT("store: no second reminder a minute later", track(), 0);
	/* back up */
	view(down + AFTER + 62 * MIN, 0);
	n = track();
	CHECK_INT("store: resolved once", n, 1);
	CHECK_INT("store: resolved", out[0].resolved, 1);
	CHECK_STR("store: resolved message", out[0].message, "store "
	    "destination answers again (it failed from 2025-12-02T10:06:50Z)");
	CHECK_STR("store: a resolved message has no fix", out[0].fix, "");
	view(down + AFTER + 63 * MIN, 0);
	CHECK_INT("store: resolved only once", track(), 0);
}

static void
test_short_outage(void)
{
	alert_tracker_init(&tr, AFTER);
	view(T0, 0);
	(void)track();
	view(T0 + MIN, 0);
	v.failing_since[0] = T0 + 1;
	CHECK_INT("short outage: not told", track(), 0);
	view(T0 + 2 * MIN, 0);
	CHECK_INT("short outage: no resolved for an untold problem", track(),
	    0);
	/* a new outage starts its own clock */
	view(T0 + 3 * MIN, 0);
	v.failing_since[0] = T0 + 3 * MIN;
	CHECK_INT("short outage: a new one starts over", track(), 0);
	view(T0 + 3 * MIN + AFTER, 0);
	v.failing_since[0] = T0 + 3 * MIN;
	CHECK_INT("short outage: told alert_after after its own start",
	    track(), 1);
}

static void
test_pending_and_two_stores(void)
{
	size_t n;

	alert_tracker_init(&tr, AFTER);
	view(T0 + AFTER, 0);
	v.pending_since[0] = T0;
	v.failing_since[1] = T0;
	v.failure[1] = "polling levels: temporary failure: HTTP 503";
	n = track();
	CHECK_INT("two problems: two messages", n, 2);
	CHECK_INT("two problems: the pending batch", out[0].kind,
	    ALERT_WRITES_PENDING);
	CHECK_STR("two problems: ... of the source", out[0].store, "source");
	CHECK_INT("two problems: the failing store", out[1].kind,
	    ALERT_STORE_FAILING);
	CHECK_STR("two problems: ... is the destination", out[1].store,
	    "destination");
	CHECK_STR("a 503: the generic fix", out[1].fix, "the store or the "
	    "network is down or refusing: invsync status says why; invsync "
	    "retries with backoff");
	view(T0 + AFTER + 5000, 0);
	v.failing_since[1] = T0;
	n = track();
	CHECK_INT("pending settled: one resolved", n, 1);
	CHECK("pending settled: of the pending kind",
	    out[0].kind == ALERT_WRITES_PENDING && out[0].resolved);
}

static void
test_paused(void)
{
	size_t n;

	alert_tracker_init(&tr, AFTER);
	view(T0, 0);
	v.paused = 1;
	v.paused_why = "guard: 3 of 4 links changed by half their stock or "
	    "more in one cycle (more than 50%); check the stores, then run "
	    "'invsync resume'";
	n = track();
	CHECK_INT("paused: told at once", n, 1);
	CHECK_INT("paused: its kind", out[0].kind, ALERT_PAUSED);
	CHECK_STR("paused: no store", out[0].store, "");
	CHECK("paused: the guard's fix",
	    strstr(out[0].fix, "invsync resume") != NULL &&
	    strstr(out[0].fix, "import mistake") != NULL);
	CHECK("paused: the reason", strstr(out[0].message, "guard: 3 of 4")
	    != NULL);
	view(T0 + 5000, 0);
	v.paused = 1;
	CHECK_INT("paused: once", track(), 0);
	view(T0 + 10000, 0);
	n = track();
	CHECK_INT("resumed: resolved", n, 1);
	CHECK("resumed: since the pause", out[0].resolved &&
	    out[0].since == T0);
}

static void
test_uncertain(void)
{
	size_t n;

	alert_tracker_init(&tr, AFTER);
	view(T0, 4);
	CHECK_INT("uncertain: the first view is the baseline", track(), 0);
	view(T0 + 5000, 5);
	n = track();
	CHECK_INT("uncertain: told when the count grows", n, 1);
	CHECK_INT("uncertain: its kind", out[0].kind, ALERT_UNCERTAIN);
	CHECK_STR("uncertain: the message", out[0].message, "write batches "
	    "settled as uncertain since 2025-12-02T10:06:45Z: 5 in all");
	CHECK_STR("uncertain: the README's fix", out[0].fix, "a write's "
	    "outcome could not be proven after a network fault; invsync log "
	    "names the level to check");
	view(T0 + 10000, 7);
	CHECK_INT("uncertain: at most hourly", track(), 0);
	view(T0 + 20000, 7);
	CHECK_INT("uncertain: never resolved", track(), 0);
	view(T0 + 5000 + 60 * MIN, 7);
	n = track();
	CHECK_INT("uncertain: the growth told after the hour", n, 1);
	CHECK("uncertain: since the growth untold",
	    out[0].since == T0 + 10000 && !out[0].reminder);
	view(T0 + 5000 + 200 * MIN, 7);
	CHECK_INT("uncertain: no growth, nothing", track(), 0);
}

static void
test_cycle(void)
{
	size_t n;

	alert_tracker_init(&tr, AFTER);
	view(T0, 0);
	CHECK_INT("cycle: a quick one", track(), 0);
	view(T0 + 6 * MIN, 0);
	v.cycle_start = T0;
	v.cycle_ms = 6 * MIN;
	n = track();
	CHECK_INT("cycle: one longer than alert_after told", n, 1);
	CHECK_STR("cycle: the message", out[0].message, "a sync cycle took "
	    "6m00s, longer than alert_after (5m00s): none completed from "
	    "2025-12-02T10:06:40Z to 2025-12-02T10:12:40Z");
	view(T0 + 12 * MIN, 0);
	v.cycle_start = T0 + 6 * MIN;
	v.cycle_ms = 6 * MIN;
	CHECK_INT("cycle: another slow one, no second message", track(), 0);
	view(T0 + 13 * MIN, 0);
	n = track();
	CHECK_INT("cycle: a quick one resolves", n, 1);
	CHECK("cycle: resolved since the first slow one", out[0].resolved &&
	    out[0].since == T0);
}

static void
test_fixes(void)
{
	CHECK("fix: certificate", strstr(alert_store_fix("polling levels: "
	    "temporary failure: SSL certificate problem: certificate is "
	    "expired"), "timedatectl") != NULL);
	CHECK("fix: IP allowlist", strstr(alert_store_fix("HTTP 403: the "
	    "address is not in the app's IP allowlist"), "public address")
	    != NULL);
	CHECK("fix: token grant", strstr(alert_store_fix("access refused: "
	    "token request refused: app_not_installed"), "install the app")
	    != NULL);
	CHECK("fix: none known", strstr(alert_store_fix(NULL), "invsync "
	    "status") != NULL);
}

/* A problem message of store "destination" for the body goldens. */
static void
sample(struct alert_msg *m, int resolved)
{
	memset(m, 0, sizeof(*m));
	m->kind = ALERT_STORE_FAILING;
	m->resolved = resolved;
	snprintf(m->store, sizeof(m->store), "destination");
	m->since = T0;
	m->at = T0 + AFTER;
	snprintf(m->message, sizeof(m->message), "store destination has been "
	    "failing since 2025-12-02T10:06:40Z: \"<HTTP 503> & more\"");
	if (!resolved)
		snprintf(m->fix, sizeof(m->fix), "invsync status says why");
}

static void
test_bodies(void)
{
	struct alert_body b;
	struct alert_msg m;

	sample(&m, 0);
	alert_render(ALERT_FORMAT_JSON, &m, "pi-closet", &b);
	CHECK_STR("json: body", b.text, "{\"event\":\"problem\",\"problem\":"
	    "\"store_failing\",\"store\":\"destination\",\"since\":"
	    "\"2025-12-02T10:06:40Z\",\"message\":\"store destination has "
	    "been failing since 2025-12-02T10:06:40Z: \\\"<HTTP 503> & "
	    "more\\\"\",\"fix\":\"invsync status says why\",\"host\":"
	    "\"pi-closet\"}");
	CHECK_INT("json: length", b.len, strlen(b.text));
	CHECK_STR("json: content type", b.content_type, "application/json");
	CHECK_INT("json: no headers", b.nheader, 0);
	sample(&m, 1);
	m.kind = ALERT_PAUSED;
	m.store[0] = '\0';
	alert_render(ALERT_FORMAT_JSON, &m, "pi", &b);
	CHECK("json: resolved, store and fix null", strstr(b.text,
	    "{\"event\":\"resolved\",\"problem\":\"paused\",\"store\":null,")
	    == b.text && strstr(b.text, "\"fix\":null,\"host\":\"pi\"}") !=
	    NULL);

	sample(&m, 0);
	alert_render(ALERT_FORMAT_SLACK, &m, "pi-closet", &b);
	CHECK_STR("slack: body", b.text, "{\"text\":\":warning: *invsync on "
	    "pi-closet: problem store_failing in store destination*\\nstore "
	    "destination has been failing since 2025-12-02T10:06:40Z: "
	    "\\\"&lt;HTTP 503&gt; &amp; more\\\"\\nFix: invsync status says "
	    "why\"}");
	CHECK_STR("slack: content type", b.content_type, "application/json");
	sample(&m, 1);
	alert_render(ALERT_FORMAT_SLACK, &m, "pi", &b);
	CHECK("slack: resolved", strncmp(b.text, "{\"text\":\":white_check_"
	    "mark: *invsync on pi: resolved store_failing", 55) == 0 &&
	    strstr(b.text, "Fix:") == NULL);

	sample(&m, 0);
	alert_render(ALERT_FORMAT_NTFY, &m, "pi-closet\xc3\xa9", &b);
	CHECK_STR("ntfy: body", b.text, "store destination has been failing "
	    "since 2025-12-02T10:06:40Z: \"<HTTP 503> & more\"\nFix: invsync "
	    "status says why\n");
	CHECK_STR("ntfy: content type", b.content_type,
	    "text/plain; charset=utf-8");
	CHECK_INT("ntfy: three headers", b.nheader, 3);
	CHECK_STR("ntfy: Title, ASCII only", b.header[0], "Title: invsync on "
	    "pi-closet??: problem store_failing in store destination");
	CHECK_STR("ntfy: Tags", b.header[1], "Tags: warning,invsync");
	CHECK_STR("ntfy: Priority", b.header[2], "Priority: high");
	sample(&m, 1);
	alert_render(ALERT_FORMAT_NTFY, &m, "pi", &b);
	CHECK_STR("ntfy: resolved Tags", b.header[1],
	    "Tags: white_check_mark,invsync");
	CHECK_STR("ntfy: resolved Priority", b.header[2], "Priority: default");
	CHECK("ntfy: resolved, no fix", strstr(b.text, "Fix:") == NULL);
}

/* A message as long as it can be, its every byte escaped, still fits. */
static void
test_long(void)
{
	struct alert_body b;
	struct alert_msg m;

	sample(&m, 0);
	memset(m.message, '<', sizeof(m.message) - 1);
	m.message[sizeof(m.message) - 1] = '\0';
	memset(m.fix, '"', sizeof(m.fix) - 1);
	m.fix[sizeof(m.fix) - 1] = '\0';
	alert_render(ALERT_FORMAT_SLACK, &m, "h", &b);
	CHECK("long: slack body is whole JSON", b.len > 0 &&
	    b.text[b.len - 1] == '}' && b.len < sizeof(b.text));
	alert_render(ALERT_FORMAT_JSON, &m, "h", &b);
	CHECK("long: json body is whole", b.len > 0 &&
	    b.text[b.len - 1] == '}' && b.len < sizeof(b.text));
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_store_failing();
	test_short_outage();
	test_pending_and_two_stores();
	test_paused();
	test_uncertain();
	test_cycle();
	test_fixes();
	test_bodies();
	test_long();
	return check_exit();
}
