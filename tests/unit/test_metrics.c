/*
 * test_metrics.c: drives the pure half of agent/metrics.c: the latency
 * histogram's buckets, the exposition text of a snapshot against golden
 * output (label values escaped, HELP and TYPE before every family), and the
 * atomic file write, including the ways a path fails (no directory, a
 * directory in its place, a read-only directory): a clear reason, no file
 * left behind.  The daemon's use of it is tests/e2e/test_metrics.py's.
 *
 * Works in a mkdtemp(3) directory that it removes at the end.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"

static char tmpdir[] = "/tmp/test_metrics.XXXXXX";

/* ---- the histogram ------------------------------------------------------- */

static void
test_hist(void)
{
	struct metrics_hist h;

	memset(&h, 0, sizeof(h));
	metrics_hist_observe(&h, 0.1);		/* on a bound: in it */
	metrics_hist_observe(&h, 0.11);
	metrics_hist_observe(&h, -3);		/* a clock step back: 0 */
	metrics_hist_observe(&h, NAN);
	metrics_hist_observe(&h, 7200);		/* past the last bound */
	CHECK_INT("hist: le 0.1 holds the bound, 0 and NaN", h.count[0], 3);
	CHECK_INT("hist: le 0.25 is cumulative", h.count[1], 4);
	CHECK_INT("hist: le 3600 leaves out 7200",
	    h.count[METRICS_LATENCY_BUCKETS - 1], 4);
	CHECK_INT("hist: n counts every observation", h.n, 5);
	CHECK("hist: sum", fabs(h.sum - 7200.21) < 1e-9);
	CHECK("hist: bounds ascend", metrics_latency_le[0] > 0 &&
	    metrics_latency_le[1] > metrics_latency_le[0] &&
	    metrics_latency_le[METRICS_LATENCY_BUCKETS - 1] == 3600);
}

/* ---- the exposition text ------------------------------------------------- */

