/*
 * init.c: owns `invsync init` (invsync(8)), the first-time setup.  It asks
 * a person at a terminal (or takes from flags, for scripts) each store's
 * shop domain, a name, and an Admin API access token or an app's client id
 * and secret; reaches each store through the real client to read its
 * locations; links the locations (equal names by itself, the others as
 * asked); writes the secret files (mode 600) and a commented configuration
 * atomically; and ends by running check.
 *
 * Nothing is visible before the end: the secret files wait under temporary
 * names (stage.c: removed on any failure and on SIGINT/SIGTERM/SIGHUP/
 * SIGQUIT) and are renamed into place just before the configuration.
 * Secrets are read with the terminal's echo off (tty.c: restored on every
 * way out), and are never printed or logged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "http.h"
#include "init.h"
#include "log.h"
#include "report.h"
#include "stage.h"
#include "tty.h"
#include "util.h"

#define INIT_MIN_STORES	2
#define INIT_LINE_MAX	1024		/* one typed answer */
#define INIT_EXIT_USAGE	2
#define INIT_DEFAULT_STEM "invsync"	/* invsync.conf: the plain service */
#define INIT_STATE_BASE	"/var/lib/invsync"
#define LOC_GID		"gid://shopify/Location/"
#define SHOP_SUFFIX	".myshopify.com"
#define SLOT_CONF	CONF_MAX_STORES	/* stage slot of the config; a
					   store's secret: its index */

/*
 * One store: client_id "" means a token; secret is wiped once staged; url
 * "" means https://SHOP; src is the --token-file or --client-secret-file
 * (src_token: of a token); file is the secret file's name next to the
 * config, tmp its staged path.
 */
struct istore {
	char		 name[CONF_NAME_MAX];
	char		 shop[CONF_STR_MAX];
	char		 client_id[CONF_STR_MAX];
	char		 secret[SHOPIFY_TOKEN_MAX];
	char		 url[CONF_PATH_MAX];
	char		 src[CONF_PATH_MAX];
	int		 src_token;
	char		 file[CONF_PATH_MAX];
	char		 tmp[CONF_PATH_MAX];
	struct client_location *loc;
	size_t		 nloc;
};

/* One linked group: a location id per store. */
struct ilink {
	uint64_t	loc[CONF_MAX_STORES];
};

/* --url NAME=URL, applied to the store of that name. */
struct iurl {
	char	name[CONF_NAME_MAX];
	char	url[CONF_PATH_MAX];
};

/*
 * The whole setup: dir is the config's directory (ending in '/'), stem its
 * base name without ".conf"; shared: written as root for the service's
 * user and group (pick_owner()).
 */
struct init {
	const char	*path;
	char		 dir[CONF_PATH_MAX];
	char		 stem[CONF_PATH_MAX];
	int		 force, check, interactive;
	char		 state_dir[CONF_PATH_MAX];
	char		 ca_file[CONF_PATH_MAX];
	struct istore	 st[CONF_MAX_STORES];
	size_t		 n;
	const char	*linkarg[CONF_MAX_LOCLINKS];	/* --link */
	size_t		 nlinkarg;
	struct ilink	 link[CONF_MAX_LOCLINKS];
	size_t		 nlink;
	struct iurl	 url[CONF_MAX_STORES];
	size_t		 nurl;
	int		 shared;
	uid_t		 uid;
	gid_t		 gid;
};

static volatile int		 never;
/* The directory prepare() made, removed again when init gives up. */
static char			 made_dir[CONF_PATH_MAX];
static volatile sig_atomic_t	 msg_lost;	/* write()'s result */

static const char usage_text[] =
"usage: invsync [-c FILE] init [--force] [--no-check] [--state-dir DIR]\n"
"           [--ca-file FILE] [--url NAME=URL]...\n"
"       invsync [-c FILE] init --store NAME=SHOP [--token-file NAME=FILE |\n"
"           --client-id NAME=ID --client-secret-file NAME=FILE] ...\n"
"           [--link LOC=LOC[=LOC...]]... [other options as above]\n"
"  without --store: asks at the terminal; with --store (at least two):\n"
"  asks nothing.  See invsync(8).\n";

/*
 * After a signal: the staged files go, and the directory prepare() made;
 * async-signal-safe (tty_init()).
 */
static void
interrupted(void)
{
	static const char msg[] = "\ninvsync init: interrupted; "
	    "no configuration written\n";

	stage_drop_all();
	if (made_dir[0] != '\0')
		rmdir(made_dir);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1)
		msg_lost = 1;
}

/*
 * Gives up: the staged files go, and the directory prepare() made; nothing
 * else was written.  Exits 1.
 */
static void __attribute__((noreturn))
quit(const char *why)
{
	tty_restore();
	stage_drop_all();
	if (made_dir[0] != '\0')
		rmdir(made_dir);
	fprintf(stderr, "invsync init: %s; no configuration written\n", why);
	exit(1);
}

/* Standard input ended at a question (tty_init()). */
static void
input_ended(void)
{
	quit("input ended");
}

/* ---- validation -------------------------------------------------------- */

