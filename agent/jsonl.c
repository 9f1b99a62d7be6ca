/*
 * jsonl.c: a JSON Lines splitter.  It knows bytes and newlines only; what
 * a line means is shopify.c's business.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "util.h"

void
jsonl_init(struct jsonl *j, size_t max_line, jsonl_line_fn fn, void *arg)
{
	memset(j, 0, sizeof(*j));
	j->max = max_line;
	j->fn = fn;
	j->arg = arg;
}

/* Hands the assembled line to fn and empties the buffer. */
static int
emit(struct jsonl *j)
{
	size_t n = j->len;

	if (n > 0 && j->buf[n - 1] == '\r')
		n--;
	j->len = 0;
	if (n == 0)
		return 0;
	j->lines++;
	if (j->fn(j->buf, n, j->arg) != 0) {
		j->failed = 1;
		return -1;
	}
	return 0;
}

/* Appends n bytes to the line, within max. */
static int
append(struct jsonl *j, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > j->max - j->len) {
		j->failed = 1;
		return -1;
	}
	if (j->len + n > j->cap) {
		while (j->len + n > j->cap)
			j->cap = j->cap ? j->cap * 2 : 4096;
		j->buf = xreallocarray(j->buf, j->cap, 1);
	}
	memcpy(j->buf + j->len, p, n);
	j->len += n;
	return 0;
}

int
jsonl_feed(struct jsonl *j, const char *data, size_t n)
{
	const char *nl;
	size_t k;

	while (!j->failed && n > 0) {
		nl = memchr(data, '\n', n);
		k = nl != NULL ? (size_t)(nl - data) : n;
		if (append(j, data, k) == -1)
			break;
		if (nl == NULL)
			return 0;
		if (emit(j) == -1)
			break;
		data += k + 1;
		n -= k + 1;
	}
	return j->failed ? -1 : 0;
}

int
jsonl_finish(struct jsonl *j)
{
	if (!j->failed && j->len > 0)
		(void)emit(j);
	return j->failed ? -1 : 0;
}

void
jsonl_free(struct jsonl *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}
