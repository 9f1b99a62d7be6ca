/*
 * http.h: HTTPS POST with one reused connection per store.  Only http.c
 * includes curl.
 *
 * TLS is always verified (BearSSL, TLS 1.2, host names only).  Replies are
 * bounded; a bigger one is an error, never a truncation.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_CONNECT_TIMEOUT_MS	10000	/* TCP + TLS handshake */
#define HTTP_TOTAL_TIMEOUT_MS	30000	/* one whole request, by default */
#define HTTP_LOW_SPEED_BYTES	16	/* abort below this many bytes/s ... */
#define HTTP_LOW_SPEED_SECS	15	/* ... for this long */
#define HTTP_MAX_BODY		(8u << 20)	/* largest reply accepted */
#define HTTP_MAX_HEADERS	8
#define HTTP_ERROR_BODY_MAX	4096	/* kept of a streamed error reply */

enum http_result {
	HTTP_OK = 0,		/* a complete reply with a status code */
	HTTP_ERR_CONNECT,	/* DNS, TCP: nothing was sent */
	HTTP_ERR_TLS,		/* handshake or certificate refused */
	HTTP_ERR_TIMEOUT,	/* outcome unknown if anything was sent */
	HTTP_ERR_TOO_BIG,	/* reply larger than HTTP_MAX_BODY */
	HTTP_ERR_ABORTED,	/* stopped by the caller's stop flag */
	HTTP_ERR_IO		/* reset, truncated reply, other transport error */
};

struct http_reply {
	long	 status;	/* HTTP status; 0 when none was received */
	char	*body;		/* NUL-terminated; freed by http_reply_free() */
	size_t	 len;
	int64_t	 retry_after_ms;/* from Retry-After, -1 when absent */
	int64_t	 date_offset_ms;/* the Date header minus our clock when it
				   came (never more than the truth: Date
				   has whole seconds); 0 when absent */
	int	 sent;		/* request bytes were handed to the connection */
	char	 error[256];	/* transport error text for logs */
};

struct http_request {
	const char	*url;		/* https:// only, but see plain_ok */
	int		 plain_ok;	/* http:// too: the caller checked that
					   the host is a loopback one (alerts,
					   pings: conf_notify_url_problem()) */
	const char	*content_type;	/* "application/json" ...; NULL: none */
	const char	*headers[HTTP_MAX_HEADERS];	/* extra "Name: value" */
	const char	*body;
	size_t		 len;
	/*
	 * Called once, just before the first body byte goes out (docs/design.md §4).
	 * A non-zero return aborts the request before anything is sent.
	 */
	int		(*on_send)(void *arg);
	void		*arg;
};

struct http;

/*
 * Initialises libcurl once per process.  Returns 0, or -1 (logged).
 */
int	 http_global_init(void);

/*
 * A client for one store.  ca_file: a PEM bundle to trust, or NULL for the
 * search list of http_find_ca().  stop: the process's stop flag; a set flag
 * aborts a transfer in flight.  timeout_ms bounds one whole request
 * (0: HTTP_TOTAL_TIMEOUT_MS).  Returns NULL (logged) when no CA bundle can
 * be found.  Free with http_free().
 */
struct http	*http_new(const char *ca_file, int64_t timeout_ms,
		    volatile int *stop);
void		 http_free(struct http *h);

/*
 * Posts req (GETs it when req->body is NULL) and fills *rep.  Returns the result (HTTP_OK when a reply with a
 * status arrived, whatever the status).  rep->body is allocated on HTTP_OK
 * only; call http_reply_free() in every case.
 */
enum http_result http_post(struct http *h, const struct http_request *req,
	    struct http_reply *rep);
void	 http_reply_free(struct http_reply *rep);

/*
 * Takes n more bytes of a streamed reply; non-zero stops the transfer
 * (the result is then HTTP_ERR_ABORTED).
 */
typedef int (*http_sink_fn)(const char *data, size_t n, void *arg);

/*
 * GETs url (https only, no credentials sent: a signed URL carries its
 * own), handing a 2xx body to sink as it arrives and never holding it.
 * Any other status comes back in rep (body: at most HTTP_ERROR_BODY_MAX
 * bytes).  No overall time limit, only the low-speed one.  The caller
 * checks rep->status; a short body is HTTP_ERR_IO.
 */
enum http_result http_get_stream(struct http *h, const char *url,
	    http_sink_fn sink, void *arg, struct http_reply *rep);

/* A short name of a result for logs. */
const char *http_result_str(enum http_result r);

/*
 * The CA bundle to use: override when non-empty, else $SSL_CERT_FILE, else
 * the first existing file of the distribution search list (docs/build.md §6).
 * Returns the path (static storage or override), or NULL when none exists.
 */
const char *http_find_ca(const char *override);

/*
 * Parses a Retry-After value: delta-seconds or an HTTP-date, relative to
 * now_ms.  Returns milliseconds to wait (>= 0), or -1 when unparsable.
 */
int64_t	 http_parse_retry_after(const char *v, int64_t now_ms);

/*
 * Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110
 * §5.6.7), as in a Date header, into Unix ms.  Returns -1 when unparsable.
 */
int64_t	 http_parse_date(const char *v);

/*
 * Exponential backoff with full jitter: a random wait in
 * [base/2, min(cap, base * 2^attempt)] ms, attempt counted from 0.
 */
int64_t	 http_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms);

/* The libcurl version string, for `invsync version`. */
const char *http_version(void);

#endif
