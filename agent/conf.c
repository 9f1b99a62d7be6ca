/*
 * conf.c: owns the configuration file of docs/design.md §2: reading it, parsing its
 * INI into struct conf with every error collected as "FILE:LINE: message",
 * checking the secret files it names, and printing it back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

#define CONF_LINE_MAX	4096		/* bytes in one line, without '\n' */
#define CONF_FILE_MAX	(1024 * 1024)	/* bytes in the whole file */
#define CONF_QUOTE_MAX	80		/* untrusted text quoted in a message */
#define CONF_KEY_MAX	32		/* longest key we try to spell-check */

#define MS_SECOND	1000LL
#define MS_MINUTE	(60 * MS_SECOND)
#define MS_HOUR		(60 * MS_MINUTE)

/* Sanitises untrusted s into the char array b for quoting in a message. */
#define QUOTE(b, s)	log_safe((b), sizeof(b), (s), strlen(s))

enum section {
	SEC_NONE,		/* before the first header */
	SEC_SYNC,
	SEC_STORE,
	SEC_LOCATIONS,
	SEC_BAD			/* unknown or rejected: its lines are skipped */
};

enum sync_key {
	SK_INTERVAL, SK_STATE_DIR, SK_MATCH, SK_INITIAL, SK_DIRECTION,
	SK_API_VERSION, SK_CA_FILE, SK_OVERLAP, SK_RECONCILE, SK_CATALOG,
	SK_TIMEOUT,
	SK_GUARD, SK_BULK_THRESHOLD, SK_BULK_RETRY, SK_METRICS_FILE,
	SK_ALERT_URL, SK_ALERT_AFTER, SK_ALERT_FORMAT, SK_PING_URL,
	SK_PING_EVERY, SK_COUNT
};

enum store_key {
	ST_SHOP, ST_TOKEN_FILE, ST_CLIENT_ID, ST_CLIENT_SECRET_FILE, ST_URL,
	ST_BUFFER, ST_COUNT
};

struct parser {
	struct conf		*c;
	struct conf_errors	*e;
	char			 qpath[CONF_PATH_MAX];	/* path for messages */
	char			 dir[CONF_PATH_MAX];	/* "" = no directory */
	int			 errline[CONF_MAX_ERRORS];
	int			 lineno;
	enum section		 sec;
	struct store_conf	*st;			/* in SEC_STORE */
	int			 seen_store;		/* any [store ...] */
	int			 sync_line;
	int			 locations_line;
	int			 synckey[SK_COUNT];	/* line set, 0 = not */
	int			 syncbad[SK_COUNT];	/* value rejected */
	int			 storekey[CONF_MAX_STORES][ST_COUNT];
	size_t			 locnames[CONF_MAX_LOCLINKS]; /* names given */
};

typedef void (*key_fn)(struct parser *, int, const char *);

static int	url_host_ok(const char *, const char *);
static int	url_port_ok(const char *, const char *);

struct key_def {
	const char	*name;
	key_fn		 fn;
};

/* Writes "PATH:LINE: msg" into dst (CONF_ERR_MAX), truncating msg. */
static void
append_msg(char *dst, const char *qpath, int line, const char *msg)
{
	size_t n, len = strlen(msg);
	int w;

	w = snprintf(dst, CONF_ERR_MAX, "%.*s:%d: ", CONF_ERR_MAX / 2, qpath,
	    line);
	n = (w < 0) ? 0 : (size_t)w;
	if (len > CONF_ERR_MAX - 1 - n)
		len = CONF_ERR_MAX - 1 - n;
	memcpy(dst + n, msg, len);
	dst[n + len] = '\0';
}

/*
 * Records one error at line into p->e, keeping the CONF_MAX_ERRORS lowest
 * lines in line order (errors found at the end of the file may belong to
 * earlier lines).  Counts every error in total.
 */
static void __attribute__((format(printf, 3, 4)))
conf_err(struct parser *p, int line, const char *fmt, ...)
{
	struct conf_errors *e = p->e;
	char msg[CONF_ERR_MAX];
	size_t i, n = e->n;
	va_list ap;

	e->total++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = n; i > 0 && p->errline[i - 1] > line; i--)
		continue;
	if (n == CONF_MAX_ERRORS) {
		if (i == n)
			return;
		n--;
	}
	memmove(e->msg[i + 1], e->msg[i], (n - i) * sizeof(e->msg[0]));
	memmove(&p->errline[i + 1], &p->errline[i],
	    (n - i) * sizeof(p->errline[0]));
	append_msg(e->msg[i], p->qpath, line, msg);
	p->errline[i] = line;
	e->n = n + 1;
}

/* Sets every field of c to its default. */
static void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ms = 5 * MS_SECOND;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", "/var/lib/invsync");
	c->match = MATCH_HANDLE;
	c->initial = INITIAL_PRIMARY;
	c->direction = DIRECTION_TWO_WAY;
	snprintf(c->api_version, sizeof(c->api_version), "%s", "2026-07");
	c->overlap_ms = 60 * MS_SECOND;
	c->reconcile_ms = 15 * MS_MINUTE;
	c->catalog_ms = 1 * MS_MINUTE;
	c->timeout_ms = 30 * MS_SECOND;
	c->guard_percent = 50;
	c->bulk_threshold = CONF_BULK_THRESHOLD;
	c->bulk_retry_ms = 24 * MS_HOUR;
	c->alert_after_ms = 5 * MS_MINUTE;
	c->alert_format = ALERT_FORMAT_JSON;
	c->ping_every_ms = 1 * MS_MINUTE;
}

/* Copies src into dst of size sz.  Returns 0, or -1 when it does not fit. */
static int
copy_str(char *dst, size_t sz, const char *src)
{
	size_t n = strlen(src);

	if (n >= sz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Returns 1 when c is a space or a tab. */
static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Returns 1 when c is an ASCII letter or digit. */
static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Returns 1 when c is an ASCII digit. */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Strips blanks from both ends of s in place; returns the new start. */
static char *
trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Returns 1 when s contains a space or a tab. */
static int
has_blank(const char *s)
{
	return strpbrk(s, " \t") != NULL;
}

/*
 * Cuts a comment off line s in place: '#' starts one at the start of the
 * line or after a blank, so "https://h/#x" keeps its '#'.
 */
static void
strip_comment(char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '#' && (i == 0 || is_blank(s[i - 1]))) {
			s[i] = '\0';
			return;
		}
	}
}

/*
 * Parses a duration: decimal digits then one unit of ms, s, m or h.
 * Returns 0 with *ms set, or -1 on anything else.
 */
int
conf_parse_duration(const char *s, int64_t *ms)
{
	int64_t v = 0, unit;
	const char *u = s;

	if (!is_digit(*u))
		return -1;
	for (; is_digit(*u); u++) {
		if (v > (INT64_MAX - (*u - '0')) / 10)
			return -1;
		v = v * 10 + (*u - '0');
	}
	if (strcmp(u, "ms") == 0)
		unit = 1;
	else if (strcmp(u, "s") == 0)
		unit = MS_SECOND;
	else if (strcmp(u, "m") == 0)
		unit = MS_MINUTE;
	else if (strcmp(u, "h") == 0)
		unit = MS_HOUR;
	else
		return -1;
	if (v > INT64_MAX / unit)
		return -1;
	*ms = v * unit;
	return 0;
}