static const char golden[] =
	"# HELP invsync_build_info The invsync version that wrote this file "
	"(always 1).\n"
	"# TYPE invsync_build_info gauge\n"
	"invsync_build_info{version=\"1.2.3\"} 1\n"
	"# HELP invsync_links Linked levels by state: in_step (every store "
	"agrees), waiting (writes owed), not_synced (fewer than two stores "
	"can sync it).\n"
	"# TYPE invsync_links gauge\n"
	"invsync_links{state=\"in_step\"} 10\n"
	"invsync_links{state=\"waiting\"} 2\n"
	"invsync_links{state=\"not_synced\"} 1\n"
	"# HELP invsync_paused 1 when writing is paused (the absurd-change "
	"guard tripped, or invsync pause), else 0; invsync resume ends it.\n"
	"# TYPE invsync_paused gauge\n"
	"invsync_paused 1\n"
	"# HELP invsync_pending_batch_age_seconds Age of the oldest write "
	"batch not yet settled, 0 when none.\n"
	"# TYPE invsync_pending_batch_age_seconds gauge\n"
	"invsync_pending_batch_age_seconds 12.500\n"
	"# HELP invsync_uncertain_writes_total Write batches whose answer "
	"never came, settled as uncertain (see invsync log).\n"
	"# TYPE invsync_uncertain_writes_total counter\n"
	"invsync_uncertain_writes_total 3\n"
	"# HELP invsync_cycle_duration_seconds How long the last sync cycle "
	"took.\n"
	"# TYPE invsync_cycle_duration_seconds gauge\n"
	"invsync_cycle_duration_seconds 0.250\n"
	"# HELP invsync_last_cycle_timestamp_seconds When the last sync cycle "
	"ended, as a Unix time.\n"
	"# TYPE invsync_last_cycle_timestamp_seconds gauge\n"
	"invsync_last_cycle_timestamp_seconds 1800000000.123\n"
	"# HELP invsync_polls_total Level polls of a store by result: ok, "
	"failed, throttled (failed after THROTTLED answers).\n"
	"# TYPE invsync_polls_total counter\n"
	"invsync_polls_total{store=\"eu\",result=\"ok\"} 7\n"
	"invsync_polls_total{store=\"eu\",result=\"failed\"} 1\n"
	"invsync_polls_total{store=\"eu\",result=\"throttled\"} 2\n"
	"invsync_polls_total{store=\"a\\\"b\\\\c\\nd\",result=\"ok\"} 0\n"
	"invsync_polls_total{store=\"a\\\"b\\\\c\\nd\",result=\"failed\"} 0\n"
	"invsync_polls_total{store=\"a\\\"b\\\\c\\nd\",result=\"throttled\"} 0\n"
	"# HELP invsync_writes_total Write batches sent to a store by result: "
	"ok (applied), throttled (refused by the rate limit, not run), failed "
	"(refused, stale, or no answer).\n"
	"# TYPE invsync_writes_total counter\n"
	"invsync_writes_total{store=\"eu\",result=\"ok\"} 4\n"
	"invsync_writes_total{store=\"eu\",result=\"failed\"} 5\n"
	"invsync_writes_total{store=\"eu\",result=\"throttled\"} 6\n"
	"invsync_writes_total{store=\"a\\\"b\\\\c\\nd\",result=\"ok\"} 0\n"
	"invsync_writes_total{store=\"a\\\"b\\\\c\\nd\",result=\"failed\"} 0\n"
	"invsync_writes_total{store=\"a\\\"b\\\\c\\nd\",result=\"throttled\"} 0\n"
	"# HELP invsync_api_cost_points_total Shopify API cost points spent on "
	"a store (actualQueryCost).\n"
	"# TYPE invsync_api_cost_points_total counter\n"
	"invsync_api_cost_points_total{store=\"eu\"} 1234\n"
	"invsync_api_cost_points_total{store=\"a\\\"b\\\\c\\nd\"} 0\n"
	"# HELP invsync_last_poll_success_timestamp_seconds When the last good "
	"level poll of a store started, as a Unix time; 0 when never.\n"
	"# TYPE invsync_last_poll_success_timestamp_seconds gauge\n"
	"invsync_last_poll_success_timestamp_seconds{store=\"eu\"} "
	"1799999999.001\n"
	"invsync_last_poll_success_timestamp_seconds{store=\"a\\\"b\\\\c\\nd\"} "
	"0.000\n"
	"# HELP invsync_propagation_latency_seconds Seconds from a change seen "
	"in one store to its write applied in this one.\n"
	"# TYPE invsync_propagation_latency_seconds histogram\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"0.1\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"0.25\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"0.5\"} 1\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"1\"} 1\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"2.5\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"5\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"10\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"30\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"60\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"300\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"900\"} 2\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"3600\"} "
	"3\n"
	"invsync_propagation_latency_seconds_bucket{store=\"eu\",le=\"+Inf\"} "
	"3\n"
	"invsync_propagation_latency_seconds_sum{store=\"eu\"} 3602.500\n"
	"invsync_propagation_latency_seconds_count{store=\"eu\"} 3\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"0.1\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"0.25\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"0.5\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"1\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"2.5\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"5\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"10\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"30\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"60\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"300\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"900\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"3600\"} 0\n"
	"invsync_propagation_latency_seconds_bucket{store=\"a\\\"b\\\\c\\nd\","
	"le=\"+Inf\"} 0\n"
	"invsync_propagation_latency_seconds_sum{store=\"a\\\"b\\\\c\\nd\"} "
	"0.000\n"
	"invsync_propagation_latency_seconds_count{store=\"a\\\"b\\\\c\\nd\"} "
	"0\n";