static int
is_alnum_c(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* 1 when name is a store name: 1 to 63 of letters, digits, '_' and '-'. */
static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CONF_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum_c(name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

/* 1 when s is one word of printable ASCII shorter than max. */
static int
word_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * Turns what a person may type for a shop (NAME, NAME.myshopify.com,
 * https://NAME.myshopify.com/admin, any case) into NAME.myshopify.com in
 * out (CONF_STR_MAX).  Returns 0, or -1 with why (whysz) filled.
 */
static int
norm_shop(const char *in, char *out, char *why, size_t whysz)
{
	char s[CONF_STR_MAX], q[80];
	size_t i, n, sl = sizeof(SHOP_SUFFIX) - 1;
	const char *p = in;
	int ok;

	if (strncmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7;
	n = strcspn(p, "/");
	ok = n > 0 && n < sizeof(s) - sl;
	if (ok) {
		memcpy(s, p, n);
		s[n] = '\0';
		for (i = 0; i < n; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				s[i] = (char)(s[i] - 'A' + 'a');
		if (strchr(s, '.') == NULL)
			strcat(s, SHOP_SUFFIX);
		n = strlen(s);
		ok = n > sl && n - sl <= 63 &&
		    strcmp(s + n - sl, SHOP_SUFFIX) == 0 &&
		    s[0] != '-' && s[n - sl - 1] != '-';
		for (i = 0; ok && i < n - sl; i++)
			ok = (s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
	}
	if (!ok) {
		snprintf(why, whysz, "'%s' is not a shop domain: give "
		    "NAME.myshopify.com, NAME of lowercase letters, digits and "
		    "hyphens (Shopify admin: Settings > Domains)",
		    log_safe(q, sizeof(q), in, strlen(in)));
		return -1;
	}
	snprintf(out, CONF_STR_MAX, "%s", s);
	return 0;
}

/*
 * 1 when the config's base name (without .conf) can begin the secret
 * files' names: 1 to 63 of letters, digits, '.', '_' and '-'.
 */
static int
stem_ok(const char *stem)
{
	size_t i, n = strlen(stem);

	if (n == 0 || n >= CONF_NAME_MAX || stem[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum_c(stem[i]) && strchr("._-", stem[i]) == NULL)
			return 0;
	return 1;
}

/* NULL when s can be a token or client secret, else what is wrong. */
static const char *
secret_problem(const char *s)
{
	if (s[0] == '\0')
		return "it is empty";
	if (!word_ok(s, SHOPIFY_TOKEN_MAX))
		return "it holds a blank or a character that is not printable "
		    "ASCII: give the token alone";
	return NULL;
}

/* ---- files ------------------------------------------------------------- */

/*
 * The owner of what init writes.  As root in a directory whose group is
 * not root's (install.sh makes /etc/invsync root:invsync, mode 750), the
 * secret files go to the user of that group's name and the config to
 * root:GROUP, mode 640, so the service can read both.  Otherwise they are
 * ours, mode 600.
 */
static void
pick_owner(struct init *in)
{
	struct stat sb;
	struct group *gr;
	struct passwd *pw;

	in->shared = 0;
	if (geteuid() != 0 || stat(in->dir, &sb) == -1 || sb.st_gid == 0)
		return;
	if ((gr = getgrgid(sb.st_gid)) == NULL ||
	    (pw = getpwnam(gr->gr_name)) == NULL)
		return;
	in->shared = 1;
	in->uid = pw->pw_uid;
	in->gid = sb.st_gid;
}

/* Stages store i's secret, then wipes it from memory.  0 or -1. */
static int
stage_secret(struct init *in, size_t i)
{
	struct istore *s = &in->st[i];
	char buf[SHOPIFY_TOKEN_MAX + 1], why[STAGE_PATH_MAX + 128];
	size_t n = strlen(s->secret);
	int r;

	memcpy(buf, s->secret, n);
	buf[n] = '\n';
	r = stage_write(i, in->dir, buf, n + 1, 0600,
	    in->shared ? in->uid : (uid_t)-1, in->gid, why, sizeof(why));
	memset(buf, 0, sizeof(buf));
	memset(s->secret, 0, sizeof(s->secret));
	if (r == 0)
		snprintf(s->tmp, sizeof(s->tmp), "%s", stage_path(i));
	else
		fprintf(stderr, "invsync init: %s\n", why);
	return r;
}

/*
 * Reads a secret for --token-file / --client-secret-file from path (a
 * regular file or a pipe such as /dev/stdin, at most one line).  Returns 0,
 * or -1 with why.
 */
static int
read_src(const char *path, char *buf, size_t bufsz, char *why, size_t whysz)
{
	struct stat sb;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || (!S_ISREG(sb.st_mode) &&
	    !S_ISFIFO(sb.st_mode))) {
		close(fd);
		snprintf(why, whysz, "not a regular file or a pipe");
		return -1;
	}
	while (n < bufsz - 1 &&
	    (r = read(fd, buf + n, bufsz - 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(why, whysz, "%s", strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n == bufsz - 1) {
		memset(buf, 0, bufsz);
		snprintf(why, whysz, "longer than %zu bytes", bufsz - 2);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return 0;
}

/* 1 when the files at a and b are the same text. */
static int
same_text(const char *a, const char *b)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	int ca, cb, same = fa != NULL && fb != NULL;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	return same;
}

/*
 * Where the config goes: its directory (created, mode 750, when its parent
 * exists), its stem, the default state_dir, and whether an existing config
 * may be replaced (--force, or it is still install.sh's copy of the
 * example).  Returns 0, or 1 after printing why not.
 */
static int
prepare(struct init *in)
{
	char example[CONF_PATH_MAX + 32], q[CONF_PATH_MAX];
	const char *slash = strrchr(in->path, '/');
	size_t n;
	struct stat sb;

	n = slash ? (size_t)(slash - in->path) + 1 : 0;
	if (n >= sizeof(in->dir) - 1 || strlen(in->path) >= CONF_PATH_MAX) {
		fprintf(stderr, "invsync init: %s: path too long\n", in->path);
		return 1;
	}
	if (n == 0)
		snprintf(in->dir, sizeof(in->dir), "./");
	else
		snprintf(in->dir, sizeof(in->dir), "%.*s", (int)n, in->path);
	snprintf(in->stem, sizeof(in->stem), "%s", in->path + n);
	n = strlen(in->stem);
	if (n > 5 && strcmp(in->stem + n - 5, ".conf") == 0)
		in->stem[n - 5] = '\0';
	if (!word_ok(in->path, CONF_PATH_MAX - CONF_NAME_MAX * 2) ||
	    !stem_ok(in->stem)) {
		fprintf(stderr, "invsync init: -c %s: the configuration must "
		    "be a file DIR/NAME.conf, NAME of letters, digits, '.', "
		    "'_' and '-', its path without blanks\n", log_safe(q,
		    sizeof(q), in->path, strlen(in->path)));
		return 1;
	}
	if (in->state_dir[0] == '\0') {
		if (strcmp(in->stem, INIT_DEFAULT_STEM) == 0 ||
		    !name_ok(in->stem))
			snprintf(in->state_dir, sizeof(in->state_dir), "%s",
			    INIT_STATE_BASE);
		else
			snprintf(in->state_dir, sizeof(in->state_dir),
			    "%s/%.*s", INIT_STATE_BASE, CONF_NAME_MAX - 1,
			    in->stem);
	}
	if (lstat(in->path, &sb) == 0) {
		snprintf(example, sizeof(example), "%sinvsync.conf.example",
		    in->dir);
		if (!in->force && !same_text(in->path, example)) {
			fprintf(stderr, "invsync init: %s exists; to replace "
			    "it (and the secret files init writes) run: "
			    "invsync -c %s init --force\n", in->path,
			    in->path);
			return 1;
		}
		in->force = 1;
	}
	if (stat(in->dir, &sb) == -1) {
		if (mkdir(in->dir, 0750) == -1) {
			fprintf(stderr, "invsync init: cannot create %s: %s\n",
			    in->dir, strerror(errno));
			return 1;
		}
		memcpy(made_dir, in->dir, sizeof(made_dir));
	}
	if (access(in->dir, W_OK) == -1) {
		fprintf(stderr, "invsync init: cannot write in %s: %s%s\n",
		    in->dir, strerror(errno), geteuid() != 0 ?
		    " (run it as root: sudo invsync init)" : "");
		return 1;
	}
	pick_owner(in);
	return 0;
}

/*
 * Sets store i's secret file name: STORE.token (STORE.secret for a client
 * secret) next to the config, STEM-STORE.token for a config not named
 * invsync.conf (instances share /etc/invsync).  Returns 0, or -1 with why
 * when that file exists and --force was not given.
 */
static int
secret_name(struct init *in, size_t i, char *why, size_t whysz)
{
	struct istore *s = &in->st[i];
	char full[CONF_PATH_MAX * 2], file[CONF_PATH_MAX];
	const char *ext = s->client_id[0] ? "secret" : "token";
	struct stat sb;

	if (strcmp(in->stem, INIT_DEFAULT_STEM) == 0)
		snprintf(file, sizeof(file), "%s.%s", s->name, ext);
	else
		snprintf(file, sizeof(file), "%.*s-%s.%s",
		    (int)(sizeof(file) - CONF_NAME_MAX - 16), in->stem,
		    s->name, ext);
	memcpy(s->file, file, sizeof(s->file));
	snprintf(full, sizeof(full), "%s%s", in->dir, s->file);
	if (!in->force && lstat(full, &sb) == 0) {
		snprintf(why, whysz, "%s exists (a secret of another "
		    "configuration?): choose another store name, or run init "
		    "with --force to replace it", full);
		return -1;
	}
	return 0;
}

/* ---- reaching a store -------------------------------------------------- */

/* Prints conf_parse()'s errors without the FILE:LINE of a text not saved. */
static void
print_conf_errors(const struct init *in, const struct conf_errors *e)
{
	size_t i, n = strlen(in->path);
	const char *m;

	for (i = 0; i < e->n; i++) {
		m = e->msg[i];
		if (strncmp(m, in->path, n) == 0 && m[n] == ':') {
			m += n + 1;
			m += strspn(m, "0123456789");
			m += strspn(m, ": ");
		}
		fprintf(stderr, "invsync init: refused: %s\n", m);
	}
}

/* Writes the [store] section of store i to f (the staged secret or not). */
static void
print_store(const struct init *in, size_t i, FILE *f, int staged)
{
	const struct istore *s = &in->st[i];
	const char *file = staged ? s->tmp : s->file;

	fprintf(f, "[store %s]\nshop = %s\n", s->name, s->shop);
	if (s->client_id[0] != '\0')
		fprintf(f, "client_id = %s\nclient_secret_file = %s\n",
		    s->client_id, file);
	else
		fprintf(f, "token_file = %s\n", file);
	if (s->url[0] != '\0')
		fprintf(f, "url = %s\n", s->url);
}

/*
 * Parses text as the config at in->path would be; prints the errors.
 * Returns the configuration (free it), or NULL.
 */
static struct conf *
parse_text(const struct init *in, const char *text, size_t len)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	struct conf_errors *e = xcalloc(1, sizeof(*e));

	if (conf_parse(in->path, text, len, c, e) == -1) {
		print_conf_errors(in, e);
		free(c);
		c = NULL;
	}
	free(e);
	return c;
}

/*
 * Reaches store i with its staged credentials through the real client and
 * reads its active locations.  Returns 0, or -1 with why (whysz).
 */
static int
reach(struct init *in, size_t i, char *why, size_t whysz)
{
	struct istore *s = &in->st[i];
	struct client *cl;
	struct conf *c;
	enum client_result r;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream: %s", strerror(errno));
	fprintf(f, "[sync]\nstate_dir = %s\n", in->state_dir);
	if (in->ca_file[0] != '\0')
		fprintf(f, "ca_file = %s\n", in->ca_file);
	print_store(in, i, f, 1);
	fclose(f);
	c = parse_text(in, text, len);
	free(text);
	if (c == NULL) {
		snprintf(why, whysz, "the settings above were refused");
		return -1;
	}
	free(s->loc);
	s->loc = NULL;
	s->nloc = 0;
	if ((cl = client_new(c, 0, &never)) == NULL) {
		free(c);
		snprintf(why, whysz, "cannot set up the client (see above)");
		return -1;
	}
	r = client_locations(cl, &s->loc, &s->nloc);
	if (r != CLIENT_OK)
		snprintf(why, whysz, "cannot read its locations: %s: %s",
		    client_result_str(r), client_stats(cl)->last_error);
	else if (s->nloc == 0)
		snprintf(why, whysz, "it has no active location");
	client_free(cl);
	free(c);
	return r == CLIENT_OK && s->nloc > 0 ? 0 : -1;
}

/* Applies the --url given for store i's name. */
static void
apply_url(struct init *in, size_t i)
{
	size_t k;

	for (k = 0; k < in->nurl; k++)
		if (strcmp(in->url[k].name, in->st[i].name) == 0)
			snprintf(in->st[i].url, sizeof(in->st[i].url), "%s",
			    in->url[k].url);
}

/* ---- the questions ----------------------------------------------------- */

/* Asks store i's shop domain until it is valid and new. */
static void
ask_shop(struct init *in, size_t i)
{
	char a[INIT_LINE_MAX], why[512];
	size_t k;

	for (;;) {
		tty_ask("  shop domain (NAME.myshopify.com)", NULL, a,
		    sizeof(a));
		if (norm_shop(a, in->st[i].shop, why, sizeof(why)) == -1) {
			printf("  %s\n", why);
			continue;
		}
		for (k = 0; k < i; k++)
			if (strcmp(in->st[k].shop, in->st[i].shop) == 0)
				break;
		if (k == i)
			return;
		printf("  %s is store %s already\n", in->st[i].shop,
		    in->st[k].name);
	}
}

/* Asks store i's name (the shop's NAME by default) until it is usable. */
static void
ask_name(struct init *in, size_t i)
{
	struct istore *s = &in->st[i];
	char a[INIT_LINE_MAX], def[CONF_NAME_MAX], why[CONF_PATH_MAX * 3];
	size_t k;

	snprintf(def, sizeof(def), "%.*s", (int)(strlen(s->shop) -
	    (sizeof(SHOP_SUFFIX) - 1)), s->shop);
	for (;;) {
		tty_ask("  name for it in invsync", def, a, sizeof(a));
		if (!name_ok(a)) {
			printf("  a name is 1 to %d letters, digits, '_' or "
			    "'-'\n", CONF_NAME_MAX - 1);
			continue;
		}
		for (k = 0; k < i && strcmp(in->st[k].name, a) != 0; k++)
			;
		if (k < i) {
			printf("  store %s exists already\n", a);
			continue;
		}
		memcpy(s->name, a, strlen(a) + 1);	/* name_ok(): fits */
		if (secret_name(in, i, why, sizeof(why)) == 0)
			return;
		printf("  %s\n", why);
	}
}

/* Asks store i's credentials: a token, or a client id and secret. */
static void
ask_credentials(struct init *in, size_t i)
{
	struct istore *s = &in->st[i];
	char a[INIT_LINE_MAX];
	const char *bad;

	printf("  credentials: 1) an Admin API access token (shpat_...)\n"
	    "               2) an app's client id and client secret\n");
	if (tty_number("  which", 1, 2) == 2) {
		for (;;) {
			tty_ask("  client id", NULL, a, sizeof(a));
			if (word_ok(a, CONF_STR_MAX))
				break;
			printf("  a client id is one word of printable ASCII, "
			    "at most %d characters\n", CONF_STR_MAX - 1);
		}
		/* word_ok(): it fits */
		memcpy(s->client_id, a, strlen(a) + 1);
	} else
		s->client_id[0] = '\0';
	for (;;) {
		if (tty_ask_secret(s->client_id[0] ? "  client secret" :
		    "  Admin API access token", s->secret,
		    sizeof(s->secret)) == -1)
			quit("standard input is not a terminal");
		if ((bad = secret_problem(s->secret)) == NULL)
			break;
		printf("  refused: %s\n", bad);
	}
}

/*
 * Asks everything about store i, stages its secret and reaches it; asks
 * again when the store cannot be used.
 */
static void
ask_store(struct init *in, size_t i)
{
	struct istore *s = &in->st[i];
	char why[CONF_PATH_MAX * 3];

	printf("\nStore %zu%s\n", i + 1, i == 0 ? " (the primary: with "
	    "direction = one-way only its changes flow)" : "");
	ask_shop(in, i);
	ask_name(in, i);
	apply_url(in, i);
	for (;;) {
		ask_credentials(in, i);
		if (secret_name(in, i, why, sizeof(why)) == -1)
			quit(why);
		if (stage_secret(in, i) == -1)
			quit("cannot stage a secret file");
		printf("  reaching %s ...\n", s->shop);
		fflush(stdout);
		if (reach(in, i, why, sizeof(why)) == 0)
			break;
		printf("  cannot use %s: %s\n", s->shop, why);
		if (!tty_yes("  enter its credentials again?", 1))
			quit("a store could not be used");
	}
	printf("  ok: %zu active location(s)\n", s->nloc);
}

/* Index of the store named name among those given so far, or -1. */
static long
store_index(const struct init *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (strcmp(in->st[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Says which --url named no store entered at the terminal. */
static void
warn_urls(const struct init *in)
{
	size_t k;

	for (k = 0; k < in->nurl; k++)
		if (store_index(in, in->url[k].name) < 0)
			printf("warning: --url %s: no store %s was entered; "
			    "ignored\n", in->url[k].name, in->url[k].name);
}

/* The interactive questions about the stores. */
static void
ask_stores(struct init *in)
{
	printf("invsync init: first-time setup of %s\n"
	    "Ctrl-C stops at any time; nothing is written before the end.\n",
	    in->path);
	while (in->n < CONF_MAX_STORES) {
		if (in->n >= INIT_MIN_STORES &&
		    !tty_yes("\nAdd another store?", 0))
			break;
		ask_store(in, in->n);
		in->n++;
	}
}

/* ---- locations --------------------------------------------------------- */

/* Index of the location of store s named name (or gid), or -1. */
static long
find_loc(const struct istore *s, const char *name)
{
	uint64_t id = 0;
	size_t k;

	if (strncmp(name, LOC_GID, sizeof(LOC_GID) - 1) == 0)
		id = strtoull(name + sizeof(LOC_GID) - 1, NULL, 10);
	for (k = 0; k < s->nloc; k++)
		if (id != 0 ? s->loc[k].id == id :
		    strcmp(s->loc[k].name, name) == 0)
			return (long)k;
	return -1;
}

/* 1 when location id of store s is in a link already. */
static int
linked(const struct init *in, size_t s, uint64_t id)
{
	size_t g;

	for (g = 0; g < in->nlink; g++)
		if (in->link[g].loc[s] == id)
			return 1;
	return 0;
}

/*
 * Asks which location of store s goes with the primary's location name;
 * returns its id, or 0 to leave it unlinked.
 */
static uint64_t
ask_partner(struct init *in, size_t s, const char *name)
{
	const struct istore *st = &in->st[s];
	size_t k, m = 0, pick[CONF_MAX_LOCLINKS];
	char q[CLIENT_NAME_MAX];

	for (k = 0; k < st->nloc && m < CONF_MAX_LOCLINKS; k++)
		if (!linked(in, s, st->loc[k].id))
			pick[m++] = k;
	if (m == 0)
		return 0;
	printf("\n  %s has no location named \"%s\"; link it to:\n",
	    st->name, log_safe(q, sizeof(q), name, strlen(name)));
	for (k = 0; k < m; k++)
		printf("    %zu) %s\n", k + 1, log_safe(q, sizeof(q),
		    st->loc[pick[k]].name, strlen(st->loc[pick[k]].name)));
	printf("    0) do not sync \"%s\"\n", log_safe(q, sizeof(q), name,
	    strlen(name)));
	k = tty_number("  link to", 1, m);
	return k == 0 ? 0 : st->loc[pick[k - 1]].id;
}

/*
 * Links the primary's location k with its namesake in every other store;
 * asks (interactive, ask set) for a partner where there is none.  Returns 1
 * when linked.
 */
static int
link_one(struct init *in, size_t k, int ask)
{
	const struct istore *p = &in->st[0];
	struct ilink *l = &in->link[in->nlink];
	size_t s;
	long j;

	if (in->nlink == CONF_MAX_LOCLINKS || linked(in, 0, p->loc[k].id))
		return 0;
	memset(l, 0, sizeof(*l));
	l->loc[0] = p->loc[k].id;
	for (s = 1; s < in->n; s++) {
		j = find_loc(&in->st[s], p->loc[k].name);
		if (j >= 0 && !linked(in, s, in->st[s].loc[j].id))
			l->loc[s] = in->st[s].loc[j].id;
		else if (ask)
			l->loc[s] = ask_partner(in, s, p->loc[k].name);
		if (l->loc[s] == 0)
			return 0;
	}
	in->nlink++;
	return 1;
}

/*
 * Links the primary's locations: first those with equal names in every
 * store, by themselves; then, at a terminal, the others as asked.
 */
static void
auto_links(struct init *in)
{
	size_t k;

	for (k = 0; k < in->st[0].nloc; k++)
		link_one(in, k, 0);
	for (k = 0; in->interactive && k < in->st[0].nloc; k++)
		link_one(in, k, 1);
}

/*
 * Links by the --link arguments: a location name or gid per store, in
 * store order, joined by '='.  Returns 0, or -1 after printing why.
 */
static int
flag_links(struct init *in)
{
	char buf[CONF_PATH_MAX * 2], q[CONF_PATH_MAX], qp[CONF_PATH_MAX];
	char *p, *e;
	size_t a, s;
	long j;

	for (a = 0; a < in->nlinkarg; a++) {
		log_safe(q, sizeof(q), in->linkarg[a], strlen(in->linkarg[a]));
		if (snprintf(buf, sizeof(buf), "%s", in->linkarg[a]) >=
		    (int)sizeof(buf)) {
			fprintf(stderr, "invsync init: --link '%s': too long\n",
			    q);
			return -1;
		}
		p = buf;
		for (s = 0; s < in->n; s++) {
			e = strchr(p, '=');
			if ((e == NULL) != (s == in->n - 1)) {
				fprintf(stderr, "invsync init: --link '%s': "
				    "give one location per store (%zu), "
				    "joined by '='\n", q, in->n);
				return -1;
			}
			if (e != NULL)
				*e = '\0';
			tty_trim(p);
			if ((j = find_loc(&in->st[s], p)) < 0 ||
			    linked(in, s, in->st[s].loc[j].id)) {
				fprintf(stderr, "invsync init: --link '%s': "
				    "store %s has no %s location '%s'\n", q,
				    in->st[s].name, j < 0 ? "active" :
				    "unlinked", log_safe(qp, sizeof(qp), p,
				    strlen(p)));
				return -1;
			}
			in->link[in->nlink].loc[s] = in->st[s].loc[j].id;
			if (e != NULL)
				p = e + 1;
		}
		in->nlink++;
	}
	return 0;
}

/* The location of store s with id. */
static const struct client_location *
loc_of(const struct init *in, size_t s, uint64_t id)
{
	size_t k;

	for (k = 0; k < in->st[s].nloc; k++)
		if (in->st[s].loc[k].id == id)
			return &in->st[s].loc[k];
	fatal("init: location %llu of store %zu vanished",
	    (unsigned long long)id, s);
}

/*
 * 1 when a location name can stand in a [locations] line as it is: no
 * '=', no comment mark, no control byte, no blank at either end.
 */
static int
name_writable(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CONF_STR_MAX || name[0] == '#' ||
	    name[0] == ' ' || name[n - 1] == ' ' ||
	    strchr(name, '=') != NULL || strstr(name, " #") != NULL ||
	    strstr(name, "\t#") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* Prints the links and what stays unlinked, to f as the [locations] section. */
static void
print_links(const struct init *in, FILE *f)
{
	const struct client_location *l;
	char q[CLIENT_NAME_MAX];
	size_t g, s, k;

	fprintf(f, "\n# One line per linked group of locations: a location "
	    "name or\n# gid://shopify/Location/N per store, in [store] "
	    "order, joined by '='.\n# Only these locations are synced.\n"
	    "[locations]\n");
	for (g = 0; g < in->nlink; g++) {
		for (s = 0; s < in->n; s++) {
			l = loc_of(in, s, in->link[g].loc[s]);
			if (!name_writable(l->name))
				fprintf(f, "# %s: \"%s\"\n", in->st[s].name,
				    log_safe(q, sizeof(q), l->name,
				    strlen(l->name)));
		}
		for (s = 0; s < in->n; s++) {
			l = loc_of(in, s, in->link[g].loc[s]);
			fprintf(f, "%s", s ? " = " : "");
			if (name_writable(l->name))
				fprintf(f, "%s", l->name);
			else
				fprintf(f, LOC_GID "%llu",
				    (unsigned long long)l->id);
		}
		fprintf(f, "\n");
	}
	for (s = 0; s < in->n; s++)
		for (k = 0; k < in->st[s].nloc; k++)
			if (!linked(in, s, in->st[s].loc[k].id))
				fprintf(f, "# not linked: %s: %s\n",
				    in->st[s].name, log_safe(q, sizeof(q),
				    in->st[s].loc[k].name,
				    strlen(in->st[s].loc[k].name)));
}

/* ---- the configuration ------------------------------------------------- */

static const char sync_comments[] =
"# Defaults, shown for reference; uncomment a line to change it.\n"
"# Poll period: 100ms to 1h.\n"
"#interval = 5s\n"
"# How products of different stores are matched: handle (product handle,\n"
"# then the variant by SKU or options), sku or barcode.\n"
"#match = handle\n"
"# First sighting of a link: primary (copy the first store's quantity to the\n"
"# others), keep (each store's value is its baseline) or min.\n"
"#initial = primary\n"
"# two-way: a change in any store flows to the others; one-way: only the\n"
"# primary's (the first [store]).\n"
"#direction = two-way\n"
"# Pause syncing when more than this percent of the links change largely\n"
"# in one cycle (a mistaken bulk import); 0 disables.\n"
"#guard = 50\n";

/*
 * Writes the whole configuration text to f; staged: the secret files are
 * named by their staged paths (to validate before anything is renamed).
 */
static void
print_conf(const struct init *in, FILE *f, int staged)
{
	size_t i;

	fprintf(f, "# %s: written by \"invsync init\" (invsync.conf(5) "
	    "describes every key).\n# Check it with:  invsync -c %s check\n"
	    "# A mistake is reported as FILE:LINE: message and invsync exits "
	    "78.\n\n[sync]\n# Where the state (links, baselines, pending "
	    "writes, audit log) lives.\nstate_dir = %s\n", in->path, in->path,
	    in->state_dir);
	if (in->ca_file[0] != '\0')
		fprintf(f, "# CA bundle (PEM) for TLS.\nca_file = %s\n",
		    in->ca_file);
	else
		fprintf(f, "# CA bundle (PEM) for TLS; unset: the first of a "
		    "built-in search list.\n#ca_file = "
		    "/etc/ssl/certs/ca-certificates.crt\n");
	fprintf(f, "%s\n# One [store NAME] section per store; the first is "
	    "the primary.\n# token_file: an Admin API access token; or "
	    "client_id and client_secret_file:\n# an app's client "
	    "credentials.  Secret files have mode 600; a relative name is\n"
	    "# relative to this file's directory (or, bare, in systemd's "
	    "$CREDENTIALS_DIRECTORY).\n", sync_comments);
	for (i = 0; i < in->n; i++) {
		fprintf(f, "%s", i ? "\n" : "");
		print_store(in, i, f, staged);
	}
	print_links(in, f);
}

/* Renders the configuration into *text (free it); staged as print_conf(). */
static size_t
render(const struct init *in, char **text, int staged)
{
	size_t len = 0;
	FILE *f;

	*text = NULL;
	if ((f = open_memstream(text, &len)) == NULL)
		fatal("open_memstream: %s", strerror(errno));
	print_conf(in, f, staged);
	if (fclose(f) != 0)
		fatal("open_memstream: %s", strerror(errno));
	return len;
}

/*
 * Validates the configuration with the staged secrets, then renames the
 * secrets and the configuration into place.  Returns 0, or -1 (printed;
 * nothing renamed when the validation failed).
 */
static int
commit(struct init *in)
{
	char *text, full[CONF_PATH_MAX * 2], why[STAGE_PATH_MAX * 3];
	struct conf *c;
	size_t len, i;
	int r;

	len = render(in, &text, 1);
	c = parse_text(in, text, len);
	free(text);
	if (c == NULL)
		return -1;
	free(c);
	len = render(in, &text, 0);
	r = stage_write(SLOT_CONF, in->dir, text, len, in->shared ? 0640 :
	    0600, in->shared ? 0 : (uid_t)-1, in->gid, why, sizeof(why));
	free(text);
	if (r == -1)
		goto fail;
	for (i = 0; i < in->n; i++) {
		snprintf(full, sizeof(full), "%s%s", in->dir, in->st[i].file);
		if (stage_commit(i, full, why, sizeof(why)) == -1)
			goto fail;
		printf("wrote %s (mode 600)\n", full);
	}
	if (stage_commit(SLOT_CONF, in->path, why, sizeof(why)) == -1)
		goto fail;
	if (stage_sync_dir(in->dir, why, sizeof(why)) == -1)
		fprintf(stderr, "invsync init: warning: %s\n", why);
	printf("wrote %s (mode %s)\n", in->path, in->shared ? "640" : "600");
	return 0;
fail:
	fprintf(stderr, "invsync init: %s\n", why);
	return -1;
}

/* ---- flags ------------------------------------------------------------- */

/* Prints a flag error and the usage; returns 2. */
static int
bad_flag(const char *fmt, const char *a, const char *b)
{
	char qa[CONF_PATH_MAX], qb[CONF_PATH_MAX];

	fprintf(stderr, "invsync init: ");
	fprintf(stderr, fmt, log_safe(qa, sizeof(qa), a, strlen(a)),
	    log_safe(qb, sizeof(qb), b, strlen(b)));
	fprintf(stderr, "\n%s", usage_text);
	return INIT_EXIT_USAGE;
}

/*
 * Splits NAME=VALUE (the value of flag opt) into name (CONF_NAME_MAX)
 * and val.  Returns 0, or 2 after printing why.
 */
static int
split_kv(const char *opt, const char *arg, char *name, const char **val)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	if (eq == NULL || n == 0 || n >= CONF_NAME_MAX || eq[1] == '\0')
		return bad_flag("%s needs NAME=VALUE, not '%s'", opt, arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	if (!name_ok(name))
		return bad_flag("%s: '%s' is not a store name (letters, "
		    "digits, '_', '-')", opt, name);
	*val = eq + 1;
	return 0;
}

/* --store NAME=SHOP */
static int
flag_store(struct init *in, const char *arg)
{
	char name[CONF_NAME_MAX], why[512];
	const char *val;
	int r;

	if ((r = split_kv("--store", arg, name, &val)) != 0)
		return r;
	if (store_index(in, name) >= 0)
		return bad_flag("--store %s given twice%s", name, "");
	if (in->n == CONF_MAX_STORES)
		return bad_flag("at most %s stores%s", "8", "");
	if (norm_shop(val, in->st[in->n].shop, why, sizeof(why)) == -1)
		return bad_flag("--store %s: %s", name, why);
	snprintf(in->st[in->n].name, CONF_NAME_MAX, "%s", name);
	in->n++;
	return 0;
}

/* --token-file, --client-id, --client-secret-file: NAME=VALUE after --store. */
static int
flag_store_kv(struct init *in, const char *opt, const char *arg)
{
	char name[CONF_NAME_MAX];
	const char *val;
	struct istore *s;
	long i;
	int r;

	if ((r = split_kv(opt, arg, name, &val)) != 0)
		return r;
	if ((i = store_index(in, name)) < 0)
		return bad_flag("no store %s yet: give --store %s=SHOP before "
		    "it", name, name);
	s = &in->st[i];
	if (strcmp(opt, "--client-id") == 0) {
		if (!word_ok(val, CONF_STR_MAX))
			return bad_flag("--client-id %s: must be one word of "
			    "printable ASCII%s", name, "");
		snprintf(s->client_id, sizeof(s->client_id), "%s", val);
		return 0;
	}
	if (s->src[0] != '\0')
		return bad_flag("store %s has a secret file already (%s)",
		    name, opt);
	if (strlen(val) >= sizeof(s->src))
		return bad_flag("%s %s: path too long", opt, name);
	snprintf(s->src, sizeof(s->src), "%s", val);
	s->src_token = strcmp(opt, "--token-file") == 0;
	return 0;
}

/* --url NAME=URL */
static int
flag_url(struct init *in, const char *arg)
{
	struct iurl *u;
	const char *val;
	size_t k;
	int r;

	if (in->nurl == CONF_MAX_STORES)
		return bad_flag("too many --url flags%s%s", "", "");
	u = &in->url[in->nurl];
	if ((r = split_kv("--url", arg, u->name, &val)) != 0)
		return r;
	if (strncmp(val, "https://", 8) != 0 || !word_ok(val, CONF_PATH_MAX))
		return bad_flag("--url %s: must be https://HOST[:PORT][/PATH], "
		    "not '%s'", u->name, val);
	for (k = 0; k < in->nurl; k++)
		if (strcmp(in->url[k].name, u->name) == 0)
			return bad_flag("--url %s given twice%s", u->name, "");
	snprintf(u->url, sizeof(u->url), "%s", val);
	in->nurl++;
	return 0;
}

/* --ca-file and --state-dir: an absolute path without blanks. */
static int
flag_path(const char *opt, const char *val, char *dst)
{
	if (val[0] != '/' || !word_ok(val, CONF_PATH_MAX))
		return bad_flag("%s must be an absolute path without blanks, "
		    "not '%s'", opt, val);
	snprintf(dst, CONF_PATH_MAX, "%s", val);
	return 0;
}

/* Parses the flags into in.  Returns 0, or 2 after printing why. */
static int
parse_flags(struct init *in, int argc, char **argv)
{
	const char *o, *v;
	int i, r = 0;

	for (i = 0; i < argc && r == 0; i++) {
		o = argv[i];
		if (strcmp(o, "--force") == 0) {
			in->force = 1;
			continue;
		}
		if (strcmp(o, "--no-check") == 0) {
			in->check = 0;
			continue;
		}
		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (strncmp(o, "--", 2) != 0 || i + 1 >= argc)
			return bad_flag("unknown flag or missing value: '%s'%s",
			    o, "");
		v = argv[++i];
		if (strcmp(o, "--store") == 0)
			r = flag_store(in, v);
		else if (strcmp(o, "--token-file") == 0 ||
		    strcmp(o, "--client-id") == 0 ||
		    strcmp(o, "--client-secret-file") == 0)
			r = flag_store_kv(in, o, v);
		else if (strcmp(o, "--url") == 0)
			r = flag_url(in, v);
		else if (strcmp(o, "--link") == 0) {
			if (in->nlinkarg == CONF_MAX_LOCLINKS)
				return bad_flag("too many --link flags%s%s",
				    "", "");
			in->linkarg[in->nlinkarg++] = v;
		} else if (strcmp(o, "--ca-file") == 0)
			r = flag_path(o, v, in->ca_file);
		else if (strcmp(o, "--state-dir") == 0)
			r = flag_path(o, v, in->state_dir);
		else
			return bad_flag("unknown flag '%s'%s", o, "");
	}
	return r;
}

/*
 * Checks the flags as a whole: interactive or not, every store complete,
 * every --url naming a store.  Returns 0, or 2 after printing why.
 */
static int
check_flags(struct init *in)
{
	struct istore *s;
	size_t i, k;

	in->interactive = in->n == 0;
	if (in->interactive && in->nlinkarg > 0)
		return bad_flag("--link goes with --store%s%s", "", "");
	if (in->interactive)
		return 0;
	if (in->n < INIT_MIN_STORES)
		return bad_flag("give at least two stores (--store NAME=SHOP)"
		    "%s%s", "", "");
	for (i = 0; i < in->n; i++) {
		s = &in->st[i];
		if (s->src[0] == '\0')
			return bad_flag("store %s needs --token-file %s=FILE, "
			    "or --client-id and --client-secret-file",
			    s->name, s->name);
		if (s->src_token && s->client_id[0] != '\0')
			return bad_flag("store %s: --token-file and "
			    "--client-id exclude each other; give one%s",
			    s->name, "");
		if (!s->src_token && s->client_id[0] == '\0')
			return bad_flag("store %s: --client-secret-file needs "
			    "--client-id %s=ID", s->name, s->name);
		apply_url(in, i);
	}
	for (k = 0; k < in->nurl; k++)
		if (store_index(in, in->url[k].name) < 0)
			return bad_flag("--url %s: no --store %s",
			    in->url[k].name, in->url[k].name);
	return 0;
}

/*
 * The stores of the flags: each secret read from its file, staged, and the
 * store reached.  Returns 0, or -1 after printing why.
 */
static int
flag_stores(struct init *in)
{
	struct istore *s;
	char why[CONF_PATH_MAX * 3], q[CONF_PATH_MAX];
	const char *bad;
	size_t i;

	for (i = 0; i < in->n; i++) {
		s = &in->st[i];
		log_safe(q, sizeof(q), s->src, strlen(s->src));
		if (read_src(s->src, s->secret, sizeof(s->secret), why,
		    sizeof(why)) == -1) {
			fprintf(stderr, "invsync init: store %s: cannot read "
			    "%s: %s\n", s->name, q, why);
			return -1;
		}
		if ((bad = secret_problem(s->secret)) != NULL) {
			memset(s->secret, 0, sizeof(s->secret));
			fprintf(stderr, "invsync init: store %s: the secret "
			    "in %s is refused: %s\n", s->name, q, bad);
			return -1;
		}
		if (secret_name(in, i, why, sizeof(why)) == -1) {
			fprintf(stderr, "invsync init: store %s: %s\n",
			    s->name, why);
			return -1;
		}
		if (stage_secret(in, i) == -1)
			return -1;
		if (reach(in, i, why, sizeof(why)) == -1) {
			fprintf(stderr, "invsync init: store %s (%s): %s\n",
			    s->name, s->shop, why);
			return -1;
		}
		printf("store %s (%s): %zu active location(s)\n", s->name,
		    s->shop, s->nloc);
	}
	return 0;
}

/* ---- the command ------------------------------------------------------- */

/* Says which locations are linked. */
static void
say_links(const struct init *in)
{
	char q[CLIENT_NAME_MAX];
	size_t g, s;

	printf("\nLocations linked (synced):\n");
	for (g = 0; g < in->nlink; g++) {
		printf("  ");
		for (s = 0; s < in->n; s++) {
			const struct client_location *l =
			    loc_of(in, s, in->link[g].loc[s]);

			printf("%s%s: %s", s ? " = " : "", in->st[s].name,
			    log_safe(q, sizeof(q), l->name, strlen(l->name)));
		}
		printf("\n");
	}
}

/* Runs check on the written configuration; returns its status. */
static int
final_check(const struct init *in)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	struct conf_errors *e = xcalloc(1, sizeof(*e));
	size_t i;
	int r;

	printf("\nchecking: invsync -c %s check\n\n", in->path);
	fflush(stdout);
	if (conf_load(in->path, c, e) == -1) {
		for (i = 0; i < e->n; i++)
			fprintf(stderr, "%s\n", e->msg[i]);
		r = 1;
	} else
		r = report_check(c);
	free(e);
	free(c);
	return r;
}

/* The next step: starting the service this config belongs to. */
static void
say_next(const struct init *in, int r)
{
	const char *unit = strcmp(in->stem, INIT_DEFAULT_STEM) == 0 ?
	    "invsync" : NULL;
	char inst[CONF_PATH_MAX + 16];

	if (strncmp(in->path, "/etc/invsync/", 13) != 0 ||
	    strchr(in->path + 13, '/') != NULL)
		return;
	if (unit == NULL && name_ok(in->stem)) {
		snprintf(inst, sizeof(inst), "invsync@%s", in->stem);
		unit = inst;
	}
	if (unit == NULL)
		return;
	if (r == 0)
		printf("\nstart syncing: sudo systemctl enable --now %s\n",
		    unit);
	else
		printf("\nwhen check passes: sudo systemctl enable --now %s\n",
		    unit);
}

int
init_run(const char *path, int argc, char **argv)
{
	struct init *in = xcalloc(1, sizeof(*in));
	size_t i;
	int r;

	in->path = path;
	in->check = 1;
	if ((r = parse_flags(in, argc, argv)) != 0 ||
	    (r = check_flags(in)) != 0) {
		free(in);
		return r;
	}
	if (in->interactive && !isatty(STDIN_FILENO)) {
		free(in);
		fprintf(stderr, "invsync init: standard input is not a "
		    "terminal: give the stores as flags (--store ...) for "
		    "scripts\n");
		return 1;
	}
	if (prepare(in) != 0) {
		free(in);
		return 1;
	}
	tty_init(interrupted, input_ended);
	if (http_global_init() == -1)
		quit("cannot start the HTTP library");
	if (in->interactive) {
		ask_stores(in);
		warn_urls(in);
	}
	else if (flag_stores(in) == -1)
		quit("a store could not be used");
	if (in->nlinkarg > 0) {
		if (flag_links(in) == -1)
			quit("a --link was refused");
	} else
		auto_links(in);
	if (in->nlink == 0)
		quit(in->interactive ? "no location is linked, so nothing "
		    "would sync" : "no location has the same name in every "
		    "store: link them with --link 'A=B'");
	say_links(in);
	printf("\n");
	if (commit(in) == -1)
		quit("writing failed");
	r = in->check ? final_check(in) : 0;
	if (!in->check)
		printf("next: invsync -c %s check\n", path);
	say_next(in, r);
	for (i = 0; i < in->n; i++)
		free(in->st[i].loc);
	free(in);
	return r;
}