/* Writes ms into buf in the largest unit that shows it exactly: 5s, 1m. */
static void
fmt_duration(int64_t ms, char *buf, size_t sz)
{
	if (ms != 0 && ms % MS_HOUR == 0)
		snprintf(buf, sz, "%lldh", (long long)(ms / MS_HOUR));
	else if (ms != 0 && ms % MS_MINUTE == 0)
		snprintf(buf, sz, "%lldm", (long long)(ms / MS_MINUTE));
	else if (ms % MS_SECOND == 0)
		snprintf(buf, sz, "%llds", (long long)(ms / MS_SECOND));
	else
		snprintf(buf, sz, "%lldms", (long long)ms);
}

/*
 * Parses the duration val of key into *dst when it lies in [min, max].
 * Reports an error and returns -1 otherwise.
 */
static int
set_duration(struct parser *p, const char *key, const char *val,
    int64_t min, int64_t max, int64_t *dst)
{
	char q[CONF_QUOTE_MAX], lo[32], hi[32];
	int64_t ms;

	if (conf_parse_duration(val, &ms) == -1) {
		conf_err(p, p->lineno, "%s must be a duration such as 500ms, "
		    "2s, 1m or 1h, not '%s'", key, QUOTE(q, val));
		return -1;
	}
	if (ms < min || ms > max) {
		fmt_duration(min, lo, sizeof(lo));
		fmt_duration(max, hi, sizeof(hi));
		conf_err(p, p->lineno, "%s must be between %s and %s, not '%s'",
		    key, lo, hi, QUOTE(q, val));
		return -1;
	}
	*dst = ms;
	return 0;
}

/*
 * Looks val up in the n names; sets *dst to its index.  Reports an error
 * that lists the names and returns -1 when it is none of them.
 */
static int
set_enum(struct parser *p, const char *key, const char *val,
    const char *const *names, int n, int *dst)
{
	char q[CONF_QUOTE_MAX], list[128] = "";
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(val, names[i]) == 0) {
			*dst = i;
			return 0;
		}
	}
	for (i = 0; i < n; i++) {
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s",
		    i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
	}
	conf_err(p, p->lineno, "%s must be %s, not '%s'", key, list,
	    QUOTE(q, val));
	return -1;
}

/*
 * Copies the absolute path val of key into dst.  Reports an error and
 * returns -1 when it is relative, holds blanks or is too long.
 */
static int
set_abs_path(struct parser *p, const char *key, const char *val, char *dst)
{
	char q[CONF_QUOTE_MAX];

	if (val[0] != '/') {
		conf_err(p, p->lineno, "%s must be an absolute path "
		    "(starting with /), not '%s'", key, QUOTE(q, val));
		return -1;
	}
	if (has_blank(val)) {
		conf_err(p, p->lineno, "%s must be one path without blanks, "
		    "not '%s'", key, QUOTE(q, val));
		return -1;
	}
	if (copy_str(dst, CONF_PATH_MAX, val) == -1) {
		conf_err(p, p->lineno, "%s is longer than %d bytes", key,
		    CONF_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

/* interval: the poll period, 100ms..1h. */
static void
key_interval(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "interval", val, 100, MS_HOUR,
	    &p->c->interval_ms) == -1)
		p->syncbad[k] = 1;
}

/* overlap: how far each poll reaches back, 0s..1h. */
static void
key_overlap(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "overlap", val, 0, MS_HOUR,
	    &p->c->overlap_ms) == -1)
		p->syncbad[k] = 1;
}

/* reconcile: the full comparison period, 1s..24h (>= interval: at the end). */
static void
key_reconcile(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "reconcile", val, MS_SECOND, 24 * MS_HOUR,
	    &p->c->reconcile_ms) == -1)
		p->syncbad[k] = 1;
}

/*
 * bulk_retry: how long a store that refused bulk operations (no access,
 * or operations that would not start or finish) is read in pages before
 * bulk operations are tried again, 1s..7d.
 */
static void
key_bulk_retry(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "bulk_retry", val, MS_SECOND, 7 * 24 * MS_HOUR,
	    &p->c->bulk_retry_ms) == -1)
		p->syncbad[k] = 1;
}

/* catalog_refresh: the product catalog re-read period, 10s..24h. */
static void
key_catalog(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "catalog_refresh", val, 10 * MS_SECOND,
	    24 * MS_HOUR, &p->c->catalog_ms) == -1)
		p->syncbad[k] = 1;
}

/* timeout: the longest one request to a store may take, 1s..5m. */
static void
key_timeout(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "timeout", val, MS_SECOND, 5 * MS_MINUTE,
	    &p->c->timeout_ms) == -1)
		p->syncbad[k] = 1;
}

/* state_dir: an absolute path. */
static void
key_state_dir(struct parser *p, int k, const char *val)
{
	if (set_abs_path(p, "state_dir", val, p->c->state_dir) == -1)
		p->syncbad[k] = 1;
}

/*
 * metrics_file: an absolute path naming a file, not a directory (its
 * directory is only tried when the file is written: a failure then is a
 * warning, never a reason not to sync).
 */
static void
key_metrics_file(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	const char *base = strrchr(val, '/');

	if (set_abs_path(p, "metrics_file", val, p->c->metrics_file) == -1) {
		p->syncbad[k] = 1;
		return;
	}
	base = base == NULL ? val : base + 1;
	if (*base != '\0' && strcmp(base, ".") != 0 && strcmp(base, "..") != 0)
		return;
	conf_err(p, p->lineno, "metrics_file must name a file, not the "
	    "directory '%s'", QUOTE(q, val));
	p->c->metrics_file[0] = '\0';
	p->syncbad[k] = 1;
}

/* The loopback hosts plain http may go to (the agent's own machine). */
static const char *const loopback_hosts[] = {
	"localhost", "127.0.0.1", "[::1]", NULL
};

const char *
conf_notify_url_problem(const char *u)
{
	const char *h, *end, *colon, *s;
	size_t i, n;
	int plain;

	if (strncmp(u, "https://", 8) == 0)
		plain = 0, h = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		plain = 1, h = u + 7;
	else
		return "only https is allowed (or http to localhost)";
	for (s = u; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("\"<>\\^`{|}", *s) != NULL)
			return "a blank, control, non-ASCII or unsafe character";
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return "no user name allowed";
	if (strchr(u, '#') != NULL)
		return "no fragment allowed";
	colon = (*h == '[') ? memchr(h, ']', (size_t)(end - h)) : h;
	colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
	if (!url_host_ok(h, colon ? colon : end))
		return "bad host";
	if (colon && !url_port_ok(colon + 1, end))
		return "bad port";
	if (!plain)
		return NULL;
	n = (size_t)((colon ? colon : end) - h);
	for (i = 0; loopback_hosts[i] != NULL; i++)
		if (strlen(loopback_hosts[i]) == n &&
		    strncasecmp(h, loopback_hosts[i], n) == 0)
			return NULL;
	return "http only to localhost, 127.0.0.1 or [::1]; use https";
}

