/*
 * http.c: owns every HTTPS exchange; the only file that includes curl.
 *
 * One easy handle per store keeps its connection alive between requests: a
 * BearSSL handshake that parses the whole CA bundle costs tens of ms on a
 * Pi (docs/build.md §1).  Every limit has a name in http.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "util.h"

struct http {
	CURL		*curl;
	char		 ca[1024];
	int64_t		 timeout_ms;
	volatile int	*stop;
};

/* The state of one transfer, shared with the callbacks. */
struct transfer {
	const struct http_request	*req;
	struct http_reply		*rep;
	size_t				 off;	/* body bytes handed to curl */
	size_t				 cap;
	int				 too_big;
	int				 send_refused;	/* on_send said no */
	volatile int			*stop;
	CURL				*curl;
	http_sink_fn			 sink;	/* streaming GET: 2xx bytes */
	void				*sink_arg;
	int				 sink_refused;
};

/* Distribution CA bundles, most common first (docs/build.md §6). */
static const char *const ca_search[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Raspberry Pi OS, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/ca-bundle.pem",		/* openSUSE */
	"/etc/ssl/cert.pem",
	NULL
};

int
http_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		log_err("http: curl_global_init: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

const char *
http_find_ca(const char *override)
{
	const char *env = getenv("SSL_CERT_FILE");
	size_t i;

	if (override != NULL && override[0] != '\0')
		return override;
	if (env != NULL && env[0] == '/' && access(env, R_OK) == 0)
		return env;
	for (i = 0; ca_search[i] != NULL; i++)
		if (access(ca_search[i], R_OK) == 0)
			return ca_search[i];
	return NULL;
}

const char *
http_version(void)
{
	return curl_version();
}

struct http *
http_new(const char *ca_file, int64_t timeout_ms, volatile int *stop)
{
	const char *ca = http_find_ca(ca_file);
	struct http *h;

	if (ca == NULL) {
		log_err("http: no CA bundle found (install ca-certificates, "
		    "or set ca_file in [sync])");
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	if (snprintf(h->ca, sizeof(h->ca), "%s", ca) >= (int)sizeof(h->ca))
		fatal("http: CA path too long");
	if ((h->curl = curl_easy_init()) == NULL)
		fatal("http: curl_easy_init failed");
	h->stop = stop;
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTP_TOTAL_TIMEOUT_MS;
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
http_reply_free(struct http_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
}

const char *
http_result_str(enum http_result r)
{
	switch (r) {
	case HTTP_OK:		return "ok";
	case HTTP_ERR_CONNECT:	return "cannot connect";
	case HTTP_ERR_TLS:	return "TLS refused";
	case HTTP_ERR_TIMEOUT:	return "timeout";
	case HTTP_ERR_TOO_BIG:	return "reply too big";
	case HTTP_ERR_ABORTED:	return "aborted";
	case HTTP_ERR_IO:	return "transport error";
	}
	return "?";
}

/* curl read callback: hands out the body; the first call marks it sent. */
static size_t
on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct transfer *x = arg;
	size_t n = size * nitems, left = x->req->len - x->off;

	if (!x->rep->sent) {
		if (x->req->on_send != NULL && x->req->on_send(x->req->arg)) {
			x->send_refused = 1;
			return CURL_READFUNC_ABORT;
		}
		x->rep->sent = 1;
	}
	if (n > left)
		n = left;
	memcpy(buf, x->req->body + x->off, n);
	x->off += n;
	return n;
}

/* curl write callback: collects the reply up to HTTP_MAX_BODY. */
static size_t
on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *x = arg;
	struct http_reply *rep = x->rep;
	size_t n = size * nmemb;

	if (rep->len + n > HTTP_MAX_BODY) {
		x->too_big = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (rep->len + n + 1 > x->cap) {
		while (rep->len + n + 1 > x->cap)
			x->cap = x->cap ? x->cap * 2 : 16384;
		rep->body = xreallocarray(rep->body, x->cap, 1);
	}
	memcpy(rep->body + rep->len, data, n);
	rep->len += n;
	rep->body[rep->len] = '\0';
	return n;
}

/*
 * curl write callback of a streaming GET: a 2xx reply's bytes go to the
 * sink as they arrive; any other reply is kept (up to 4 KiB) to say why.
 */
static size_t
on_stream(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *x = arg;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		if (x->rep->len + n > HTTP_ERROR_BODY_MAX)
			n = HTTP_ERROR_BODY_MAX - x->rep->len;
		(void)on_write(data, 1, n, arg);
		return size * nmemb;
	}
	if (x->sink(data, n, x->sink_arg) != 0) {
		x->sink_refused = 1;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	return n;
}

/* curl header callback: keeps Retry-After and the Date's clock offset. */
static size_t
on_header(char *data, size_t size, size_t nitems, void *arg)
{
	struct transfer *x = arg;
	size_t n = size * nitems;
	char line[128];

	if (n > 12 && n < sizeof(line) &&
	    strncasecmp(data, "Retry-After:", 12) == 0) {
		memcpy(line, data + 12, n - 12);
		line[n - 12] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		x->rep->retry_after_ms = http_parse_retry_after(line,
		    util_now_ms());
	} else if (n > 5 && n < sizeof(line) &&
	    strncasecmp(data, "Date:", 5) == 0) {
		int64_t t;

		memcpy(line, data + 5, n - 5);
		line[n - 5] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if ((t = http_parse_date(line)) != -1)
			x->rep->date_offset_ms = t - util_now_ms();
	}
	return n;
}

/* curl progress callback: a set stop flag aborts the transfer. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct transfer *x = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return x->stop != NULL && *x->stop;
}

static enum http_result
classify(CURLcode rc, const struct transfer *x)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ERR_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return HTTP_ERR_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return HTTP_ERR_ABORTED;
	case CURLE_READ_ERROR:
		return x->send_refused ? HTTP_ERR_ABORTED : HTTP_ERR_IO;
	case CURLE_WRITE_ERROR:
		if (x->sink_refused)
			return HTTP_ERR_ABORTED;
		return x->too_big ? HTTP_ERR_TOO_BIG : HTTP_ERR_IO;
	default:
		return HTTP_ERR_IO;
	}
}

static void
set_options(struct http *h, struct transfer *x, struct curl_slist *hdrs,
    char *errbuf)
{
	CURL *c = h->curl;
	const struct http_request *req = x->req;

	curl_easy_reset(c);	/* keeps the live connection and TLS session */
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, req->plain_ok ?
	    "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
	/* proxies only when configured in the environment on purpose */
	if (getenv("INVSYNC_USE_PROXY") == NULL)
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->timeout_ms <
	    HTTP_CONNECT_TIMEOUT_MS ? h->timeout_ms : HTTP_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)HTTP_LOW_SPEED_BYTES);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)HTTP_LOW_SPEED_SECS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "invsync/" INVSYNC_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (req->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
	} else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, x->sink != NULL ?
	    on_stream : on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

