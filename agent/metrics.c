/*
 * metrics.c: owns the metrics file (metrics.h): the Prometheus text
 * exposition format 0.0.4 (one HELP and one TYPE line before each family's
 * samples, label values escaped), its atomic replacement beside
 * metrics_file, and the snapshot after a cycle: the engine's tallies
 * (run.h), the clients' API cost, and from the state the links by state,
 * the pause, uncertain batches, pending batches and the last good polls.
 *
 * Nothing here may stop or slow the sync: every failure is a warning
 * (once per distinct reason) and the cycle goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "meta.h"
#include "metrics.h"
#include "run.h"
#include "sync.h"
#include "util.h"

#define WHY_MAX		512
#define LINKS_EVERY_MS	60000	/* links recounted at least this often */

/* Seconds; the polls run every `interval` (5 s by default). */
const double metrics_latency_le[METRICS_LATENCY_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600
};

static const char *const result_names[METRICS_RESULTS] = {
	"ok", "failed", "throttled"
};

void
metrics_hist_observe(struct metrics_hist *h, double seconds)
{
	size_t k;

	if (!(seconds > 0))
		seconds = 0;	/* a clock step back; NaN */
	for (k = 0; k < METRICS_LATENCY_BUCKETS; k++)
		if (seconds <= metrics_latency_le[k])
			h->count[k]++;
	h->n++;
	h->sum += seconds;
}

/* ---- the exposition writer ----------------------------------------------- */

/* A growing text, always NUL-terminated. */
struct buf {
	char	*b;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->b = xreallocarray(b->b, cap, 1);
		b->cap = cap;
	}
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * Adds s escaped as the format asks: a backslash and a newline always, a
 * double quote too in a label value (quote 1).
 */
static void
buf_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_str(b, "\\\\");
		else if (*s == '\n')
			buf_str(b, "\\n");
		else if (*s == '"' && quote)
			buf_str(b, "\\\"");
		else
			buf_add(b, s, 1);
	}
}

/* The HELP and TYPE lines of family name. */
static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_str(b, "# HELP ");
	buf_str(b, name);
	buf_str(b, " ");
	buf_escaped(b, help, 0);
	buf_str(b, "\n# TYPE ");
	buf_str(b, name);
	buf_str(b, " ");
	buf_str(b, type);
	buf_str(b, "\n");
}

struct label {
	const char	*name;
	const char	*value;
};

/* One sample line: name{labels} value (value already formatted). */
static void
sample(struct buf *b, const char *name, const struct label *l, size_t nl,
    const char *value)
{
	size_t k;

	buf_str(b, name);
	for (k = 0; k < nl; k++) {
		buf_str(b, k == 0 ? "{" : ",");
		buf_str(b, l[k].name);
		buf_str(b, "=\"");
		buf_escaped(b, l[k].value, 1);
		buf_str(b, "\"");
	}
	buf_str(b, nl > 0 ? "} " : " ");
	buf_str(b, value);
	buf_str(b, "\n");
}

static const char *
fmt_u64(char *s, size_t sz, uint64_t v)
{
	snprintf(s, sz, "%" PRIu64, v);
	return s;
}

static const char *
fmt_i64(char *s, size_t sz, int64_t v)
{
	snprintf(s, sz, "%" PRId64, v);
	return s;
}

/* Seconds to the millisecond; the format's float, never NaN or Inf here. */
static const char *
fmt_sec(char *s, size_t sz, double v)
{
	snprintf(s, sz, "%.3f", v);
	return s;
}

/* ---- the families -------------------------------------------------------- */

