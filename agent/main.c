/*
 * main.c: the command line of docs/design.md §2: options, the configuration,
 * signals, and dispatch to the commands.
 *
 * Exit status: 0 ok, 1 runtime failure (or problems found by check),
 * 2 usage, 78 configuration error (EX_CONFIG: systemd does not restart).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "http.h"
#include "init.h"
#include "log.h"
#include "report.h"
#include "state.h"
#include "util.h"

#define EXIT_USAGE	2
#define EXIT_CONFIG	78
#define DEFAULT_CONFIG	"/etc/invsync/invsync.conf"
#define LOG_DEFAULT_N	20

static volatile int stop, reload;

static const char usage_text[] =
"usage: invsync [-c FILE] [-v|-q] COMMAND [ARGS]\n"
"  init [--force] ...   first-time setup: asks for the stores, writes the\n"
"                       config and secret files, runs check (invsync(8))\n"
"  run [--dry-run]      poll and sync until SIGTERM/SIGINT\n"
"  once [--dry-run]     one full cycle over all stores, then exit\n"
"  check                validate the config, reach every store, report\n"
"  status [--json]      sync state: stores, links, pending writes, pause\n"
"  log [-n N] [--json]  the last N changes (audit log), newest last\n"
"  explain WHAT [--json] why a handle, SKU, barcode or link key syncs or not\n"
"  pause | resume       stop / restart applying writes\n"
"  version              versions of invsync and its libraries\n"
"options:\n"
"  -c FILE   configuration (default $INVSYNC_CONFIG, else " DEFAULT_CONFIG ")\n"
"  -v        more detail (-vv: debug); -q: warnings and errors only\n"
"  --dry-run plan and log; write nothing to any store, keep the state\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static void
set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Reads the configuration; prints every error and returns NULL on any. */
static struct conf *
read_conf(const char *path)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	struct conf_errors *errs = xcalloc(1, sizeof(*errs));
	size_t i;

	if (conf_load(path, c, errs) == -1) {
		for (i = 0; i < errs->n; i++)
			fprintf(stderr, "%s\n", errs->msg[i]);
		if (errs->total > errs->n)
			fprintf(stderr, "%s: %zu more error(s) not shown\n",
			    path, errs->total - errs->n);
		free(c);
		c = NULL;
	}
	free(errs);
	return c;
}

/* Loads the configuration, or exits 78 after printing every error. */
static struct conf *
load_conf(const char *path)
{
	struct conf *c = read_conf(path);

	if (c == NULL)
		exit(EXIT_CONFIG);
	return c;
}

static int
cmd_version(void)
{
	printf("invsync %s (%s, static)\n", INVSYNC_VERSION, INVSYNC_ARCH);
	printf("%s\n", http_version());
	printf("%s\n", state_version());
	printf("BearSSL 0.6, jsmn 1.1.0 (strict)\n");
	printf("built from Debian source packages: %s\n", INVSYNC_DEPS);
	return 0;
}

static int
cmd_check(const char *path)
{
	struct conf *c = load_conf(path);
	int r;

	printf("# %s: configuration is valid\n", path);
	conf_print(c, stdout);
	printf("\n");
	fflush(stdout);
	r = report_check(c);
	free(c);
	return r;
}

/* run and once.  SIGHUP reloads the configuration between cycles. */
static int
cmd_sync(const char *path, int once, int dry_run)
{
	struct conf *c = load_conf(path), *n;
	struct engine_opts o = { once, dry_run, &reload };
	int r;

	set_signals();
	while ((r = engine_run(c, &o, &stop)) == ENGINE_RELOAD) {
		reload = 0;
		if ((n = read_conf(path)) == NULL) {
			log_err("%s has errors (above): keeping the running "
			    "configuration", path);
			continue;
		}
		free(c);
		c = n;
		log_notice("configuration reloaded from %s", path);
	}
	free(c);
	return r;
}

/* Parses "log [-n N] [--json]".  Exits 2 on anything else. */
static void
log_args(int argc, char **argv, size_t *n, int *json)
{
	int i;

	*n = LOG_DEFAULT_N;
	*json = 0;
	for (i = 0; i < argc; i++) {
		char *end;
		unsigned long v;

		if (strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			v = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || argv[i][0] < '0' ||
			    argv[i][0] > '9' || v == 0 || v > AUDIT_MAX)
				usage();
			*n = v;
		} else
			usage();
	}
}

/*
 * Parses "explain WHAT [--json]" (in any order; "--" ends the options, so
 * a WHAT of "--json" can be asked for).  Exits 2 on anything else.
 */
static void
explain_args(int argc, char **argv, const char **what, int *json)
{
	int i, opts = 1;

	*what = NULL;
	*json = 0;
	for (i = 0; i < argc; i++) {
		if (opts && strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if (opts && strcmp(argv[i], "--") == 0)
			opts = 0;
		else if (*what == NULL)
			*what = argv[i];
		else
			usage();
	}
	if (*what == NULL)
		usage();
}

static int
cmd_explain(const char *path, int argc, char **argv)
{
	struct conf *c;
	const char *what;
	int json, r;

	explain_args(argc, argv, &what, &json);
	c = load_conf(path);
	r = report_explain(c, what, json);
	free(c);
	return r;
}

/* status, log, pause, resume: a config, one report, and the config freed. */
static int
report(const char *path, const char *cmd, size_t n, int json)
{
	struct conf *c = load_conf(path);
	int r;

	if (strcmp(cmd, "status") == 0)
		r = report_status(c, json);
	else if (strcmp(cmd, "log") == 0)
		r = report_log(c, n, json);
	else
		r = report_pause(c, cmd[0] == 'p');
	free(c);
	return r;
}

static int
dispatch(const char *path, const char *cmd, int argc, char **argv,
    int dry_run)
{
	int json = 0;
	size_t n = 0;

	if (strcmp(cmd, "init") == 0 && !dry_run)
		return init_run(path, argc, argv);
	if (dry_run && strcmp(cmd, "run") != 0 && strcmp(cmd, "once") != 0)
		usage();
	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "once") == 0) {
		if (argc == 1 && strcmp(argv[0], "--dry-run") == 0)
			dry_run = 1, argc = 0;
		if (argc != 0)
			usage();
		return cmd_sync(path, cmd[0] == 'o', dry_run);
	}
	if (strcmp(cmd, "status") == 0) {
		if (argc == 1 && strcmp(argv[0], "--json") == 0)
			json = 1;
		else if (argc != 0)
			usage();
		return report(path, cmd, 0, json);
	}
	if (strcmp(cmd, "log") == 0) {
		log_args(argc, argv, &n, &json);
		return report(path, cmd, n, json);
	}
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(path, argc, argv);
	if (argc != 0)
		usage();
	if (strcmp(cmd, "check") == 0)
		return cmd_check(path);
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
		return report(path, cmd, 0, 0);
	if (strcmp(cmd, "version") == 0)
		return cmd_version();
	usage();
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("INVSYNC_CONFIG");
	int i, verbosity = 0, dry_run = 0;

	if (path == NULL || path[0] == '\0')
		path = DEFAULT_CONFIG;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			verbosity++;
		else if (strcmp(argv[i], "-vv") == 0)
			verbosity += 2;
		else if (strcmp(argv[i], "-q") == 0)
			verbosity = -1;
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else
			usage();
	}
	if (i >= argc)
		usage();
	log_init(verbosity);
	return dispatch(path, argv[i], argc - i - 1, argv + i + 1, dry_run);
}
