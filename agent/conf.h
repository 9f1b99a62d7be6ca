/*
 * conf.h: the parsed configuration file (docs/design.md §2) and its parser.
 *
 * The parser is pure apart from stat(2)/open(2) of the secret files and the
 * ca_file it names: text in, struct out, every error collected as
 * "FILE:LINE: message", all of them, in line order.
 *
 * Syntax: "key = value" lines under [sync], [store NAME] (repeated, at least
 * one, the first is the primary) and [locations] ("NAME = NAME ...", one
 * location name or gid://shopify/Location/N per store, in [store] order;
 * a name cannot hold '=').  '#' starts a comment at the start of a line or
 * after a blank, so a value such as a location name cannot hold " #".
 * Lines hold at most 4096 bytes and no NUL or control bytes (tabs and a
 * CRLF ending are fine).
 *
 * Secret files (token_file, client_secret_file): a bare name without '/' is
 * looked up in $CREDENTIALS_DIRECTORY when that is set (systemd
 * LoadCredential=); otherwise a relative name resolves against the config
 * file's directory.  The resolved path is what struct store_conf holds.  The
 * file must exist, be a regular file, and have no group or other permission
 * bits (mode & 077 == 0); it is opened but not read by the parser.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_MAX_STORES		8	/* [store NAME] sections */
#define CONF_MAX_LOCLINKS	64	/* lines in [locations] */
#define GROUP_MAX		8	/* locations of one store in a group */
#define CONF_BUFFER_MAX		1000000	/* buffer = N */
#define CONF_MAX_ERRORS		64	/* errors kept; more are counted */
#define CONF_NAME_MAX		64	/* store names */
#define CONF_STR_MAX		256	/* shop, location names, ids */
#define CONF_PATH_MAX		1024	/* file paths, url */
#define CONF_ERR_MAX		512	/* one formatted error line */
#define CONF_BULK_THRESHOLD	1000	/* variants: bulk reads from here */
#define CONF_BULK_MAX		10000000

enum match_key {
	MATCH_HANDLE,		/* product handle, then variant by SKU or options */
	MATCH_SKU,
	MATCH_BARCODE
};

enum initial_policy {
	INITIAL_PRIMARY,	/* copy the first store's quantity */
	INITIAL_KEEP,		/* take each store's value as its baseline */
	INITIAL_MIN		/* set every store to the smallest */
};

enum direction {
	DIRECTION_TWO_WAY,
	DIRECTION_ONE_WAY	/* only the primary's changes flow */
};

/* The body shape of alerts (alert.h, invsync.conf(5)). */
enum alert_format {
	ALERT_FORMAT_JSON,	/* our own object */
	ALERT_FORMAT_SLACK,	/* {"text": ...}: Slack, Discord's /slack */
	ALERT_FORMAT_NTFY	/* plain text, Title/Tags/Priority headers */
};

struct store_conf {
	char	name[CONF_NAME_MAX];		/* from [store NAME] */
	char	shop[CONF_STR_MAX];		/* x.myshopify.com */
	char	token_file[CONF_PATH_MAX];	/* resolved; "" = client_id */
	char	client_id[CONF_STR_MAX];
	char	client_secret_file[CONF_PATH_MAX];	/* resolved */
	char	url[CONF_PATH_MAX];		/* "" = https://SHOP */
	int64_t	buffer;				/* units held back: 0 */
	int	line;				/* line of the section header */
};

/*
 * One [locations] line: per store, in store order, a location name or gid,
 * or several joined by '+' (a group: linkloc.c splits them).
 */
struct location_link {
	char	names[CONF_MAX_STORES][CONF_STR_MAX];
	int	line;
};