static void
render_state(struct buf *b, const struct metrics_snap *m)
{
	struct label l = { "version", m->version };
	char v[32];

	family(b, "invsync_build_info", "gauge",
	    "The invsync version that wrote this file (always 1).");
	sample(b, "invsync_build_info", &l, 1, "1");
	family(b, "invsync_links", "gauge", "Linked levels by state: in_step "
	    "(every store agrees), waiting (writes owed), not_synced (fewer "
	    "than two stores can sync it).");
	l.name = "state";
	l.value = "in_step";
	sample(b, "invsync_links", &l, 1, fmt_u64(v, sizeof(v), m->in_step));
	l.value = "waiting";
	sample(b, "invsync_links", &l, 1, fmt_u64(v, sizeof(v), m->waiting));
	l.value = "not_synced";
	sample(b, "invsync_links", &l, 1, fmt_u64(v, sizeof(v),
	    m->not_synced));
	family(b, "invsync_paused", "gauge", "1 when writing is paused (the "
	    "absurd-change guard tripped, or invsync pause), else 0; "
	    "invsync resume ends it.");
	sample(b, "invsync_paused", NULL, 0, m->paused ? "1" : "0");
	family(b, "invsync_pending_batch_age_seconds", "gauge", "Age of the "
	    "oldest write batch not yet settled, 0 when none.");
	sample(b, "invsync_pending_batch_age_seconds", NULL, 0,
	    fmt_sec(v, sizeof(v), m->pending_age));
	family(b, "invsync_uncertain_writes_total", "counter", "Write batches "
	    "whose answer never came, settled as uncertain (see invsync log).");
	sample(b, "invsync_uncertain_writes_total", NULL, 0,
	    fmt_i64(v, sizeof(v), m->uncertain));
	family(b, "invsync_cycle_duration_seconds", "gauge",
	    "How long the last sync cycle took.");
	sample(b, "invsync_cycle_duration_seconds", NULL, 0,
	    fmt_sec(v, sizeof(v), m->cycle_seconds));
	family(b, "invsync_last_cycle_timestamp_seconds", "gauge",
	    "When the last sync cycle ended, as a Unix time.");
	sample(b, "invsync_last_cycle_timestamp_seconds", NULL, 0,
	    fmt_sec(v, sizeof(v), (double)m->cycle_end_ms / 1000));
}

/* A counter family of every store's results (polls or writes). */
static void
render_results(struct buf *b, const struct metrics_snap *m, const char *name,
    const char *help, int writes)
{
	struct label l[2] = { { "store", NULL }, { "result", NULL } };
	char v[32];
	size_t i, r;

	family(b, name, "counter", help);
	for (i = 0; i < m->nstores; i++)
		for (r = 0; r < METRICS_RESULTS; r++) {
			l[0].value = m->s[i].name;
			l[1].value = result_names[r];
			sample(b, name, l, 2, fmt_u64(v, sizeof(v), writes ?
			    m->s[i].writes[r] : m->s[i].polls[r]));
		}
}

static void
render_stores(struct buf *b, const struct metrics_snap *m)
{
	struct label l = { "store", NULL };
	char v[32];
	size_t i;

	render_results(b, m, "invsync_polls_total", "Level polls of a store "
	    "by result: ok, failed, throttled (failed after THROTTLED "
	    "answers).", 0);
	render_results(b, m, "invsync_writes_total", "Write batches sent to a "
	    "store by result: ok (applied), throttled (refused by the rate "
	    "limit, not run), failed (refused, stale, or no answer).", 1);
	family(b, "invsync_api_cost_points_total", "counter", "Shopify API "
	    "cost points spent on a store (actualQueryCost).");
	for (i = 0; i < m->nstores; i++) {
		l.value = m->s[i].name;
		sample(b, "invsync_api_cost_points_total", &l, 1,
		    fmt_i64(v, sizeof(v), m->s[i].cost));
	}
	family(b, "invsync_last_poll_success_timestamp_seconds", "gauge",
	    "When the last good level poll of a store started, as a Unix "
	    "time; 0 when never.");
	for (i = 0; i < m->nstores; i++) {
		l.value = m->s[i].name;
		sample(b, "invsync_last_poll_success_timestamp_seconds", &l, 1,
		    fmt_sec(v, sizeof(v), (double)m->s[i].last_poll_ms / 1000));
	}
}