/*
 * Starts a reply; anything but an https URL (or an http one, when plain_ok)
 * is refused (-1).
 */
static int
reply_begin(struct http_reply *rep, const char *url, int plain_ok)
{
	memset(rep, 0, sizeof(*rep));
	rep->retry_after_ms = -1;
	if (strncmp(url, "https://", 8) == 0 ||
	    (plain_ok && strncmp(url, "http://", 7) == 0))
		return 0;
	snprintf(rep->error, sizeof(rep->error), "not an https URL");
	return -1;
}

/* Ends transfer x, which curl finished with rc: the status, or why not. */
static enum http_result
reply_end(struct http *h, const struct transfer *x, CURLcode rc,
    const char *errbuf)
{
	struct http_reply *rep = x->rep;
	enum http_result r = classify(rc, x);

	if (r == HTTP_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &rep->status);
		if (rep->body == NULL)
			rep->body = xcalloc(1, 1);
		return HTTP_OK;
	}
	snprintf(rep->error, sizeof(rep->error), "%s",
	    x->too_big ? "reply larger than the limit" :
	    x->sink_refused ? "refused by the reader" :
	    errbuf[0] ? errbuf : curl_easy_strerror(rc));
	http_reply_free(rep);
	return r;
}

enum http_result
http_post(struct http *h, const struct http_request *req,
    struct http_reply *rep)
{
	char errbuf[CURL_ERROR_SIZE], hdr[160];
	struct curl_slist *hdrs = NULL;
	struct transfer x;
	CURLcode rc;
	size_t i;

	if (reply_begin(rep, req->url, req->plain_ok) == -1)
		return HTTP_ERR_CONNECT;
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.rep = rep;
	x.stop = h->stop;
	errbuf[0] = '\0';
	if (req->content_type != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s",
		    req->content_type);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");	/* no 100-continue round trip */
	for (i = 0; i < HTTP_MAX_HEADERS && req->headers[i] != NULL; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	if (hdrs == NULL)
		fatal("http: out of memory");
	set_options(h, &x, hdrs, errbuf);
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	return reply_end(h, &x, rc, errbuf);
}

enum http_result
http_get_stream(struct http *h, const char *url, http_sink_fn sink,
    void *arg, struct http_reply *rep)
{
	struct http_request req;
	char errbuf[CURL_ERROR_SIZE];
	struct transfer x;
	CURLcode rc;

	if (reply_begin(rep, url, 0) == -1)
		return HTTP_ERR_CONNECT;
	memset(&req, 0, sizeof(req));
	req.url = url;
	memset(&x, 0, sizeof(x));
	x.req = &req;
	x.rep = rep;
	x.stop = h->stop;
	x.curl = h->curl;
	x.sink = sink;
	x.sink_arg = arg;
	errbuf[0] = '\0';
	set_options(h, &x, NULL, errbuf);
	/* a big file takes what it takes; a stalled one trips the low-speed limit */
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 0L);
	rc = curl_easy_perform(h->curl);
	return reply_end(h, &x, rc, errbuf);
}

int64_t
http_parse_retry_after(const char *v, int64_t now_ms)
{
	char *e;
	long long secs;
	int64_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		secs = strtoll(v, &e, 10);
		while (*e == ' ' || *e == '\t')
			e++;
		if (errno != 0 || *e != '\0' || secs < 0 || secs > 86400)
			return -1;
		return (int64_t)secs * 1000;
	}
	if ((t = http_parse_date(v)) == -1)
		return -1;
	if (t <= now_ms)
		return 0;
	return t - now_ms;
}

int64_t
http_parse_date(const char *v)
{
	struct tm tm;
	const char *end;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7) */
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (int64_t)t * 1000;
}

int64_t
http_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms)
{
	int64_t hi = base_ms, lo = base_ms / 2;

	while (attempt-- > 0 && hi < cap_ms)
		hi *= 2;
	if (hi > cap_ms)
		hi = cap_ms;
	if (hi <= lo)
		return hi;
	return lo + (int64_t)util_random_below((uint32_t)(hi - lo + 1));
}