char *
conf_url_origin(const char *u, char *buf, size_t bufsz)
{
	const char *h = strstr(u, "://");
	size_t n;

	h = h == NULL ? u : h + 3;
	n = (size_t)(h - u) + strcspn(h, "/?#");
	log_safe(buf, bufsz, u, n);
	return buf;
}

/* alert_url, ping_url: conf_notify_url_problem() says what is allowed. */
static void
set_notify_url(struct parser *p, int k, const char *key, const char *val,
    char *dst)
{
	char o[CONF_QUOTE_MAX];
	const char *why;

	if ((why = conf_notify_url_problem(val)) != NULL)
		conf_err(p, p->lineno, "%s must be https://HOST[:PORT][/PATH]"
		    "[?QUERY] (or http:// to localhost), not '%s...' (%s)",
		    key, conf_url_origin(val, o, sizeof(o)), why);
	else if (copy_str(dst, CONF_PATH_MAX, val) == -1)
		conf_err(p, p->lineno, "%s is longer than %d bytes", key,
		    CONF_PATH_MAX - 1);
	else
		return;
	p->syncbad[k] = 1;
}

static void
key_alert_url(struct parser *p, int k, const char *val)
{
	set_notify_url(p, k, "alert_url", val, p->c->alert_url);
}

static void
key_ping_url(struct parser *p, int k, const char *val)
{
	set_notify_url(p, k, "ping_url", val, p->c->ping_url);
}

/* alert_after: how long a problem lasts before it is told, 1s..24h. */
static void
key_alert_after(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "alert_after", val, MS_SECOND, 24 * MS_HOUR,
	    &p->c->alert_after_ms) == -1)
		p->syncbad[k] = 1;
}

/* ping_every: the shortest time between two pings, 1s..1h. */
static void
key_ping_every(struct parser *p, int k, const char *val)
{
	if (set_duration(p, "ping_every", val, MS_SECOND, MS_HOUR,
	    &p->c->ping_every_ms) == -1)
		p->syncbad[k] = 1;
}

/* alert_format: json, slack or ntfy. */
static void
key_alert_format(struct parser *p, int k, const char *val)
{
	static const char *const names[] = { "json", "slack", "ntfy" };
	int v;

	if (set_enum(p, "alert_format", val, names, 3, &v) == -1)
		p->syncbad[k] = 1;
	else
		p->c->alert_format = (enum alert_format)v;
}

/* match: handle, sku or barcode. */
static void
key_match(struct parser *p, int k, const char *val)
{
	static const char *const names[] = { "handle", "sku", "barcode" };
	int v;

	if (set_enum(p, "match", val, names, 3, &v) == -1)
		p->syncbad[k] = 1;
	else
		p->c->match = (enum match_key)v;
}

/* initial: primary, keep or min. */
static void
key_initial(struct parser *p, int k, const char *val)
{
	static const char *const names[] = { "primary", "keep", "min" };
	int v;

	if (set_enum(p, "initial", val, names, 3, &v) == -1)
		p->syncbad[k] = 1;
	else
		p->c->initial = (enum initial_policy)v;
}

/* direction: two-way or one-way. */
static void
key_direction(struct parser *p, int k, const char *val)
{
	static const char *const names[] = { "two-way", "one-way" };
	int v;

	if (set_enum(p, "direction", val, names, 2, &v) == -1)
		p->syncbad[k] = 1;
	else
		p->c->direction = (enum direction)v;
}

/* api_version: YYYY-MM with a month 01..12. */
static void
key_api_version(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	int month;

	if (strlen(val) == 7 && is_digit(val[0]) && is_digit(val[1]) &&
	    is_digit(val[2]) && is_digit(val[3]) && val[4] == '-' &&
	    is_digit(val[5]) && is_digit(val[6])) {
		month = (val[5] - '0') * 10 + (val[6] - '0');
		if (month >= 1 && month <= 12) {
			memcpy(p->c->api_version, val, 8);
			return;
		}
	}
	conf_err(p, p->lineno, "api_version must be YYYY-MM such as 2026-07, "
	    "not '%s'", QUOTE(q, val));
	p->syncbad[k] = 1;
}