struct conf {
	char			path[CONF_PATH_MAX];
	int64_t			interval_ms;		/* 5s */
	char			state_dir[CONF_PATH_MAX];	/* /var/lib/invsync */
	enum match_key		match;			/* handle */
	enum initial_policy	initial;		/* primary */
	enum direction		direction;		/* two-way */
	char			api_version[16];	/* 2026-07 */
	char			ca_file[CONF_PATH_MAX];	/* "" = search list */
	int64_t			overlap_ms;		/* 60s */
	int64_t			reconcile_ms;		/* 15m */
	int64_t			catalog_ms;		/* 5m: catalog refresh */
	int64_t			timeout_ms;		/* 30s: one request */
	int			guard_percent;		/* 50; 0 disables */
	long			bulk_threshold;		/* variants; 0 = never */
	int64_t			bulk_retry_ms;		/* 1d: pages, then bulk again */
	char			metrics_file[CONF_PATH_MAX];	/* "" = none */
	/*
	 * alert_url, ping_url: https://, or http:// to a loopback host only
	 * (conf_notify_url_ok()); a query is allowed.  Both may hold a
	 * secret (a webhook's path, an ntfy topic): never logged whole.
	 */
	char			alert_url[CONF_PATH_MAX];	/* "" = none */
	int64_t			alert_after_ms;		/* 5m */
	enum alert_format	alert_format;		/* json */
	char			ping_url[CONF_PATH_MAX];	/* "" = none */
	int64_t			ping_every_ms;		/* 1m: at most */
	struct store_conf	stores[CONF_MAX_STORES];
	size_t			nstores;
	struct location_link	loclinks[CONF_MAX_LOCLINKS];
	size_t			nloclinks;
};

struct conf_errors {
	char	msg[CONF_MAX_ERRORS][CONF_ERR_MAX];	/* "FILE:LINE: ..." */
	size_t	n;		/* kept in msg */
	size_t	total;		/* all errors found, may exceed n */
};

/*
 * Parses the configuration text of the file named path (used in messages
 * and to resolve relative secret file names) into *out, after setting every
 * default.  Collects every error into *errs, sorted by line; the first
 * CONF_MAX_ERRORS lines are kept.  Returns 0 when the configuration is
 * usable, -1 when errs->total > 0.  Never performs network I/O.
 */
int	conf_parse(const char *path, const char *text, size_t len,
	    struct conf *out, struct conf_errors *errs);

/*
 * Reads the file at path and calls conf_parse().  An unreadable file is one
 * error ("PATH: cannot read: strerror").  Returns 0 or -1 as conf_parse().
 */
int	conf_load(const char *path, struct conf *out, struct conf_errors *errs);

/*
 * Parses a duration such as "500ms", "2s", "1m", "1h" into milliseconds:
 * digits then one unit, nothing else ("0s" parses; ranges are the caller's).
 * Returns 0, or -1 on anything else (no unit, negative, overflow, junk).
 */
int	conf_parse_duration(const char *s, int64_t *ms);

/*
 * Reads a secret file (token or client secret): refuses a file that is not
 * regular or has any group or other permission bit, strips one trailing
 * newline ("\n" or "\r\n"), rejects empty content, NUL and control bytes,
 * and a file longer than bufsz - 1 bytes.  On failure returns -1,
 * wipes buf and writes a one-line reason (path sanitised) to why.  On
 * success returns 0 with the secret NUL-terminated in buf; the caller
 * should wipe buf when done.
 */
int	conf_read_secret(const char *path, char *buf, size_t bufsz,
	    char *why, size_t whysz);

/*
 * Checks u as an alert_url or ping_url: https://HOST[:PORT][/PATH][?QUERY],
 * or http:// when HOST is localhost, 127.0.0.1 or [::1]; no user name, no
 * fragment, no blank or control byte.  Returns NULL, or why it is refused.
 */
const char *conf_notify_url_problem(const char *u);

/*
 * Writes the part of notification URL u that may be shown into buf:
 * its scheme and host[:port] only ("https://ntfy.sh"), never its path or
 * query, which may be secret.  Returns buf.
 */
char	*conf_url_origin(const char *u, char *buf, size_t bufsz);

/*
 * Prints the configuration back as INI to f with every default filled in,
 * durations in the largest exact unit (5s, 500ms, 15m); secret file paths
 * are shown, never their contents.
 */
void	conf_print(const struct conf *c, FILE *f);

/*
 * The stores' names in config order, each followed by ',' ("a,b,"), into
 * buf (cut to fit): what LMDB keeps (META_STORES) to refuse a state made
 * for other stores.
 */
void	conf_store_names(const struct conf *c, char *buf, size_t bufsz);

/*
 * Whole days from now_ms (Unix ms) until Shopify stops serving API version
 * (YYYY-MM): the 16th of its month a year later, 15:00 UTC.  Negative once
 * it is past.
 */
int64_t	conf_version_days_left(const char *version, int64_t now_ms);

#endif