/* Store i's latency histogram: _bucket (le ascending, +Inf), _sum, _count. */
static void
render_hist(struct buf *b, const struct metrics_store *s)
{
	static const struct metrics_hist none;
	const struct metrics_hist *h = s->latency ? s->latency : &none;
	struct label l[2] = { { "store", NULL }, { "le", NULL } };
	char v[32], le[32];
	size_t k;

	l[0].value = s->name;
	l[1].value = le;
	for (k = 0; k < METRICS_LATENCY_BUCKETS; k++) {
		snprintf(le, sizeof(le), "%g", metrics_latency_le[k]);
		sample(b, "invsync_propagation_latency_seconds_bucket", l, 2,
		    fmt_u64(v, sizeof(v), h->count[k]));
	}
	l[1].value = "+Inf";
	sample(b, "invsync_propagation_latency_seconds_bucket", l, 2,
	    fmt_u64(v, sizeof(v), h->n));
	sample(b, "invsync_propagation_latency_seconds_sum", l, 1,
	    fmt_sec(v, sizeof(v), h->sum));
	sample(b, "invsync_propagation_latency_seconds_count", l, 1,
	    fmt_u64(v, sizeof(v), h->n));
}

char *
metrics_render(const struct metrics_snap *m, size_t *len)
{
	struct buf b = { NULL, 0, 0 };
	size_t i;

	render_state(&b, m);
	render_stores(&b, m);
	family(&b, "invsync_propagation_latency_seconds", "histogram",
	    "Seconds from a change seen in one store to its write applied "
	    "in this one.");
	for (i = 0; i < m->nstores; i++)
		render_hist(&b, &m->s[i]);
	*len = b.len;
	return b.b;
}

/* ---- the file ------------------------------------------------------------ */

/* What a file of mode m is, when it is not a regular file. */
static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISFIFO(m))
		return "a FIFO";
	return "not a regular file";
}

int
metrics_write_file(const char *path, const char *text, size_t len,
    char *why, size_t whysz)
{
	char tmp[CONF_PATH_MAX + 8];
	const char *doing;
	struct stat sb;
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		snprintf(why, whysz, "%s: the path is too long", path);
		return -1;
	}
	/* a rename would replace whatever is there: /dev/null too */
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(why, whysz, "%s is %s, not a regular file: left alone",
		    path, file_kind(sb.st_mode));
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(why, whysz, "cannot create a file beside %s: %s", path,
		    strerror(errno));
		return -1;
	}
	doing = "cannot set the mode of";
	if (fchmod(fd, 0644) == -1)
		goto fail;
	doing = "cannot write";
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	doing = "cannot sync";
	if (fsync(fd) == -1)
		goto fail;
	doing = "cannot close";
	n = close(fd);
	fd = -1;
	if (n == -1)
		goto fail;
	doing = "cannot rename over it";
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	snprintf(why, whysz, "%s %s: %s", doing, tmp, strerror(saved));
	return -1;
}

/* ---- the snapshot after a cycle ----------------------------------------- */

struct collect {
	struct run		*e;
	struct metrics_snap	*m;
	struct pending		*p;	/* scratch */
	int64_t			 now;
	int			 count_links;	/* else the last counts */
};

/*
 * The links by state as last counted, and when (monotonic ms, 0: never).
 * Counting reads every link (15 to 33 ms at 100k links), so an idle cycle
 * reuses the last counts for up to LINKS_EVERY_MS: links change state with
 * the changes seen and written, which recount them at once, and otherwise
 * only with the catalog.
 */
static struct {
	int64_t	at;
	size_t	in_step, waiting, not_synced;
} links;

static int
count_link(const struct link *l, void *arg)
{
	struct metrics_snap *m = arg;

	switch (sync_link_state(l)) {
	case LINK_IN_STEP:
		m->in_step++;
		break;
	case LINK_WAITING:
		m->waiting++;
		break;
	case LINK_NOT_SYNCED:
		m->not_synced++;
		break;
	}
	return 0;
}