/* Prints the first line where got and want part, for a failed golden. */
static void
show_difference(const char *got, const char *want)
{
	size_t line = 1;
	const char *g = got, *w = want;

	while (*g != '\0' && *g == *w) {
		if (*g == '\n')
			line++;
		g++, w++;
	}
	while (g > got && g[-1] != '\n')
		g--, w--;
	printf("    line %zu\n    got:  %.*s\n    want: %.*s\n", line,
	    (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
}

static void
test_render(void)
{
	struct metrics_snap m;
	struct metrics_hist h;
	char *text;
	size_t len;

	memset(&m, 0, sizeof(m));
	memset(&h, 0, sizeof(h));
	metrics_hist_observe(&h, 0.5);
	metrics_hist_observe(&h, 2);
	metrics_hist_observe(&h, 3600);
	m.version = "1.2.3";
	m.in_step = 10;
	m.waiting = 2;
	m.not_synced = 1;
	m.paused = 1;
	m.uncertain = 3;
	m.pending_age = 12.5;
	m.cycle_seconds = 0.25;
	m.cycle_end_ms = 1800000000123LL;
	m.nstores = 2;
	m.s[0].name = "eu";
	m.s[0].polls[METRICS_OK] = 7;
	m.s[0].polls[METRICS_FAILED] = 1;
	m.s[0].polls[METRICS_THROTTLED] = 2;
	m.s[0].writes[METRICS_OK] = 4;
	m.s[0].writes[METRICS_FAILED] = 5;
	m.s[0].writes[METRICS_THROTTLED] = 6;
	m.s[0].cost = 1234;
	m.s[0].last_poll_ms = 1799999999001LL;
	m.s[0].latency = &h;
	m.s[1].name = "a\"b\\c\nd";	/* escaped, never trusted */
	text = metrics_render(&m, &len);
	CHECK_INT("render: length", len, strlen(text));
	CHECK("render: golden", strcmp(text, golden) == 0);
	if (strcmp(text, golden) != 0)
		show_difference(text, golden);
	free(text);
}

/* ---- the file ------------------------------------------------------------ */

/* The number of entries in dir but . and .., or -1. */
static int
entries(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		n += strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static int
read_back(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sz - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static int	unwritable_fails(const char *path);

static void
test_file(void)
{
	char path[512], dir[256], why[512], buf[64];
	struct stat sb;
	int r;

	snprintf(path, sizeof(path), "%s/invsync.prom", tmpdir);
	umask(077);	/* the file is 0644 whatever the umask */
	r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
	CHECK_INT("file: written", r, 0);
	read_back(path, buf, sizeof(buf));
	CHECK_STR("file: content", buf, "a 1\n");
	CHECK("file: mode 0644", stat(path, &sb) == 0 &&
	    (sb.st_mode & 0777) == 0644);
	r = metrics_write_file(path, "b 2\n", 4, why, sizeof(why));
	read_back(path, buf, sizeof(buf));
	CHECK("file: replaced", r == 0 && strcmp(buf, "b 2\n") == 0);
	CHECK_INT("file: no temporary file left", entries(tmpdir), 1);

	snprintf(path, sizeof(path), "%s/nodir/invsync.prom", tmpdir);
	r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
	CHECK_INT("file: no directory fails", r, -1);
	CHECK("file: no directory: why names the path and the error",
	    strstr(why, path) != NULL &&
	    strstr(why, strerror(ENOENT)) != NULL);

	snprintf(path, sizeof(path), "%s/invsync.prom/x.prom", tmpdir);
	r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
	CHECK("file: a file for a directory fails with ENOTDIR", r == -1 &&
	    strstr(why, strerror(ENOTDIR)) != NULL);

	snprintf(dir, sizeof(dir), "%s/adir", tmpdir);
	mkdir(dir, 0755);
	r = metrics_write_file(dir, "a 1\n", 4, why, sizeof(why));
	CHECK_INT("file: a directory in its place fails", r, -1);
	CHECK("file: a directory: why says so", strstr(why,
	    "is a directory, not a regular file") != NULL);
	CHECK_INT("file: a directory: no temporary file", entries(tmpdir), 2);

	/* what a rename would replace: a FIFO as /dev/null, a symlink */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	mkfifo(path, 0600);
	r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
	CHECK("file: a FIFO is left alone", r == -1 && strstr(why, "a FIFO") !=
	    NULL && stat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
	unlink(path);
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	symlink("invsync.prom", path);
	r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
	CHECK("file: a symbolic link is left alone", r == -1 &&
	    strstr(why, "a symbolic link") != NULL &&
	    lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode));
	unlink(path);
	CHECK_INT("file: nothing else left", entries(tmpdir), 2);

	chmod(dir, 0555);
	snprintf(path, sizeof(path), "%s/invsync.prom", dir);
	CHECK("file: read-only directory fails with EACCES",
	    unwritable_fails(path));
	chmod(dir, 0755);
	rmdir(dir);
}

/*
 * Whether writing path, in a directory of mode 0555, fails with EACCES.
 * Root writes anywhere, so as root the write is tried by a child that is
 * nobody (65534), with tmpdir opened to it for the moment.
 */
static int
unwritable_fails(const char *path)
{
	char why[256];
	pid_t pid;
	int st, r;

	if (geteuid() != 0)
		return metrics_write_file(path, "a 1\n", 4, why,
		    sizeof(why)) == -1 && strstr(why, strerror(EACCES)) != NULL;
	chmod(tmpdir, 0711);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		r = metrics_write_file(path, "a 1\n", 4, why, sizeof(why));
		_exit(r == -1 && strstr(why, strerror(EACCES)) != NULL ? 0 : 1);
	}
	r = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
	chmod(tmpdir, 0700);
	return r;
}

int
main(void)
{
	char path[256];

	if (mkdtemp(tmpdir) == NULL) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_hist();
	test_render();
	test_file();
	snprintf(path, sizeof(path), "%s/invsync.prom", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return check_exit();
}
