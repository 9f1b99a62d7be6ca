/*
 * fuzz_jw.c: libFuzzer target for the JSON writer (agent/json.c).  The
 * input is a program: each byte an operation (begin/end object or array,
 * key, string with an embedded length, integer, boolean, null), strings
 * and integers taken from the bytes that follow.  Checks: a document that
 * jw_finish() returns is one JSON value; when it is an object, json_parse()
 * accepts it (keys are made unique, so a duplicate is not the writer's
 * fault).
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

/* Takes up to 1 length byte and that many bytes into s (NUL-terminated). */
static size_t
take(const uint8_t **p, const uint8_t *end, char *s, size_t sz)
{
	size_t n = 0;

	if (*p < end) {
		n = **p % 32;
		(*p)++;
	}
	if (n > (size_t)(end - *p))
		n = (size_t)(end - *p);
	if (n >= sz)
		n = sz - 1;
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct json_writer w;
	struct json_doc *d;
	char s[64], k[96], err[JSON_ERR_MAX], *doc;
	int64_t v;
	size_t n, len;
	unsigned nkeys = 0;

	jw_init(&w);
	while (p < end) {
		switch (*p++ % 11) {
		case 0: jw_object_begin(&w); break;
		case 1: jw_object_end(&w); break;
		case 2: jw_array_begin(&w); break;
		case 3: jw_array_end(&w); break;
		case 4:
			take(&p, end, s, sizeof(s));
			/* strings hold no '_' after the last one: unique */
			snprintf(k, sizeof(k), "%s_%u", s, nkeys++);
			jw_key(&w, k);
			break;
		case 5:
			take(&p, end, s, sizeof(s));
			jw_string(&w, s);
			break;
		case 6:
			/* may hold NUL bytes */
			n = take(&p, end, s, sizeof(s));
			jw_string_n(&w, s, n);
			break;
		case 7:
			v = 0;
			n = (size_t)(end - p) < sizeof(v) ? (size_t)(end - p) :
			    sizeof(v);
			memcpy(&v, p, n);
			p += n;
			jw_int64(&w, v);
			break;
		case 8: jw_bool(&w, p < end ? *p++ & 1 : 0); break;
		case 9: jw_null(&w); break;
		default:
			jw_object_begin(&w);
			snprintf(k, sizeof(k), "k_%u", nkeys++);
			jw_key(&w, k);
			break;
		}
	}
	if (size > 0 && data[0] == 0xff) {
		jw_free(&w);
		return 0;
	}
	if ((doc = jw_finish(&w, &len)) == NULL)
		return 0;
	FUZZ_ASSERT(strlen(doc) == len && len > 0);
	if (doc[0] == '{') {
		d = json_parse(doc, len, JSON_MAX_BODY, JSON_MAX_TOKENS, err,
		    sizeof(err));
		if (d == NULL)
			fprintf(stderr, "writer output refused: %s\n", err);
		FUZZ_ASSERT(d != NULL);
		json_free(d);
	}
	free(doc);
	return 0;
}