/* Reads what the state says into c->m.  0, or -1 (LMDB failed). */
static int
collect_txn(struct state_txn *t, void *arg)
{
	struct collect *c = arg;
	struct metrics_snap *m = c->m;
	char why[META_STR_MAX];
	double age;
	size_t i;
	int r;

	if ((r = meta_get_str(t, META_PAUSED, 0, why, sizeof(why))) == -1 ||
	    meta_get_i64(t, META_UNCERTAIN, 0, &m->uncertain) == -1)
		return -1;
	m->paused = r == 0;
	for (i = 0; i < m->nstores; i++) {
		if (meta_get_i64(t, META_POLL, i, &m->s[i].last_poll_ms) == -1 ||
		    (r = state_pending_get(t, (uint32_t)i, c->p)) == -1)
			return -1;
		age = (double)(c->now - c->p->created_ms) / 1000;
		if (r == 0 && age > m->pending_age)
			m->pending_age = age;
	}
	m->in_step = m->waiting = m->not_synced = 0;
	if (c->count_links)
		return state_link_each(t, count_link, m) == -1 ? -1 : 0;
	m->in_step = links.in_step;
	m->waiting = links.waiting;
	m->not_synced = links.not_synced;
	return 0;
}

/* Fills m from e and its state.  0, or -1 (LMDB failed, logged). */
static int
collect(struct run *e, struct metrics_snap *m, int64_t took_ms)
{
	struct collect c = { e, m, xmalloc(sizeof(struct pending)),
	    util_now_ms(), 0 };
	int64_t mono = util_mono_ms();
	size_t i;
	int r;

	m->version = INVSYNC_VERSION;
	m->cycle_seconds = (double)took_ms / 1000;
	m->cycle_end_ms = c.now;
	m->nstores = e->nstores;
	for (i = 0; i < e->nstores; i++) {
		const struct store_tally *t = &e->s[i].tally;

		m->s[i].name = e->c->stores[i].name;
		memcpy(m->s[i].polls, t->polls, sizeof(t->polls));
		memcpy(m->s[i].writes, t->writes, sizeof(t->writes));
		m->s[i].cost = client_stats(e->s[i].cl)->cost_actual;
		m->s[i].latency = &t->latency;
	}
	c.count_links = links.at == 0 || e->changed > 0 || e->written > 0 ||
	    mono - links.at >= LINKS_EVERY_MS;
	r = state_view(e->st, collect_txn, &c);
	free(c.p);
	if (r != 0)
		return -1;
	if (c.count_links) {
		links.at = mono > 0 ? mono : 1;
		links.in_step = m->in_step;
		links.waiting = m->waiting;
		links.not_synced = m->not_synced;
	}
	return 0;
}

/* The last reason metrics_write() failed, said once; "" after a success. */
static char last_why[WHY_MAX];

void
metrics_write(struct run *e, int64_t took_ms)
{
	const char *path = e->c->metrics_file;
	struct metrics_snap *m;
	char why[WHY_MAX], *text;
	size_t len;
	int r;

	if (path[0] == '\0' || e->dry_run)
		return;
	m = xcalloc(1, sizeof(*m));
	if ((r = collect(e, m, took_ms)) == -1)
		snprintf(why, sizeof(why), "the state could not be read");
	else {
		text = metrics_render(m, &len);
		r = metrics_write_file(path, text, len, why, sizeof(why));
		free(text);
	}
	free(m);
	if (r == 0) {
		if (last_why[0] != '\0')
			log_notice("metrics_file %s: written again", path);
		last_why[0] = '\0';
	} else if (strcmp(why, last_why) != 0) {
		log_warn("metrics_file %s not written: %s; syncing goes on "
		    "(said once until the reason changes)", path, why);
		snprintf(last_why, sizeof(last_why), "%s", why);
	}
}
