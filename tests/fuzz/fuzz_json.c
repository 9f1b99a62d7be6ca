/*
 * fuzz_json.c: libFuzzer target for the JSON reader (agent/json.c): the
 * input is a reply body.  Parses it with the default caps and with tiny
 * ones, then calls every getter on every token (keys looked up again by
 * name, a path built from the first keys), and json_unescape() on the raw
 * bytes.  Checks: a string a getter decoded is valid for json_unescape()
 * again, and a parsed document's key lookups find the keys it holds.
 */
#include <string.h>

#include "fuzz.h"
#include "json.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup();
	return 0;
}

/* Every getter on token t. */
static void
poke(const struct json_doc *d, int t)
{
	char small[8], big[512];
	size_t n;
	int64_t i;
	double x;
	int b;
	char *s;

	(void)json_type_name(json_type(d, t));
	(void)json_skip(d, t);
	(void)json_array_len(d, t);
	(void)json_array_first(d, t);
	(void)json_array_at(d, t, 0);
	(void)json_array_at(d, t, 3);
	(void)json_string(d, t, small, sizeof(small), &n);
	if (json_string(d, t, big, sizeof(big), &n) == 0)
		FUZZ_ASSERT(n < sizeof(big) && strlen(big) == n);
	if ((s = json_strdup(d, t, &n)) != NULL) {
		FUZZ_ASSERT(strlen(s) == n);
		free(s);
	}
	(void)json_int64(d, t, INT64_MIN, INT64_MAX, &i);
	(void)json_int64(d, t, -5, 5, &i);
	(void)json_double(d, t, &x);
	(void)json_bool(d, t, &b);
	(void)json_is_null(d, t);
}

/* Every key of object obj found again by name. */
static void
keys(const struct json_doc *d, int obj, char *path, size_t pathsz)
{
	char key[256];
	int k, v, found;

	if (json_type(d, obj) != JSON_OBJECT)
		return;
	for (k = obj + 1; k > 0 && k < json_skip(d, obj); k = json_skip(d, v)) {
		v = k + 1;
		if (json_string(d, k, key, sizeof(key), NULL) == -1)
			return;
		found = json_get(d, obj, key);
		/* no NUL in keys (\u0000 is refused), no duplicates */
		FUZZ_ASSERT(found == v);
		if (path != NULL && strlen(path) + strlen(key) + 2 < pathsz) {
			if (path[0] != '\0')
				strcat(path, ".");
			strcat(path, key);
			path = NULL;	/* one key per level */
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[JSON_ERR_MAX], path[256], *out;
	struct json_doc *d;
	size_t n;
	int t, nt;

	/* the same text under tiny caps: "reply too big" paths */
	if ((d = json_parse(buf, size, size / 2 + 1, 8, err,
	    sizeof(err))) != NULL)
		json_free(d);
	if ((d = json_parse(buf, size, JSON_MAX_BODY, JSON_MAX_TOKENS, err,
	    sizeof(err))) == NULL) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	} else {
		nt = json_ntokens(d);
		FUZZ_ASSERT(nt >= 1 && json_type(d, 0) == JSON_OBJECT);
		FUZZ_ASSERT(json_skip(d, 0) == nt);
		path[0] = '\0';
		for (t = -1; t <= nt; t++) {
			poke(d, t);
			keys(d, t, path, sizeof(path));
		}
		(void)json_path(d, 0, path);
		(void)json_path(d, 0, "data.nodes[0].id");
		(void)json_path(d, 0, "a[99999999999].b");
		(void)json_path(d, 0, "a..b[");
		json_free(d);
	}

	/* the raw bytes as string content */
	if ((out = malloc(size * 4 + 1)) == NULL)
		abort();
	if (json_unescape(buf, size, NULL, 0, &n) == 0) {
		FUZZ_ASSERT(json_unescape(buf, size, out, size * 4 + 1,
		    &n) == 0);
		FUZZ_ASSERT(n <= size && memchr(out, '\0', n) == NULL);
	}
	(void)json_unescape(buf, size, out, 3, &n);
	free(out);
	return 0;
}
