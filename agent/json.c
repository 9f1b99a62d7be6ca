/*
 * json.c: owns JSON for the whole program; the only includer of jsmn.
 *
 * Reading is two passes: a strict RFC 8259 syntax check of our own (jsmn
 * alone accepts "tru", "[1 2]", "{"a":1,}" and stops at NUL), which also
 * counts tokens and bounds depth, then jsmn fills exactly that many tokens
 * with parent links.  A last pass rejects duplicate keys.  Afterwards
 * tokens are walked by position with every index checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"
#include "log.h"

struct json_doc {
	const char	*buf;
	size_t		 len;
	jsmntok_t	*tok;
	int		 ntok;
};

/* One key of one object, for the duplicate check. */
struct jkey {
	int		 obj;
	const char	*p;
	size_t		 n;
	char		*heap;	/* decoded copy when the key had escapes */
};

static void
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits at s; returns the value or -1. */
static long
hex4(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hexval((unsigned char)s[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes): 1..4, or 0
 * when invalid (overlong, surrogate, above U+10FFFF, truncated).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Appends code point cp as UTF-8 at out+*o if out is given. */
static int
put_cp(char *out, size_t outsz, size_t *o, unsigned long cp)
{
	unsigned char b[4];
	size_t n, i;

	if (cp < 0x80)
		b[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (out != NULL) {
		if (*o + n >= outsz)
			return -1;
		for (i = 0; i < n; i++)
			out[*o + i] = (char)b[i];
	}
	*o += n;
	return 0;
}

/*
 * Decodes the \u escape at s+*i (s[*i] == 'u'), joining a surrogate pair.
 * Returns the code point, or -1 (bad hex, lone surrogate, \u0000).
 */
static long
unescape_u(const char *s, size_t n, size_t *i)
{
	long hi, lo;

	if (*i + 5 > n || (hi = hex4(s + *i + 1)) < 0)
		return -1;
	*i += 5;
	if (hi == 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -1;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (*i + 6 > n || s[*i] != '\\' || s[*i + 1] != 'u' ||
	    (lo = hex4(s + *i + 2)) < 0xdc00 || lo > 0xdfff)
		return -1;
	*i += 6;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

int
json_unescape(const char *s, size_t n, char *out, size_t outsz,
    size_t *outlen)
{
	size_t i = 0, o = 0, u;
	long cp;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == '"')
			return -1;
		if (c != '\\') {
			if ((u = utf8_len((const unsigned char *)s + i,
			    n - i)) == 0)
				return -1;
			if (out != NULL && o + u >= outsz)
				return -1;
			if (out != NULL)
				memcpy(out + o, s + i, u);
			i += u, o += u;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		i++;
		switch (s[i]) {
		case '"': cp = '"'; i++; break;
		case '\\': cp = '\\'; i++; break;
		case '/': cp = '/'; i++; break;
		case 'b': cp = '\b'; i++; break;
		case 'f': cp = '\f'; i++; break;
		case 'n': cp = '\n'; i++; break;
		case 'r': cp = '\r'; i++; break;
		case 't': cp = '\t'; i++; break;
		case 'u':
			if ((cp = unescape_u(s, n, &i)) < 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (put_cp(out, outsz, &o, (unsigned long)cp) == -1)
			return -1;
	}
	if (out != NULL) {
		if (o >= outsz)
			return -1;
		out[o] = '\0';
	}
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

/*
 * Syntax check.  Scans the string starting after the opening quote at
 * *pos; leaves *pos after the closing quote.  Returns 0 or -1.
 */
static int
scan_string(const char *b, size_t len, size_t *pos)
{
	size_t start = *pos, i = *pos;

	while (i < len && b[i] != '"') {
		if (b[i] == '\\')
			i++;
		i++;
	}
	if (i >= len)
		return -1;
	if (json_unescape(b + start, i - start, NULL, 0, NULL) == -1)
		return -1;
	*pos = i + 1;
	return 0;
}

static int
isdigit_(int c)
{
	return c >= '0' && c <= '9';
}

/* Scans a number per RFC 8259 at *pos.  Returns 0 or -1. */
static int
scan_number(const char *b, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (i < len && b[i] == '-')
		i++;
	if (i < len && b[i] == '0')
		i++;
	else if (i < len && b[i] >= '1' && b[i] <= '9')
		while (i < len && isdigit_(b[i]))
			i++;
	else
		return -1;
	if (i < len && b[i] == '.') {
		if (++i >= len || !isdigit_(b[i]))
			return -1;
		while (i < len && isdigit_(b[i]))
			i++;
	}
	if (i < len && (b[i] == 'e' || b[i] == 'E')) {
		i++;
		if (i < len && (b[i] == '+' || b[i] == '-'))
			i++;
		if (i >= len || !isdigit_(b[i]))
			return -1;
		while (i < len && isdigit_(b[i]))
			i++;
	}
	*pos = i;
	return 0;
}

/* Scans a literal (true, false, null) exactly.  Returns 0 or -1. */
static int
scan_literal(const char *b, size_t len, size_t *pos)
{
	static const char *const lits[] = { "true", "false", "null" };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(lits[i]);
		if (len - *pos >= n && memcmp(b + *pos, lits[i], n) == 0) {
			*pos += n;
			return 0;
		}
	}
	return -1;
}

/* What the syntax checker expects next. */
enum jstate { S_VALUE, S_VALUE_OR_END, S_KEY, S_KEY_OR_END, S_COLON,
	S_COMMA_OR_END, S_DONE };

/* Scans one scalar value at *pos; returns 0 or -1. */
static int
scan_scalar(const char *b, size_t len, size_t *pos)
{
	char c = b[*pos];

	if (c == '"') {
		(*pos)++;
		return scan_string(b, len, pos);
	}
	if (c == '-' || isdigit_(c)) {
		if (scan_number(b, len, pos) == -1)
			return -1;
		/* "01", "1x": a number must end at a delimiter */
		if (*pos < len && strchr(" \t\r\n,]}", b[*pos]) == NULL)
			return -1;
		return 0;
	}
	if (scan_literal(b, len, pos) == -1)
		return -1;
	if (*pos < len && strchr(" \t\r\n,]}", b[*pos]) == NULL)
		return -1;
	return 0;
}

/*
 * Checks the syntax of the whole body: one root object, nothing after.
 * Counts tokens into *ntok.  Returns 0, or -1 with err set.
 */
static int
check_syntax(const char *b, size_t len, size_t maxtok, size_t *ntok,
    char *err, size_t errsz)
{
	char stack[JSON_MAX_DEPTH];
	int depth = 0;
	enum jstate st = S_VALUE;
	size_t pos = 0, n = 0;
	char c;

	while (pos < len) {
		c = b[pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			pos++;
			continue;
		}
		switch (st) {
		case S_DONE:
			seterr(err, errsz, "trailing data at offset %zu", pos);
			return -1;
		case S_COLON:
			if (c != ':')
				goto bad;
			pos++;
			st = S_VALUE;
			continue;
		case S_COMMA_OR_END:
			if (c == ',') {
				pos++;
				st = stack[depth - 1] == '{' ? S_KEY : S_VALUE;
				continue;
			}
			if ((c == '}' && stack[depth - 1] == '{') ||
			    (c == ']' && stack[depth - 1] == '['))
				goto close;
			goto bad;
		case S_KEY_OR_END:
			if (c == '}')
				goto close;
			/* FALLTHROUGH */
		case S_KEY:
			if (c != '"')
				goto bad;
			pos++;
			if (scan_string(b, len, &pos) == -1)
				goto badstr;
			n++;
			st = S_COLON;
			continue;
		case S_VALUE_OR_END:
			if (c == ']')
				goto close;
			/* FALLTHROUGH */
		case S_VALUE:
			if (depth == 0 && c != '{') {
				seterr(err, errsz, "root is not an object");
				return -1;
			}
			if (++n > maxtok) {
				seterr(err, errsz, "reply too big "
				    "(more than %zu tokens)", maxtok);
				return -1;
			}
			if (c == '{' || c == '[') {
				if (depth == JSON_MAX_DEPTH) {
					seterr(err, errsz, "nested deeper "
					    "than %d at offset %zu",
					    JSON_MAX_DEPTH, pos);
					return -1;
				}
				stack[depth++] = c;
				pos++;
				st = c == '{' ? S_KEY_OR_END : S_VALUE_OR_END;
				continue;
			}
			if (scan_scalar(b, len, &pos) == -1)
				goto badstr;
			st = S_COMMA_OR_END;
			continue;
		}
close:
		pos++;
		depth--;
		st = depth == 0 ? S_DONE : S_COMMA_OR_END;
	}
	if (st != S_DONE) {
		seterr(err, errsz, "truncated (%zu bytes)", len);
		return -1;
	}
	*ntok = n;
	return 0;
bad:
	seterr(err, errsz, "syntax error at offset %zu", pos);
	return -1;
badstr:
	seterr(err, errsz, "bad string, number or literal at offset %zu",
	    pos);
	return -1;
}

static int
jkey_cmp(const void *a, const void *b)
{
	const struct jkey *x = a, *y = b;
	size_t n;
	int r;

	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	n = x->n < y->n ? x->n : y->n;
	if ((r = memcmp(x->p, y->p, n)) != 0)
		return r;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* Rejects a document with a repeated key in one object.  0 or -1. */
static int
check_dupkeys(struct json_doc *d, char *err, size_t errsz)
{
	struct jkey *k;
	size_t nk = 0, i;
	int t, p, rc = 0;
	char tmp[64];

	if ((k = calloc((size_t)d->ntok, sizeof(*k))) == NULL)
		fatal("calloc: out of memory");
	for (t = 1; t < d->ntok; t++) {
		p = d->tok[t].parent;
		if (p < 0 || p >= t || d->tok[p].type != JSMN_OBJECT)
			continue;
		k[nk].obj = p;
		k[nk].p = d->buf + d->tok[t].start;
		k[nk].n = (size_t)(d->tok[t].end - d->tok[t].start);
		if (memchr(k[nk].p, '\\', k[nk].n) != NULL) {
			k[nk].heap = json_strdup(d, t, &k[nk].n);
			if (k[nk].heap == NULL)
				fatal("json: key decode failed");
			k[nk].p = k[nk].heap;
		}
		nk++;
	}
	qsort(k, nk, sizeof(*k), jkey_cmp);
	for (i = 1; i < nk && rc == 0; i++) {
		if (k[i].obj == k[i - 1].obj && k[i].n == k[i - 1].n &&
		    memcmp(k[i].p, k[i - 1].p, k[i].n) == 0) {
			log_safe(tmp, sizeof(tmp), k[i].p, k[i].n);
			seterr(err, errsz, "duplicate key \"%s\"", tmp);
			rc = -1;
		}
	}
	for (i = 0; i < nk; i++)
		free(k[i].heap);
	free(k);
	return rc;
}

struct json_doc *
json_parse(const char *buf, size_t len, size_t maxbody, size_t maxtok,
    char *err, size_t errsz)
{
	struct json_doc *d;
	jsmn_parser p;
	size_t ntok;
	int r;

	if (len > maxbody || len > (size_t)0x7fffffff) {
		seterr(err, errsz, "reply too big (%zu bytes, max %zu)",
		    len, maxbody);
		return NULL;
	}
	if (maxtok > (size_t)0x7fffffff)
		maxtok = 0x7fffffff;
	if (len == 0) {
		seterr(err, errsz, "empty body");
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		seterr(err, errsz, "NUL byte in body");
		return NULL;
	}
	if (check_syntax(buf, len, maxtok, &ntok, err, errsz) == -1)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->tok = calloc(ntok, sizeof(*d->tok))) == NULL)
		fatal("calloc: out of memory");
	d->buf = buf;
	d->len = len;
	jsmn_init(&p);
	r = jsmn_parse(&p, buf, len, d->tok, (unsigned int)ntok);
	if (r < 0 || (size_t)r != ntok || d->tok[0].type != JSMN_OBJECT) {
		/* the syntax check and jsmn disagree: cannot happen */
		seterr(err, errsz, "tokenizer disagreement (%d)", r);
		json_free(d);
		return NULL;
	}
	d->ntok = r;
	if (check_dupkeys(d, err, errsz) == -1) {
		json_free(d);
		return NULL;
	}
	return d;
}

void
json_free(struct json_doc *d)
{
	if (d == NULL)
		return;
	free(d->tok);
	free(d);
}

int
json_ntokens(const struct json_doc *d)
{
	return d->ntok;
}

enum json_type
json_type(const struct json_doc *d, int t)
{
	char c;

	if (d == NULL || t < 0 || t >= d->ntok)
		return JSON_NONE;
	switch (d->tok[t].type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		c = d->buf[d->tok[t].start];
		if (c == 't')
			return JSON_TRUE;
		if (c == 'f')
			return JSON_FALSE;
		if (c == 'n')
			return JSON_NULL;
		return JSON_NUMBER;
	default:
		return JSON_NONE;
	}
}

const char *
json_type_name(enum json_type t)
{
	static const char *const names[] = {
		"object", "array", "string", "number", "true", "false",
		"null", "nothing"
	};

	if ((int)t < 0 || t > JSON_NONE)
		return "nothing";
	return names[t];
}

int
json_skip(const struct json_doc *d, int t)
{
	int end, j;

	if (d == NULL || t < 0 || t >= d->ntok)
		return -1;
	end = d->tok[t].end;
	for (j = t + 1; j < d->ntok && d->tok[j].start < end; j++)
		continue;
	return j;
}

/* 1 when key token t equals key (after unescaping). */
static int
key_eq(const struct json_doc *d, int t, const char *key)
{
	const char *p = d->buf + d->tok[t].start;
	size_t n = (size_t)(d->tok[t].end - d->tok[t].start), kl;
	char tmp[256];

	kl = strlen(key);
	if (memchr(p, '\\', n) == NULL)
		return n == kl && memcmp(p, key, n) == 0;
	if (json_string(d, t, tmp, sizeof(tmp), &n) == -1)
		return 0;
	return n == kl && memcmp(tmp, key, n) == 0;
}

int
json_get(const struct json_doc *d, int obj, const char *key)
{
	int i, j;

	if (json_type(d, obj) != JSON_OBJECT)
		return -1;
	j = obj + 1;
	for (i = 0; i < d->tok[obj].size; i++) {
		if (j + 1 >= d->ntok || d->tok[j].type != JSMN_STRING)
			return -1;
		if (key_eq(d, j, key))
			return j + 1;
		if ((j = json_skip(d, j + 1)) < 0)
			return -1;
	}
	return -1;
}

int
json_array_len(const struct json_doc *d, int arr)
{
	if (json_type(d, arr) != JSON_ARRAY)
		return -1;
	return d->tok[arr].size;
}

int
json_array_first(const struct json_doc *d, int arr)
{
	if (json_type(d, arr) != JSON_ARRAY || d->tok[arr].size == 0 ||
	    arr + 1 >= d->ntok)
		return -1;
	return arr + 1;
}

int
json_array_at(const struct json_doc *d, int arr, size_t i)
{
	size_t k;
	int j;

	if (json_type(d, arr) != JSON_ARRAY || i >= (size_t)d->tok[arr].size)
		return -1;
	j = arr + 1;
	for (k = 0; k < i && j >= 0; k++)
		j = json_skip(d, j);
	if (j < 0 || j >= d->ntok || d->tok[j].parent != arr)
		return -1;
	return j;
}

int
json_path(const struct json_doc *d, int from, const char *path)
{
	char key[128];
	const char *p = path;
	size_t n;
	unsigned long idx;
	char *end;
	int t = from;

	while (*p != '\0' && t >= 0) {
		if (*p == '[') {
			errno = 0;
			idx = strtoul(p + 1, &end, 10);
			if (end == p + 1 || *end != ']' || errno != 0)
				return -1;
			t = json_array_at(d, t, idx);
			p = end + 1;
		} else {
			n = strcspn(p, ".[");
			if (n == 0 || n >= sizeof(key))
				return -1;
			memcpy(key, p, n);
			key[n] = '\0';
			t = json_get(d, t, key);
			p += n;
		}
		if (*p == '.')
			p++;
	}
	return t;
}

int
json_string(const struct json_doc *d, int t, char *buf, size_t bufsz,
    size_t *lenp)
{
	if (json_type(d, t) != JSON_STRING || bufsz == 0)
		return -1;
	return json_unescape(d->buf + d->tok[t].start,
	    (size_t)(d->tok[t].end - d->tok[t].start), buf, bufsz, lenp);
}

char *
json_strdup(const struct json_doc *d, int t, size_t *lenp)
{
	char *s;
	size_t n;

	if (json_type(d, t) != JSON_STRING)
		return NULL;
	/* decoded text is never longer than the raw text */
	n = (size_t)(d->tok[t].end - d->tok[t].start) + 1;
	if ((s = malloc(n)) == NULL)
		fatal("malloc: out of memory");
	if (json_string(d, t, s, n, lenp) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

/* Copies number token t into buf as a C string.  0 or -1 (too long). */
static int
number_text(const struct json_doc *d, int t, char *buf, size_t bufsz)
{
	size_t n;

	if (json_type(d, t) != JSON_NUMBER)
		return -1;
	n = (size_t)(d->tok[t].end - d->tok[t].start);
	if (n >= bufsz)
		return -1;
	memcpy(buf, d->buf + d->tok[t].start, n);
	buf[n] = '\0';
	return 0;
}

int
json_int64(const struct json_doc *d, int t, int64_t min, int64_t max,
    int64_t *v)
{
	char tmp[32], *end;
	long long x;

	if (number_text(d, t, tmp, sizeof(tmp)) == -1)
		return -1;
	if (strpbrk(tmp, ".eE") != NULL)
		return -1;
	errno = 0;
	x = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -1;
	*v = (int64_t)x;
	return 0;
}

int
json_double(const struct json_doc *d, int t, double *v)
{
	char tmp[64], *end;
	double x;

	if (number_text(d, t, tmp, sizeof(tmp)) == -1)
		return -1;
	errno = 0;
	x = strtod(tmp, &end);
	if (errno != 0 || *end != '\0' || x != x || x > 1e300 || x < -1e300)
		return -1;
	*v = x;
	return 0;
}

int
json_bool(const struct json_doc *d, int t, int *v)
{
	enum json_type ty = json_type(d, t);

	if (ty != JSON_TRUE && ty != JSON_FALSE)
		return -1;
	/* the syntax check made these exactly "true" / "false" */
	*v = ty == JSON_TRUE;
	return 0;
}

int
json_is_null(const struct json_doc *d, int t)
{
	return json_type(d, t) == JSON_NULL;
}

/* Writer. */

static void
jw_put(struct json_writer *w, const char *s, size_t n)
{
	size_t cap;

	if (w->len + n + 1 > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (w->len + n + 1 > cap)
			cap *= 2;
		if ((w->buf = realloc(w->buf, cap)) == NULL)
			fatal("realloc: out of memory");
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void
jw_init(struct json_writer *w)
{
	memset(w, 0, sizeof(*w));
}

/* Before a value: checks the position and writes a comma if due. */
static int
jw_value_pos(struct json_writer *w)
{
	if (w->err || w->done)
		goto bad;
	if (w->depth == 0)
		return 0;
	if (w->kind[w->depth - 1] == '{') {
		if (!w->want_value)
			goto bad;
		w->want_value = 0;
		return 0;
	}
	if (w->count[w->depth - 1]++ > 0)
		jw_put(w, ",", 1);
	return 0;
bad:
	w->err = 1;
	return -1;
}

/* After a complete value at depth 0 the document is done. */
static void
jw_value_end(struct json_writer *w)
{
	if (w->depth == 0)
		w->done = 1;
}

static void
jw_open(struct json_writer *w, char kind)
{
	if (jw_value_pos(w) == -1)
		return;
	if (w->depth == JSON_MAX_DEPTH) {
		w->err = 1;
		return;
	}
	w->kind[w->depth] = kind;
	w->count[w->depth] = 0;
	w->depth++;
	jw_put(w, &kind, 1);
}

static void
jw_close(struct json_writer *w, char kind)
{
	if (w->err || w->depth == 0 || w->kind[w->depth - 1] != kind ||
	    w->want_value) {
		w->err = 1;
		return;
	}
	w->depth--;
	jw_put(w, kind == '{' ? "}" : "]", 1);
	jw_value_end(w);
}

void
jw_object_begin(struct json_writer *w)
{
	jw_open(w, '{');
}

void
jw_object_end(struct json_writer *w)
{
	jw_close(w, '{');
}

void
jw_array_begin(struct json_writer *w)
{
	jw_open(w, '[');
}

void
jw_array_end(struct json_writer *w)
{
	jw_close(w, '[');
}

/* Writes s (n bytes) as a quoted, escaped JSON string. */
static void
jw_quoted(struct json_writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[8];
	size_t i = 0, u;
	unsigned char c;

	jw_put(w, "\"", 1);
	while (i < n) {
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			if ((u = utf8_len((const unsigned char *)s + i,
			    n - i)) == 0) {
				w->err = 1;
				return;
			}
			jw_put(w, s + i, u);
			i += u;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			jw_put(w, esc, 2);
		} else if (c == '\n')
			jw_put(w, "\\n", 2);
		else if (c == '\t')
			jw_put(w, "\\t", 2);
		else if (c == '\r')
			jw_put(w, "\\r", 2);
		else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jw_put(w, esc, 6);
		} else
			jw_put(w, s + i, 1);
		i++;
	}
	jw_put(w, "\"", 1);
}

void
jw_key(struct json_writer *w, const char *k)
{
	if (w->err || w->depth == 0 || w->kind[w->depth - 1] != '{' ||
	    w->want_value) {
		w->err = 1;
		return;
	}
	if (w->count[w->depth - 1]++ > 0)
		jw_put(w, ",", 1);
	jw_quoted(w, k, strlen(k));
	jw_put(w, ":", 1);
	w->want_value = 1;
}

void
jw_string_n(struct json_writer *w, const char *s, size_t n)
{
	if (jw_value_pos(w) == -1)
		return;
	if (memchr(s, '\0', n) != NULL) {
		w->err = 1;
		return;
	}
	jw_quoted(w, s, n);
	jw_value_end(w);
}

void
jw_string(struct json_writer *w, const char *s)
{
	jw_string_n(w, s, strlen(s));
}

void
jw_int64(struct json_writer *w, int64_t v)
{
	char tmp[32];
	int n;

	if (jw_value_pos(w) == -1)
		return;
	n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	jw_put(w, tmp, (size_t)n);
	jw_value_end(w);
}

void
jw_bool(struct json_writer *w, int v)
{
	if (jw_value_pos(w) == -1)
		return;
	if (v)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
	jw_value_end(w);
}

void
jw_null(struct json_writer *w)
{
	if (jw_value_pos(w) == -1)
		return;
	jw_put(w, "null", 4);
	jw_value_end(w);
}

char *
jw_finish(struct json_writer *w, size_t *lenp)
{
	char *s;

	if (w->err || !w->done || w->buf == NULL) {
		jw_free(w);
		return NULL;
	}
	s = w->buf;
	if (lenp != NULL)
		*lenp = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return s;
}

void
jw_free(struct json_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}