/* ca_file: an absolute path to a readable regular file. */
static void
key_ca_file(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	struct stat sb;

	if (set_abs_path(p, "ca_file", val, p->c->ca_file) == -1) {
		p->syncbad[k] = 1;
		return;
	}
	QUOTE(q, val);
	if (stat(val, &sb) == -1 || access(val, R_OK) == -1)
		conf_err(p, p->lineno, "ca_file %s: %s", q, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		conf_err(p, p->lineno, "ca_file %s is not a regular file", q);
	else
		return;
	p->syncbad[k] = 1;
}

/* guard: a whole percent 0..100, an optional '%' after it; 0 disables. */
static void
key_guard(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	const char *s = val;
	int v = 0;

	while (is_digit(*s) && v <= 100)
		v = v * 10 + (*s++ - '0');
	if (s > val && s - val <= 3 && v <= 100 &&
	    (*s == '\0' || strcmp(s, "%") == 0)) {
		p->c->guard_percent = v;
		return;
	}
	conf_err(p, p->lineno, "guard must be a whole percent from 0 to 100 "
	    "(0 disables), not '%s'", QUOTE(q, val));
	p->syncbad[k] = 1;
}

/*
 * bulk_threshold: a whole number of variants 0..CONF_BULK_MAX; a store with
 * at least this many reads its full catalog and first levels with bulk
 * operations; 0 never does.
 */
static void
key_bulk_threshold(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	const char *s = val;
	long v = 0;

	while (is_digit(*s) && v <= CONF_BULK_MAX)
		v = v * 10 + (*s++ - '0');
	if (s > val && *s == '\0' && v <= CONF_BULK_MAX) {
		p->c->bulk_threshold = v;
		return;
	}
	conf_err(p, p->lineno, "bulk_threshold must be a whole number of "
	    "variants from 0 to %d (0 never uses bulk operations), not '%s'",
	    CONF_BULK_MAX, QUOTE(q, val));
	p->syncbad[k] = 1;
}

static const struct key_def sync_keys[SK_COUNT] = {
	[SK_INTERVAL] = { "interval", key_interval },
	[SK_STATE_DIR] = { "state_dir", key_state_dir },
	[SK_MATCH] = { "match", key_match },
	[SK_INITIAL] = { "initial", key_initial },
	[SK_DIRECTION] = { "direction", key_direction },
	[SK_API_VERSION] = { "api_version", key_api_version },
	[SK_CA_FILE] = { "ca_file", key_ca_file },
	[SK_OVERLAP] = { "overlap", key_overlap },
	[SK_RECONCILE] = { "reconcile", key_reconcile },
	[SK_CATALOG] = { "catalog_refresh", key_catalog },
	[SK_TIMEOUT] = { "timeout", key_timeout },
	[SK_GUARD] = { "guard", key_guard },
	[SK_BULK_THRESHOLD] = { "bulk_threshold", key_bulk_threshold },
	[SK_BULK_RETRY] = { "bulk_retry", key_bulk_retry },
	[SK_METRICS_FILE] = { "metrics_file", key_metrics_file },
	[SK_ALERT_URL] = { "alert_url", key_alert_url },
	[SK_ALERT_AFTER] = { "alert_after", key_alert_after },
	[SK_ALERT_FORMAT] = { "alert_format", key_alert_format },
	[SK_PING_URL] = { "ping_url", key_ping_url },
	[SK_PING_EVERY] = { "ping_every", key_ping_every },
};

/* shop: NAME.myshopify.com, NAME of lowercase letters, digits, hyphens. */
static void
key_shop(struct parser *p, int k, const char *val)
{
	static const char suffix[] = ".myshopify.com";
	char q[CONF_QUOTE_MAX];
	size_t i, n = strlen(val), sl = sizeof(suffix) - 1;
	int ok;

	(void)k;
	ok = n > sl && n - sl <= 63 && strcmp(val + n - sl, suffix) == 0 &&
	    val[0] != '-' && val[n - sl - 1] != '-';
	for (i = 0; ok && i < n - sl; i++)
		ok = (val[i] >= 'a' && val[i] <= 'z') || is_digit(val[i]) ||
		    val[i] == '-';
	if (!ok) {
		conf_err(p, p->lineno, "shop must be a NAME.myshopify.com host "
		    "(NAME of lowercase letters, digits and hyphens), not '%s'",
		    QUOTE(q, val));
		return;
	}
	memcpy(p->st->shop, val, n + 1);
}

/*
 * Writes into out the complaint about a secret file whose mode gives
 * group or other any access, naming the file (what: "token_file " or "").
 */
static void
perm_complaint(char *out, size_t sz, const char *what, const char *qpath,
    mode_t mode)
{
	snprintf(out, sz, "%s%s is %s by group or others (mode %04o); "
	    "run: chmod 600 %s", what, qpath,
	    (mode & 044) ? "readable" : "accessible", (unsigned)(mode & 07777),
	    qpath);
}

/*
 * 1 when path lies in $CREDENTIALS_DIRECTORY: systemd keeps that directory
 * private to the service (and may give its files ACL-derived group bits),
 * so the group/other check does not apply there.
 */
static int
in_credentials(const char *path)
{
	const char *cred = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (cred == NULL || cred[0] != '/')
		return 0;
	n = strlen(cred);
	while (n > 1 && cred[n - 1] == '/')
		n--;
	return strncmp(path, cred, n) == 0 && path[n] == '/' &&
	    strchr(path + n + 1, '/') == NULL;
}

/*
 * Resolves the secret file name val into dst (CONF_PATH_MAX): a bare name
 * in $CREDENTIALS_DIRECTORY when set, else a relative name against the
 * config file's directory.  Returns 0, or -1 when the result is too long.
 */
static int
resolve_secret(struct parser *p, const char *val, char *dst)
{
	const char *cred = getenv("CREDENTIALS_DIRECTORY");
	int n;

	if (cred != NULL && *cred != '\0' && strchr(val, '/') == NULL)
		n = snprintf(dst, CONF_PATH_MAX, "%s%s%s", cred,
		    cred[strlen(cred) - 1] == '/' ? "" : "/", val);
	else if (val[0] != '/' && p->dir[0] != '\0')
		n = snprintf(dst, CONF_PATH_MAX, "%s%s", p->dir, val);
	else
		n = snprintf(dst, CONF_PATH_MAX, "%s", val);
	return (n < 0 || n >= CONF_PATH_MAX) ? -1 : 0;
}

/*
 * key (token_file or client_secret_file): resolves val into dst and checks
 * that it is a regular file we can open that group and other cannot touch.
 */
static void
set_secret(struct parser *p, const char *key, const char *val, char *dst)
{
	char q[CONF_QUOTE_MAX], msg[CONF_ERR_MAX], what[32];
	struct stat sb;
	int fd;

	if (has_blank(val)) {
		conf_err(p, p->lineno, "%s must be one path without blanks, "
		    "not '%s'", key, QUOTE(q, val));
		return;
	}
	if (resolve_secret(p, val, dst) == -1) {
		conf_err(p, p->lineno, "%s is longer than %d bytes", key,
		    CONF_PATH_MAX - 1);
		return;
	}
	QUOTE(q, dst);
	if (stat(dst, &sb) == -1) {
		conf_err(p, p->lineno, "%s %s: %s", key, q, strerror(errno));
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		conf_err(p, p->lineno, "%s %s is not a regular file", key, q);
		return;
	}
	if ((sb.st_mode & 077) && !in_credentials(dst)) {
		snprintf(what, sizeof(what), "%s ", key);
		perm_complaint(msg, sizeof(msg), what, q, sb.st_mode);
		conf_err(p, p->lineno, "%s", msg);
		return;
	}
	if ((fd = open(dst, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		conf_err(p, p->lineno, "%s %s: %s", key, q, strerror(errno));
		return;
	}
	close(fd);
}

/* token_file: see set_secret(). */
static void
key_token_file(struct parser *p, int k, const char *val)
{
	(void)k;
	set_secret(p, "token_file", val, p->st->token_file);
}

/* client_secret_file: see set_secret(). */
static void
key_client_secret_file(struct parser *p, int k, const char *val)
{
	(void)k;
	set_secret(p, "client_secret_file", val, p->st->client_secret_file);
}

/* client_id: one word of printable ASCII. */
static void
key_client_id(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	const unsigned char *s;

	(void)k;
	for (s = (const unsigned char *)val; *s > 0x20 && *s < 0x7f; s++)
		continue;
	if (*s != '\0' || copy_str(p->st->client_id, CONF_STR_MAX, val) == -1)
		conf_err(p, p->lineno, "client_id must be one word of at most "
		    "%d printable ASCII characters, not '%s'", CONF_STR_MAX - 1,
		    QUOTE(q, val));
}

/* Returns 1 when s..end is a host name or a bracketed IPv6 literal. */
static int
url_host_ok(const char *s, const char *end)
{
	const char *ok = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";

	if (s == end)
		return 0;
	if (*s == '[') {
		if (end - s < 3 || end[-1] != ']')
			return 0;
		ok = "0123456789abcdefABCDEF:.";
		s++, end--;
	}
	for (; s < end; s++)
		if (strchr(ok, *s) == NULL)
			return 0;
	return 1;
}

/* Returns 1 when s..end is a port number 1..65535. */
static int
url_port_ok(const char *s, const char *end)
{
	long v = 0;

	if (s == end || end - s > 5)
		return 0;
	for (; s < end; s++) {
		if (!is_digit(*s))
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * Checks u as https://HOST[:PORT][/PATH] and drops trailing slashes of the
 * path in place.  Returns NULL, or why it is refused.
 */
static const char *
url_problem(char *u)
{
	char *h, *end, *colon;
	size_t n;

	if (strncmp(u, "https://", 8) != 0)
		return "only https is allowed";
	h = u + 8;
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL)
		return "no user name allowed";
	if (strchr(u, '?') != NULL)
		return "no query allowed";
	if (strchr(u, '#') != NULL)
		return "no fragment allowed";
	colon = (*h == '[') ? memchr(h, ']', (size_t)(end - h)) : h;
	colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
	if (!url_host_ok(h, colon ? colon : end))
		return "bad host";
	if (colon && !url_port_ok(colon + 1, end))
		return "bad port";
	if (end[strspn(end, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~%")] != '\0')
		return "bad character in path";
	n = strlen(u);
	while (u + n > end && u[n - 1] == '/')
		u[--n] = '\0';
	return NULL;
}

/* url: an optional https endpoint override. */
static void
key_url(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX], u[CONF_PATH_MAX];
	const char *why;

	(void)k;
	if (copy_str(u, sizeof(u), val) == -1) {
		conf_err(p, p->lineno, "url is longer than %d bytes",
		    CONF_PATH_MAX - 1);
		return;
	}
	if ((why = url_problem(u)) != NULL) {
		conf_err(p, p->lineno, "url must be "
		    "https://HOST[:PORT][/PATH], not '%s' (%s)", QUOTE(q, val),
		    why);
		return;
	}
	memcpy(p->st->url, u, strlen(u) + 1);
}

/* buffer: whole units 0..CONF_BUFFER_MAX held back from the store. */
static void
key_buffer(struct parser *p, int k, const char *val)
{
	char q[CONF_QUOTE_MAX];
	const char *s = val;
	int64_t v = 0;

	(void)k;
	while (is_digit(*s) && v <= CONF_BUFFER_MAX)
		v = v * 10 + (*s++ - '0');
	if (s > val && *s == '\0' && v <= CONF_BUFFER_MAX) {
		p->st->buffer = v;
		return;
	}
	conf_err(p, p->lineno, "buffer must be a whole number of units from 0 "
	    "to %d, not '%s'", CONF_BUFFER_MAX, QUOTE(q, val));
}

static const struct key_def store_keys[ST_COUNT] = {
	[ST_SHOP] = { "shop", key_shop },
	[ST_TOKEN_FILE] = { "token_file", key_token_file },
	[ST_CLIENT_ID] = { "client_id", key_client_id },
	[ST_CLIENT_SECRET_FILE] = { "client_secret_file",
	    key_client_secret_file },
	[ST_URL] = { "url", key_url },
	[ST_BUFFER] = { "buffer", key_buffer },
};

/* Returns the edit distance of a and b, or a large number when long. */
static int
edit_distance(const char *a, const char *b)
{
	int row[CONF_KEY_MAX + 1], i, j, diag, up, best;
	int na = (int)strlen(a), nb = (int)strlen(b);

	if (na > CONF_KEY_MAX || nb > CONF_KEY_MAX)
		return CONF_KEY_MAX;
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= nb; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

/*
 * Reports the unknown key in section sect (text such as "[sync]"):
 * suggests a close known key, else lists them all.
 */
static void
unknown_key(struct parser *p, const char *key, const char *sect,
    const struct key_def *defs, int n)
{
	char q[CONF_QUOTE_MAX], list[256] = "";
	size_t len;
	int i, d, best = -1, bestd = 3;

	for (i = 0; i < n; i++) {
		if ((d = edit_distance(key, defs[i].name)) < bestd)
			best = i, bestd = d;
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s",
		    i ? ", " : "", defs[i].name);
	}
	if (best >= 0)
		conf_err(p, p->lineno, "unknown key '%s' in %s; did you mean "
		    "'%s'?", QUOTE(q, key), sect, defs[best].name);
	else
		conf_err(p, p->lineno, "unknown key '%s' in %s; allowed: %s",
		    QUOTE(q, key), sect, list);
}

/*
 * Applies key = val within a section whose n keys are defs, setlines
 * recording where each was set.  Reports unknown, duplicate and empty.
 */
static void
apply_key(struct parser *p, const char *sect, const struct key_def *defs,
    int n, int *setlines, const char *key, const char *val)
{
	int k;

	for (k = 0; k < n; k++)
		if (strcmp(key, defs[k].name) == 0)
			break;
	if (k == n) {
		unknown_key(p, key, sect, defs, n);
		return;
	}
	if (setlines[k] != 0) {
		conf_err(p, p->lineno, "duplicate key '%s' in %s (first at "
		    "line %d)", key, sect, setlines[k]);
		return;
	}
	setlines[k] = p->lineno;
	if (*val == '\0') {
		conf_err(p, p->lineno, "empty value for '%s' in %s", key, sect);
		if (defs == sync_keys)
			p->syncbad[k] = 1;
		return;
	}
	defs[k].fn(p, k, val);
}

/* Handles a "key = value" line s of [sync] or [store NAME]. */
static void
key_line(struct parser *p, char *s)
{
	char q[CONF_QUOTE_MAX], sect[CONF_NAME_MAX + 16];
	char *eq = strchr(s, '='), *key, *val;
	size_t i;

	if (eq == NULL) {
		conf_err(p, p->lineno, "malformed line '%s': expected "
		    "'key = value' or a [section] header", QUOTE(q, s));
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0') {
		conf_err(p, p->lineno, "malformed line: no key before '='");
		return;
	}
	switch (p->sec) {
	case SEC_NONE:
		conf_err(p, p->lineno, "key '%s' outside a section; put it "
		    "under [sync] or [store NAME]", QUOTE(q, key));
		break;
	case SEC_SYNC:
		apply_key(p, "[sync]", sync_keys, SK_COUNT, p->synckey, key,
		    val);
		break;
	case SEC_STORE:
		i = (size_t)(p->st - p->c->stores);
		snprintf(sect, sizeof(sect), "[store %s]", p->st->name);
		apply_key(p, sect, store_keys, ST_COUNT, p->storekey[i], key,
		    val);
		break;
	default:
		break;
	}
}

/* Returns 1 when name is a gid: gid://shopify/Location/DIGITS or not gid. */
static int
location_gid_ok(const char *name)
{
	static const char prefix[] = "gid://shopify/Location/";
	const char *s;

	if (strncmp(name, "gid:", 4) != 0)
		return 1;
	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	s = name + sizeof(prefix) - 1;
	if (!is_digit(*s))
		return 0;
	while (is_digit(*s))
		s++;
	return *s == '\0';
}

/*
 * Checks one location name of a [locations] line.  Returns 0, or -1
 * after reporting why it is refused.
 */
static int
location_name_ok(struct parser *p, const char *name)
{
	char q[CONF_QUOTE_MAX];

	if (*name == '\0') {
		conf_err(p, p->lineno, "empty location name in [locations]; "
		    "expected 'NAME = NAME', one per store in [store] order");
		return -1;
	}
	if (strlen(name) >= CONF_STR_MAX) {
		conf_err(p, p->lineno, "location name is longer than %d bytes",
		    CONF_STR_MAX - 1);
		return -1;
	}
	if (!location_gid_ok(name)) {
		conf_err(p, p->lineno, "location id '%s' must be "
		    "gid://shopify/Location/NUMBER", QUOTE(q, name));
		return -1;
	}
	return 0;
}

/*
 * Checks one store's entry of a [locations] line: a name, or several
 * joined by '+' (a group), each checked by location_name_ok().  A name
 * that itself holds '+' passes too: linkloc.c tries the whole entry first.
 * Returns 0 or -1 (reported).
 */
static int
location_entry_ok(struct parser *p, const char *entry)
{
	char buf[CONF_STR_MAX], q[CONF_QUOTE_MAX], *part, *next;
	size_t n = 0;

	if (strchr(entry, '+') == NULL || *entry == '\0' ||
	    strlen(entry) >= CONF_STR_MAX)
		return location_name_ok(p, entry);
	memcpy(buf, entry, strlen(entry) + 1);
	for (part = buf; part != NULL; part = next) {
		if ((next = strchr(part, '+')) != NULL)
			*next++ = '\0';
		part = trim(part);
		if (*part == '\0')
			continue;	/* "C++": one name, linkloc.c finds it */
		if (!location_gid_ok(part)) {
			conf_err(p, p->lineno, "location id '%s' must be "
			    "gid://shopify/Location/NUMBER", QUOTE(q, part));
			return -1;
		}
		n++;
	}
	if (n > GROUP_MAX) {
		conf_err(p, p->lineno, "more than %d locations of one store "
		    "in a group", GROUP_MAX);
		return -1;
	}
	return 0;
}

/* Handles a "NAME = NAME [= NAME ...]" line s of [locations]. */
static void
location_line(struct parser *p, char *s)
{
	struct location_link *l;
	char *part, *next;
	size_t n = 0;

	if (p->c->nloclinks == CONF_MAX_LOCLINKS) {
		conf_err(p, p->lineno, "too many [locations] lines (at most "
		    "%d)", CONF_MAX_LOCLINKS);
		return;
	}
	l = &p->c->loclinks[p->c->nloclinks];
	for (part = s; part != NULL; part = next, n++) {
		if ((next = strchr(part, '=')) != NULL)
			*next++ = '\0';
		part = trim(part);
		if (location_entry_ok(p, part) == -1)
			return;
		if (n < CONF_MAX_STORES)
			memcpy(l->names[n], part, strlen(part) + 1);
	}
	l->line = p->lineno;
	p->locnames[p->c->nloclinks++] = n;
}

/* Returns 1 when name is 1 to 63 of [A-Za-z0-9_-]. */
static int
store_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

/* Opens [store NAME] for the name in header text rest (after "store"). */
static void
store_section(struct parser *p, char *rest)
{
	char q[CONF_QUOTE_MAX];
	char *name = trim(rest);
	size_t i;

	p->seen_store = 1;
	p->sec = SEC_BAD;
	if (!store_name_ok(name)) {
		conf_err(p, p->lineno, "store name must be 1 to %d letters, "
		    "digits, '_' or '-': [store NAME], not '%s'",
		    CONF_NAME_MAX - 1, QUOTE(q, name));
		return;
	}
	for (i = 0; i < p->c->nstores; i++) {
		if (strcmp(p->c->stores[i].name, name) == 0) {
			conf_err(p, p->lineno, "duplicate section [store %s] "
			    "(first at line %d)", name, p->c->stores[i].line);
			return;
		}
	}
	if (p->c->nstores == CONF_MAX_STORES) {
		conf_err(p, p->lineno, "too many [store] sections (at most %d)",
		    CONF_MAX_STORES);
		return;
	}
	p->st = &p->c->stores[p->c->nstores++];
	memcpy(p->st->name, name, strlen(name) + 1);
	p->st->line = p->lineno;
	p->sec = SEC_STORE;
}

/*
 * Opens [sync] or [locations] (sec), which may appear once: *seen is the
 * line of the first, 0 if none.
 */
static void
single_section(struct parser *p, enum section sec, const char *name,
    int *seen)
{
	if (*seen != 0) {
		conf_err(p, p->lineno, "duplicate section [%s] (first at line "
		    "%d)", name, *seen);
		p->sec = SEC_BAD;
		return;
	}
	*seen = p->lineno;
	p->sec = sec;
}

/* Handles a section header line s, which starts with '['. */
static void
section_line(struct parser *p, char *s)
{
	char q[CONF_QUOTE_MAX];
	char *close = strchr(s, ']'), *in;

	if (close == NULL) {
		conf_err(p, p->lineno, "malformed section header '%s': "
		    "missing ']'", QUOTE(q, s));
		p->sec = SEC_BAD;
		return;
	}
	*close = '\0';
	if (*trim(close + 1) != '\0')
		conf_err(p, p->lineno, "unexpected text '%s' after section "
		    "header", QUOTE(q, trim(close + 1)));
	in = trim(s + 1);
	if (strcmp(in, "sync") == 0)
		single_section(p, SEC_SYNC, "sync", &p->sync_line);
	else if (strcmp(in, "locations") == 0)
		single_section(p, SEC_LOCATIONS, "locations",
		    &p->locations_line);
	else if (strncmp(in, "store", 5) == 0 &&
	    (in[5] == '\0' || is_blank(in[5])))
		store_section(p, in + 5);
	else {
		conf_err(p, p->lineno, "unknown section [%s]; allowed: [sync], "
		    "[store NAME], [locations]", QUOTE(q, in));
		p->sec = SEC_BAD;
	}
}

/*
 * Handles raw line s of n bytes (no '\n'): refuses long lines, NUL and
 * control bytes, strips the comment, dispatches the rest.
 */
static void
handle_line(struct parser *p, const char *s, size_t n)
{
	char buf[CONF_LINE_MAX + 1], *t;
	size_t i;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > CONF_LINE_MAX) {
		conf_err(p, p->lineno, "line is longer than %d bytes",
		    CONF_LINE_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '\0') {
			conf_err(p, p->lineno, "NUL byte in line");
			return;
		}
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f) {
			conf_err(p, p->lineno, "control byte 0x%02x in line",
			    (unsigned)(unsigned char)s[i]);
			return;
		}
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	strip_comment(buf);
	t = trim(buf);
	if (*t == '\0')
		return;
	if (*t == '[')
		section_line(p, t);
	else if (p->sec == SEC_LOCATIONS)
		location_line(p, t);
	else
		key_line(p, t);
}

/* Checks that store i has a shop and exactly one auth method. */
static void
check_store(struct parser *p, size_t i)
{
	const struct store_conf *s = &p->c->stores[i];
	const int *set = p->storekey[i];
	int tok = set[ST_TOKEN_FILE] != 0, cid = set[ST_CLIENT_ID] != 0;
	int csf = set[ST_CLIENT_SECRET_FILE] != 0;

	if (!set[ST_SHOP])
		conf_err(p, s->line, "[store %s] has no shop; add "
		    "shop = NAME.myshopify.com", s->name);
	if (!tok && !cid && !csf)
		conf_err(p, s->line, "[store %s] has no credentials; add "
		    "token_file, or client_id and client_secret_file", s->name);
	else if (tok && (cid || csf))
		conf_err(p, s->line, "[store %s] has token_file and %s; use "
		    "token_file alone, or client_id with client_secret_file",
		    s->name, cid && csf ? "client_id and client_secret_file" :
		    cid ? "client_id" : "client_secret_file");
	else if (cid && !csf)
		conf_err(p, s->line, "[store %s] has client_id but no "
		    "client_secret_file", s->name);
	else if (csf && !cid)
		conf_err(p, s->line, "[store %s] has client_secret_file but no "
		    "client_id", s->name);
}

/* Refuses a store that repeats the shop and url of an earlier one. */
static void
check_store_unique(struct parser *p, size_t i)
{
	const struct store_conf *a, *b = &p->c->stores[i];
	size_t j;

	if (b->shop[0] == '\0')
		return;
	for (j = 0; j < i; j++) {
		a = &p->c->stores[j];
		if (strcmp(a->shop, b->shop) == 0 &&
		    strcmp(a->url, b->url) == 0) {
			conf_err(p, b->line, "[store %s] has the same shop and "
			    "url as [store %s] (line %d)", b->name, a->name,
			    a->line);
			return;
		}
	}
}

/* Checks [locations] line i: one name per store, none linked twice. */
static void
check_loclink(struct parser *p, size_t i)
{
	const struct location_link *l = &p->c->loclinks[i], *o;
	char q[CONF_QUOTE_MAX];
	size_t j, s, n = p->c->nstores;

	if (p->locnames[i] != n) {
		conf_err(p, l->line, "[locations] line has %zu name%s but "
		    "there %s %zu [store] section%s; give one location per "
		    "store, in [store] order", p->locnames[i],
		    p->locnames[i] == 1 ? "" : "s", n == 1 ? "is" : "are", n,
		    n == 1 ? "" : "s");
		return;
	}
	for (s = 0; s < n; s++) {
		for (j = 0; j < i; j++) {
			o = &p->c->loclinks[j];
			if (p->locnames[j] == n &&
			    strcmp(o->names[s], l->names[s]) == 0) {
				conf_err(p, l->line, "location '%s' of "
				    "[store %s] is already linked at line %d",
				    QUOTE(q, l->names[s]),
				    p->c->stores[s].name, o->line);
				break;
			}
		}
	}
}

/* Checks reconcile >= interval when both are valid. */
static void
check_periods(struct parser *p)
{
	char r[32], iv[32];
	int line;

	if (p->syncbad[SK_INTERVAL] || p->syncbad[SK_RECONCILE] ||
	    p->c->reconcile_ms >= p->c->interval_ms)
		return;
	line = p->synckey[SK_RECONCILE] ? p->synckey[SK_RECONCILE] :
	    p->synckey[SK_INTERVAL];
	fmt_duration(p->c->reconcile_ms, r, sizeof(r));
	fmt_duration(p->c->interval_ms, iv, sizeof(iv));
	conf_err(p, line, "reconcile (%s) must not be shorter than interval "
	    "(%s)", r, iv);
}

/* Runs the checks that need the whole file. */
static void
conf_finish(struct parser *p)
{
	size_t i;

	if (p->c->nstores == 0 && !p->seen_store)
		conf_err(p, 1, "no [store NAME] section; at least one is "
		    "required (the first is the primary)");
	for (i = 0; i < p->c->nstores; i++) {
		check_store(p, i);
		check_store_unique(p, i);
	}
	if (p->c->nstores > 0)
		for (i = 0; i < p->c->nloclinks; i++)
			check_loclink(p, i);
	check_periods(p);
}

/* Sets up parser p for the file path; dir keeps path's directory part. */
static void
parser_init(struct parser *p, const char *path, struct conf *out,
    struct conf_errors *errs)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;

	memset(p, 0, sizeof(*p));
	p->c = out;
	p->e = errs;
	p->sec = SEC_NONE;
	log_safe(p->qpath, sizeof(p->qpath), path, strlen(path));
	if (n < sizeof(p->dir))
		memcpy(p->dir, path, n);
	copy_str(out->path, sizeof(out->path), path);
}

/* See conf.h. */
int
conf_parse(const char *path, const char *text, size_t len, struct conf *out,
    struct conf_errors *errs)
{
	struct parser p;
	const char *nl, *end = text + len;

	conf_defaults(out);
	errs->n = errs->total = 0;
	parser_init(&p, path, out, errs);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	while (text < end) {
		p.lineno++;
		if ((nl = memchr(text, '\n', (size_t)(end - text))) == NULL)
			nl = end;
		handle_line(&p, text, (size_t)(nl - text));
		if (nl == end)
			break;
		text = nl + 1;
	}
	conf_finish(&p);
	return errs->total > 0 ? -1 : 0;
}

/*
 * Reads the whole file at path (at most CONF_FILE_MAX bytes) into a new
 * buffer; the caller frees *buf.  Returns 0, or -1 with errno set.
 */
static int
read_file(const char *path, char **buf, size_t *len)
{
	char *b;
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((b = malloc(CONF_FILE_MAX + 1)) == NULL)
		fatal("conf: out of memory");
	while ((r = read(fd, b + n, CONF_FILE_MAX + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || (n += (size_t)r) > CONF_FILE_MAX) {
			saved = (r == -1) ? errno : EFBIG;
			free(b);
			close(fd);
			errno = saved;
			return -1;
		}
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

/* See conf.h. */
int
conf_load(const char *path, struct conf *out, struct conf_errors *errs)
{
	char q[CONF_PATH_MAX], *text;
	size_t len;
	int rc;

	if (read_file(path, &text, &len) == -1) {
		conf_defaults(out);
		log_safe(q, sizeof(q), path, strlen(path));
		errs->n = errs->total = 1;
		snprintf(errs->msg[0], sizeof(errs->msg[0]),
		    "%.*s: cannot read: %s", (int)(CONF_ERR_MAX / 2), q,
		    strerror(errno));
		return -1;
	}
	rc = conf_parse(path, text, len, out, errs);
	free(text);
	return rc;
}

/* Overwrites the n bytes at p with zeros in a way the compiler keeps. */
static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/*
 * Reads the regular file open as fd into buf (bufsz >= 2).  Returns the
 * length, or -1 with why written (qpath names the file).
 */
static ssize_t
read_secret_fd(int fd, const char *qpath, int credential, char *buf,
    size_t bufsz, char *why, size_t whysz)
{
	struct stat sb;
	size_t n = 0;
	ssize_t r;
	char extra;

	if (fstat(fd, &sb) == -1) {
		snprintf(why, whysz, "%s: %s", qpath, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(why, whysz, "%s is not a regular file", qpath);
		return -1;
	}
	if ((sb.st_mode & 077) && !credential) {
		perm_complaint(why, whysz, "", qpath, sb.st_mode);
		return -1;
	}
	while (n < bufsz - 1 && (r = read(fd, buf + n, bufsz - 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(why, whysz, "%s: %s", qpath, strerror(errno));
			return -1;
		}
		n += (size_t)r;
	}
	if (n == bufsz - 1 && read(fd, &extra, 1) > 0) {
		snprintf(why, whysz, "%s is longer than %zu bytes", qpath,
		    bufsz - 1);
		return -1;
	}
	return (ssize_t)n;
}

/* See conf.h. */
int
conf_read_secret(const char *path, char *buf, size_t bufsz, char *why,
    size_t whysz)
{
	char q[CONF_QUOTE_MAX];
	ssize_t r;
	size_t i, n;
	int fd;

	log_safe(q, sizeof(q), path, strlen(path));
	if (bufsz < 2) {
		snprintf(why, whysz, "%s: no room for the secret", q);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "%s: %s", q, strerror(errno));
		return -1;
	}
	r = read_secret_fd(fd, q, in_credentials(path), buf, bufsz, why,
	    whysz);
	close(fd);
	if (r == -1)
		goto fail;
	n = (size_t)r;
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n == 0) {
		snprintf(why, whysz, "%s is empty", q);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			snprintf(why, whysz, "%s holds a NUL or control byte "
			    "at offset %zu", q, i);
			goto fail;
		}
	}
	buf[n] = '\0';
	return 0;
fail:
	wipe(buf, bufsz);
	return -1;
}

/* Prints "key = DURATION" to f. */
static void
print_duration(FILE *f, const char *key, int64_t ms)
{
	char d[32];

	fmt_duration(ms, d, sizeof(d));
	fprintf(f, "%s = %s\n", key, d);
}

/*
 * Prints a notification URL as a comment: its origin only, since its path
 * or query may be a secret (a webhook, an ntfy topic).
 */
static void
print_notify(FILE *f, const char *key, const char *url, const char *unset)
{
	char o[CONF_PATH_MAX];

	if (url[0] == '\0')
		fprintf(f, "# %s not set: %s\n", key, unset);
	else
		fprintf(f, "# %s = %s/... (its path and query not shown)\n",
		    key, conf_url_origin(url, o, sizeof(o)));
}

/* Prints the [sync] section of c to f. */
static void
print_sync(const struct conf *c, FILE *f)
{
	static const char *const match[] = { "handle", "sku", "barcode" };
	static const char *const initial[] = { "primary", "keep", "min" };
	static const char *const direction[] = { "two-way", "one-way" };
	static const char *const alert_format[] = { "json", "slack", "ntfy" };

	fprintf(f, "[sync]\n");
	print_duration(f, "interval", c->interval_ms);
	fprintf(f, "state_dir = %s\n", c->state_dir);
	fprintf(f, "match = %s\n", match[c->match]);
	fprintf(f, "initial = %s\n", initial[c->initial]);
	fprintf(f, "direction = %s\n", direction[c->direction]);
	fprintf(f, "api_version = %s\n", c->api_version);
	if (c->ca_file[0] != '\0')
		fprintf(f, "ca_file = %s\n", c->ca_file);
	else
		fprintf(f, "# ca_file not set: built-in search list\n");
	print_duration(f, "overlap", c->overlap_ms);
	print_duration(f, "reconcile", c->reconcile_ms);
	print_duration(f, "catalog_refresh", c->catalog_ms);
	print_duration(f, "timeout", c->timeout_ms);
	fprintf(f, "guard = %d\n", c->guard_percent);
	fprintf(f, "bulk_threshold = %ld\n", c->bulk_threshold);
	print_duration(f, "bulk_retry", c->bulk_retry_ms);
	if (c->metrics_file[0] != '\0')
		fprintf(f, "metrics_file = %s\n", c->metrics_file);
	else
		fprintf(f, "# metrics_file not set: no metrics written\n");
	print_notify(f, "alert_url", c->alert_url, "no alerts sent");
	print_duration(f, "alert_after", c->alert_after_ms);
	fprintf(f, "alert_format = %s\n", alert_format[c->alert_format]);
	print_notify(f, "ping_url", c->ping_url, "no pings sent");
	print_duration(f, "ping_every", c->ping_every_ms);
}

/* Prints one [store NAME] section to f: secret file paths, never secrets. */
static void
print_store(const struct store_conf *s, FILE *f)
{
	fprintf(f, "\n[store %s]\n", s->name);
	fprintf(f, "shop = %s\n", s->shop);
	if (s->token_file[0] != '\0')
		fprintf(f, "token_file = %s\n", s->token_file);
	if (s->client_id[0] != '\0')
		fprintf(f, "client_id = %s\n", s->client_id);
	if (s->client_secret_file[0] != '\0')
		fprintf(f, "client_secret_file = %s\n", s->client_secret_file);
	if (s->url[0] != '\0')
		fprintf(f, "url = %s\n", s->url);
	if (s->buffer != 0)
		fprintf(f, "buffer = %" PRId64 "\n", s->buffer);
}

/* See conf.h. */
void
conf_print(const struct conf *c, FILE *f)
{
	size_t i, j;

	print_sync(c, f);
	for (i = 0; i < c->nstores; i++)
		print_store(&c->stores[i], f);
	if (c->nloclinks == 0)
		return;
	fprintf(f, "\n[locations]\n");
	for (i = 0; i < c->nloclinks; i++) {
		for (j = 0; j < c->nstores && j < CONF_MAX_STORES; j++)
			fprintf(f, "%s%s", j ? " = " : "",
			    c->loclinks[i].names[j]);
		fprintf(f, "\n");
	}
}

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/*
 * Days from now_ms (Unix ms) until Shopify stops serving API version
 * (YYYY-MM, as key_api_version() checked it): a stable version answers
 * until the 16th of its month a year later, 15:00 UTC (docs/shopify-api.md
 * §11).  Rounded down; negative once past.
 */
int64_t
conf_version_days_left(const char *version, int64_t now_ms)
{
	int64_t y, m, end_ms, left;

	y = (version[0] - '0') * 1000 + (version[1] - '0') * 100 +
	    (version[2] - '0') * 10 + (version[3] - '0');
	m = (version[5] - '0') * 10 + (version[6] - '0');
	end_ms = (days_from_civil(y + 1, m, 16) * 86400 + 15 * 3600) * 1000;
	left = end_ms - now_ms;
	return left >= 0 ? left / 86400000 : -((-left + 86399999) / 86400000);
}

void
conf_store_names(const struct conf *c, char *buf, size_t bufsz)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < c->nstores; i++) {
		strncat(buf, c->stores[i].name, bufsz - strlen(buf) - 2);
		strcat(buf, ",");
	}
}
