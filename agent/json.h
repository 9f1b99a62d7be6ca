/*
 * json.h: bounded JSON reading (a strict syntax check, then jsmn tokens
 * walked by position) and an escaping JSON writer for request bodies.
 *
 * json.c is the only file that includes jsmn.  A token is named by its
 * index in the document (int); -1 means "absent".  Every getter checks the
 * index and the type and fails loudly (-1) instead of guessing.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_BODY	(8u * 1024 * 1024)	/* default cap on a reply body */
#define JSON_MAX_TOKENS	(256u * 1024)		/* default cap on tokens */
#define JSON_MAX_DEPTH	64			/* nesting of objects/arrays */
#define JSON_ERR_MAX	160			/* one parse error message */

enum json_type {
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
	JSON_NONE		/* bad index */
};

struct json_doc;

/*
 * Parses len bytes of buf (not NUL-terminated necessarily) as exactly one
 * JSON object with nothing but whitespace after it.  Rejects: more than
 * maxbody bytes or more than maxtok tokens ("reply too big"), nesting
 * deeper than JSON_MAX_DEPTH, any syntax error, NUL bytes, bad escapes,
 * \u0000, invalid UTF-8, inexact literals ("tru"), and duplicate keys in
 * one object.  The document keeps a pointer to buf: buf must outlive it.
 * Returns NULL on failure with a one-line reason in err (errsz bytes).
 * The caller frees the result with json_free().
 */
struct json_doc	*json_parse(const char *buf, size_t len, size_t maxbody,
		    size_t maxtok, char *err, size_t errsz);
void		 json_free(struct json_doc *);

/* Number of tokens in the document; the root object is token 0. */
int		 json_ntokens(const struct json_doc *);

/* Type of token t, JSON_NONE when t is out of range. */
enum json_type	 json_type(const struct json_doc *, int t);

/* "object", "array", "string", "number", "true", "false", "null". */
const char	*json_type_name(enum json_type);

/* Index of the token after t and all its children; -1 when t is bad. */
int		 json_skip(const struct json_doc *, int t);

/*
 * Value of key in object obj (keys compared after unescaping).
 * Returns -1 when obj is not an object or the key is absent.
 */
int		 json_get(const struct json_doc *, int obj, const char *key);

/*
 * Follows a path such as "data.location.nodes[3].id" from token from.
 * Returns -1 when a step is absent, of the wrong type, or the path is
 * malformed.
 */
int		 json_path(const struct json_doc *, int from, const char *path);

/* Number of elements of array arr; -1 when arr is not an array. */
int		 json_array_len(const struct json_doc *, int arr);

/*
 * First element of array arr, -1 when arr is not an array or is empty.
 * The next element is json_skip() of the current one (linear walk).
 */
int		 json_array_first(const struct json_doc *, int arr);

/* Element i of array arr; -1 when arr is not an array or i is too big. */
int		 json_array_at(const struct json_doc *, int arr, size_t i);

/*
 * Decodes string token t into buf (bufsz bytes, NUL-terminated): escapes
 * decoded, surrogate pairs joined, UTF-8 output.  *lenp (if not NULL) gets
 * the length.  Returns -1 when t is not a string or does not fit.
 */
int		 json_string(const struct json_doc *, int t, char *buf,
		    size_t bufsz, size_t *lenp);

/*
 * Like json_string() into a fresh heap buffer; NULL when t is not a
 * string.  The caller frees it.
 */
char		*json_strdup(const struct json_doc *, int t, size_t *lenp);

/*
 * Integer value of number token t into *v: rejects fractions, exponents
 * and values outside [min, max].  Returns 0, or -1 (wrong type or range).
 */
int		 json_int64(const struct json_doc *, int t, int64_t min,
		    int64_t max, int64_t *v);

/* Finite double value of number token t.  Returns 0 or -1. */
int		 json_double(const struct json_doc *, int t, double *v);

/* Boolean value of token t (exactly true or false).  Returns 0 or -1. */
int		 json_bool(const struct json_doc *, int t, int *v);

/* 1 when t is the literal null, else 0. */
int		 json_is_null(const struct json_doc *, int t);

/*
 * Validates and decodes JSON string content s (n bytes, without quotes)
 * into out (outsz bytes; out may be NULL to only validate).  *outlen gets
 * the decoded length.  Returns 0, or -1 on a bad escape, \u0000, a lone
 * surrogate, a raw control byte, invalid UTF-8 or (out given) no room.
 */
int		 json_unescape(const char *s, size_t n, char *out, size_t outsz,
		    size_t *outlen);

/*
 * JSON writer: a growable buffer filled by calls in document order.  Out
 * of memory is fatal().  Misuse (a key outside an object, a value where a
 * key is due, too deep, invalid UTF-8 in a string) sets an error that
 * jw_finish() reports.
 */
struct json_writer {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 depth;
	char	 kind[JSON_MAX_DEPTH];	/* '{' or '[' per level */
	int	 count[JSON_MAX_DEPTH];	/* members written per level */
	int	 want_value;		/* a key was written, value due */
	int	 done;			/* the root value is complete */
	int	 err;
};

void	 jw_init(struct json_writer *);
void	 jw_object_begin(struct json_writer *);
void	 jw_object_end(struct json_writer *);
void	 jw_array_begin(struct json_writer *);
void	 jw_array_end(struct json_writer *);
void	 jw_key(struct json_writer *, const char *);
void	 jw_string(struct json_writer *, const char *);
void	 jw_string_n(struct json_writer *, const char *, size_t);
void	 jw_int64(struct json_writer *, int64_t);
void	 jw_bool(struct json_writer *, int);
void	 jw_null(struct json_writer *);

/*
 * Ends writing: returns the NUL-terminated document (length in *lenp if
 * not NULL), owned by the caller, or NULL (and frees the buffer) when the
 * writer saw misuse or the document is incomplete.
 */
char	*jw_finish(struct json_writer *, size_t *lenp);

/* Frees the buffer of an abandoned writer. */
void	 jw_free(struct json_writer *);

#endif
