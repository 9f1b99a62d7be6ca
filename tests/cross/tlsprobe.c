/*
 * tlsprobe.c: end-to-end check of the static third-party stack on one
 * architecture (make cross-test): an HTTPS POST with libcurl over BearSSL,
 * verified against the CA file given on the command line; the JSON reply
 * parsed with jsmn (JSMN_STRICT); its "token" string stored in LMDB and read
 * back.  It prints one line per step, and the handshake timing with the count
 * of "blind" waits (see perform()): more than 0 means the BearSSL handshake
 * stall of curl 7.88.1 (docs/build.md §7.1) is back.
 *
 * Usage: tlsprobe URL CAFILE DBDIR
 * Exit: 0 all steps passed; 1 usage or setup; 3 curl failed (the line
 * "tlsprobe: curl error N: MESSAGE" names the code and the error buffer);
 * 4 HTTP status not 200; 5 bad JSON; 6 LMDB failed.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <lmdb.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define MAX_BODY	65536
#define MAX_TOKENS	64
#define TIMEOUT_S	20L

struct body {
	char	buf[MAX_BODY + 1];
	size_t	len;
};

static size_t	on_write(char *, size_t, size_t, void *);
static CURLcode	perform(CURL *, int *);
static double	cpu_seconds(void);
static double	wall_seconds(void);
static int	json_token(const char *, size_t, char *, size_t);
static int	lmdb_roundtrip(const char *, const char *);

/* Appends to the body; returning less than asked makes curl fail (too big). */
static size_t
on_write(char *p, size_t sz, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = sz * n;

	if (len > MAX_BODY - b->len)
		return 0;
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

/*
 * Runs the transfer on a multi handle, waiting the way curl_easy_perform()
 * does, and counts blind waits: the TLS handshake is not finished and curl
 * names no socket to wait on, so the wait can only end by its timeout.
 * (curl 7.88.1's BearSSL backend did this on every handshake round trip.)
 * Returns the transfer's result; *blind gets the count.
 */
static CURLcode
perform(CURL *h, int *blind)
{
	CURLM *m;
	CURLMsg *msg;
	CURLcode rc = CURLE_FAILED_INIT;
	fd_set r, w, e;
	double app;
	int running = 1, left, maxfd;

	*blind = 0;
	if ((m = curl_multi_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(m, h) != CURLM_OK) {
		curl_multi_cleanup(m);
		return CURLE_FAILED_INIT;
	}
	for (;;) {
		if (curl_multi_perform(m, &running) != CURLM_OK || !running)
			break;
		FD_ZERO(&r);
		FD_ZERO(&w);
		FD_ZERO(&e);
		maxfd = -1;
		app = 0;
		curl_multi_fdset(m, &r, &w, &e, &maxfd);
		curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &app);
		if (maxfd == -1 && app == 0)
			(*blind)++;
		if (curl_multi_wait(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			rc = msg->data.result;
	curl_multi_remove_handle(m, h);
	curl_multi_cleanup(m);
	return rc;
}

/* CPU seconds used by this process so far (all threads). */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Parses a JSON object and copies its top-level string member "token" into
 * out.  Returns 0, or -1 with a message on stdout.
 */
static int
json_token(const char *js, size_t len, char *out, size_t outsz)
{
	jsmn_parser p;
	jsmntok_t t[MAX_TOKENS];
	int i, n, next;
	size_t vlen;

	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, t, MAX_TOKENS);
	if (n < 1 || t[0].type != JSMN_OBJECT) {
		printf("tlsprobe: json: not one object (jsmn %d)\n", n);
		return -1;
	}
	/* walk top-level members by position; skip each value's subtree */
	for (i = 1; i + 1 < n; i = next) {
		const jsmntok_t *k = &t[i], *v = &t[i + 1];

		for (next = i + 2; next < n && t[next].start < v->end; next++)
			;
		if (k->type != JSMN_STRING || k->end - k->start != 5 ||
		    memcmp(js + k->start, "token", 5) != 0)
			continue;
		if (v->type != JSMN_STRING) {
			printf("tlsprobe: json: \"token\" is not a string\n");
			return -1;
		}
		vlen = v->end - v->start;
		if (vlen + 1 > outsz) {
			printf("tlsprobe: json: \"token\" too long\n");
			return -1;
		}
		memcpy(out, js + v->start, vlen);
		out[vlen] = '\0';
		return 0;
	}
	printf("tlsprobe: json: no \"token\" member\n");
	return -1;
}

/*
 * Stores key "token" = val in the LMDB environment in dir, then reads it back
 * in a new read transaction.  Returns 0, or -1 with a message on stdout.
 */
static int
lmdb_roundtrip(const char *dir, const char *val)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, 1 << 20)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto fail;
	k.mv_data = "token";
	k.mv_size = 5;
	v.mv_data = (void *)val;
	v.mv_size = strlen(val);
	if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_get(txn, dbi, &k, &v)) != 0)
		goto fail;
	if (v.mv_size != strlen(val) || memcmp(v.mv_data, val, v.mv_size)) {
		printf("tlsprobe: lmdb: read back a different value\n");
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return -1;
	}
	printf("tlsprobe: lmdb: stored and read back \"%.*s\" (%s)\n",
	    (int)v.mv_size, (char *)v.mv_data, mdb_version(NULL, NULL, NULL));
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
fail:
	printf("tlsprobe: lmdb: %s\n", mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return -1;
}

int
main(int argc, char *argv[])
{
	static struct body body;
	static char errbuf[CURL_ERROR_SIZE];
	const char *post = "{\"probe\":\"tlsprobe\",\"n\":1}";
	char token[256];
	CURL *h;
	CURLcode rc;
	long status = 0;
	double appconnect = 0, total = 0, wall, cpu;
	int blind;

	if (argc != 4) {
		fprintf(stderr, "usage: tlsprobe URL CAFILE DBDIR\n");
		return 1;
	}
	printf("tlsprobe: %s\n", curl_version());
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h = curl_easy_init()) == NULL) {
		printf("tlsprobe: curl init failed\n");
		return 1;
	}
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	curl_easy_setopt(h, CURLOPT_CAINFO, argv[2]);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tlsprobe");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);

	wall = wall_seconds();
	cpu = cpu_seconds();
	rc = perform(h, &blind);
	wall = wall_seconds() - wall;
	cpu = cpu_seconds() - cpu;
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &appconnect);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* idle: wall time this process did not spend on the CPU (waiting for
	   the peer or the scheduler); the BearSSL polling stall of curl 7.88.1
	   shows up here as 0.2 s or more */
	printf("tlsprobe: timing: appconnect=%.3f total=%.3f cpu=%.3f "
	    "idle=%.3f blind=%d\n", appconnect, total, cpu, wall - cpu, blind);
	if (rc != CURLE_OK) {
		printf("tlsprobe: curl error %d: %s\n", (int)rc,
		    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return 3;
	}
	printf("tlsprobe: http %ld, %zu bytes: %s\n", status, body.len,
	    body.buf);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	if (status != 200)
		return 4;
	if (json_token(body.buf, body.len, token, sizeof(token)) == -1)
		return 5;
	printf("tlsprobe: json: token \"%s\"\n", token);
	if (mkdir(argv[3], 0700) == -1 && errno != EEXIST) {
		printf("tlsprobe: mkdir %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	if (lmdb_roundtrip(argv[3], token) == -1)
		return 6;
	printf("tlsprobe: ok\n");
	return 0;
}
