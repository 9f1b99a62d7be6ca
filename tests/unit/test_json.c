/*
 * test_json.c: unit tests of agent/json.c: the strict reader (hostile
 * inputs), the typed getters and the escaping writer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

static struct json_doc *
parse(const char *s, char *err)
{
	return json_parse(s, strlen(s), JSON_MAX_BODY, JSON_MAX_TOKENS, err,
	    JSON_ERR_MAX);
}

/* Checks that s is rejected and that the reason contains want. */
static void
reject(const char *name, const char *s, const char *want)
{
	char err[JSON_ERR_MAX] = "", label[128];
	struct json_doc *d = parse(s, err);

	snprintf(label, sizeof(label), "reject %s", name);
	CHECK(label, d == NULL);
	json_free(d);
	snprintf(label, sizeof(label), "reject %s reason", name);
	if (strstr(err, want) != NULL)
		printf("PASS %s\n", label);
	else {
		printf("FAIL %s: got \"%s\", want \"%s\"\n", label, err, want);
		check_failures++;
	}
}

static void
accept(const char *name, const char *s)
{
	char err[JSON_ERR_MAX] = "", label[128];
	struct json_doc *d = parse(s, err);

	snprintf(label, sizeof(label), "accept %s", name);
	if (d != NULL)
		printf("PASS %s\n", label);
	else {
		printf("FAIL %s: %s\n", label, err);
		check_failures++;
	}
	json_free(d);
}

static void
test_syntax(void)
{
	accept("empty object", "{}");
	accept("whitespace around", " \t\r\n{ \"a\" : [ 1 , -2.5e3 , true , "
	    "false , null , \"x\" , { } , [ ] ] }\n ");
	reject("empty body", "", "empty");
	reject("only spaces", "   ", "truncated");
	reject("root array", "[1]", "root is not an object");
	reject("root string", "\"x\"", "root is not an object");
	reject("truncated object", "{\"a\":1", "truncated");
	reject("truncated string", "{\"a\":\"abc", "bad string");
	reject("trailing garbage", "{} x", "trailing");
	reject("two roots", "{}{}", "trailing");
	reject("object as key", "{{\"a\":1}:2}", "syntax");
	reject("array as key", "{[1]:2}", "syntax");
	reject("number as key", "{1:2}", "syntax");
	reject("missing colon", "{\"a\" 1}", "syntax");
	reject("missing value", "{\"a\":}", "bad string");
	reject("missing comma obj", "{\"a\":1 \"b\":2}", "syntax");
	reject("missing comma arr", "{\"a\":[1 2]}", "syntax");
	reject("double comma", "{\"a\":[1,,2]}", "bad string");
	reject("trailing comma arr", "{\"a\":[1,]}", "bad string");
	reject("trailing comma obj", "{\"a\":1,}", "syntax");
	reject("leading comma", "{,\"a\":1}", "syntax");
	reject("mismatched close", "{\"a\":[1}", "syntax");
	reject("extra close", "{}}", "trailing");
	reject("tru", "{\"a\":tru}", "bad string");
	reject("truex", "{\"a\":truex}", "bad string");
	reject("nul", "{\"a\":nul}", "bad string");
	reject("fals", "{\"a\":fals}", "bad string");
	reject("True", "{\"a\":True}", "bad string");
	reject("NaN", "{\"a\":NaN}", "bad string");
	reject("leading zero", "{\"a\":01}", "bad string");
	reject("lone minus", "{\"a\":-}", "bad string");
	reject("plus", "{\"a\":+1}", "bad string");
	reject("dot first", "{\"a\":.5}", "bad string");
	reject("dot last", "{\"a\":1.}", "bad string");
	reject("bare exp", "{\"a\":1e}", "bad string");
	reject("hex", "{\"a\":0x10}", "bad string");
	reject("single quotes", "{'a':1}", "syntax");
	reject("unquoted key", "{a:1}", "syntax");
	reject("bad escape", "{\"a\":\"\\x41\"}", "bad string");
	reject("short unicode", "{\"a\":\"\\u12\"}", "bad string");
	reject("u0000", "{\"a\":\"x\\u0000y\"}", "bad string");
	reject("raw newline", "{\"a\":\"x\ny\"}", "bad string");
	reject("raw tab", "{\"a\":\"x\ty\"}", "bad string");
	reject("lone high surrogate", "{\"a\":\"\\ud83d\"}", "bad string");
	reject("high then ascii", "{\"a\":\"\\ud83dx\"}", "bad string");
	reject("lone low surrogate", "{\"a\":\"\\ude00\"}", "bad string");
	reject("invalid utf8", "{\"a\":\"\xff\"}", "bad string");
	reject("overlong utf8", "{\"a\":\"\xc0\xaf\"}", "bad string");
	reject("utf8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", "bad string");
	reject("truncated utf8", "{\"a\":\"\xe2\x82\"}", "bad string");
	reject("above 10ffff", "{\"a\":\"\xf4\x90\x80\x80\"}", "bad string");
	reject("bad utf8 in key", "{\"\xff\":1}", "bad string");
	reject("duplicate key", "{\"a\":1,\"b\":2,\"a\":3}", "duplicate key \"a\"");
	reject("duplicate nested", "{\"o\":{\"k\":1,\"k\":1}}", "duplicate");
	reject("duplicate escaped", "{\"ab\":1,\"\\u0061b\":2}", "duplicate");
	accept("same key in two objects", "{\"a\":{\"k\":1},\"b\":{\"k\":1}}");
	accept("keys differ by prefix", "{\"a\":1,\"ab\":2,\"abc\":3}");
}

static void
test_nul_and_limits(void)
{
	char err[JSON_ERR_MAX] = "", *big;
	struct json_doc *d;
	size_t i, n;

	d = json_parse("{\"a\":1}\0x", 9, JSON_MAX_BODY, 100, err, sizeof(err));
	CHECK("NUL byte rejected", d == NULL && strstr(err, "NUL") != NULL);
	json_free(d);

	d = json_parse("{\"a\":[1,2,3]}", 13, 12, 100, err, sizeof(err));
	CHECK("body cap", d == NULL && strstr(err, "too big") != NULL);
	json_free(d);
	d = json_parse("{\"a\":[1,2,3]}", 13, 13, 6, err, sizeof(err));
	CHECK("token cap exact ok", d != NULL);
	json_free(d);
	d = json_parse("{\"a\":[1,2,3]}", 13, 13, 5, err, sizeof(err));
	CHECK("token cap", d == NULL && strstr(err, "too big") != NULL);
	json_free(d);

	/* nesting: 63 arrays inside the root is depth 64, one more fails */
	n = 64;
	big = malloc(2 * n + 16);
	for (i = 0; i < 2; i++) {
		size_t depth = n - 1 + i, k, o = 0;

		big[o++] = '{', big[o++] = '"', big[o++] = 'a';
		big[o++] = '"', big[o++] = ':';
		for (k = 0; k < depth; k++)
			big[o++] = '[';
		for (k = 0; k < depth; k++)
			big[o++] = ']';
		big[o++] = '}';
		d = json_parse(big, o, JSON_MAX_BODY, JSON_MAX_TOKENS, err,
		    sizeof(err));
		if (i == 0)
			CHECK("depth 64 accepted", d != NULL);
		else
			CHECK("depth 65 rejected", d == NULL &&
			    strstr(err, "deeper") != NULL);
		json_free(d);
	}
	free(big);

	/* very deep: no recursion, rejected quickly */
	n = 1000000;
	big = malloc(n + 8);
	big[0] = '{', big[1] = '"', big[2] = 'a', big[3] = '"', big[4] = ':';
	memset(big + 5, '[', n);
	d = json_parse(big, n + 5, 2 * n, JSON_MAX_TOKENS, err, sizeof(err));
	CHECK("million brackets rejected", d == NULL);
	json_free(d);
	free(big);

	/* huge array within limits: linear walk */
	n = 200000;
	big = malloc(2 * n + 16);
	{
		size_t o = 0, k;
		int t, cnt = 0;

		memcpy(big, "{\"a\":[", 6);
		o = 6;
		for (k = 0; k < n; k++) {
			big[o++] = '0';
			big[o++] = ',';
		}
		big[o - 1] = ']';
		big[o++] = '}';
		d = json_parse(big, o, JSON_MAX_BODY, JSON_MAX_TOKENS, err,
		    sizeof(err));
		CHECK("200k element array accepted", d != NULL);
		t = json_get(d, 0, "a");
		CHECK_INT("200k array len", json_array_len(d, t), (int)n);
		for (t = json_array_first(d, t); t >= 0 && t < json_ntokens(d);
		    t = json_skip(d, t))
			cnt++;
		CHECK_INT("200k walk", cnt, (int)n);
		json_free(d);
		d = json_parse(big, o, JSON_MAX_BODY, 1000, err, sizeof(err));
		CHECK("200k array over token cap", d == NULL &&
		    strstr(err, "too big") != NULL);
		json_free(d);
	}
	free(big);
}

static void
test_getters(void)
{
	const char *s = "{\"s\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\u2603\\ud83d\\ude00\","
	    "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
	    "\"over\":9223372036854775808,\"f\":2.5,\"e\":1e2,\"neg0\":-0,"
	    "\"t\":true,\"fa\":false,\"n\":null,\"big\":1e999,"
	    "\"arr\":[{\"x\":1},{\"x\":2},[3],\"four\"],\"o\":{\"k\\u0065y\":7}}";
	char err[JSON_ERR_MAX], buf[64];
	struct json_doc *d = parse(s, err);
	int64_t v;
	double x;
	int b, t;
	size_t len;
	char *dup;

	CHECK("getters doc parses", d != NULL);
	if (d == NULL)
		return;
	t = json_get(d, 0, "s");
	CHECK("string decoded", json_string(d, t, buf, sizeof(buf), &len) == 0 &&
	    strcmp(buf, "a\"b\\c/d\n\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80") == 0);
	CHECK_INT("string length", len, 17);
	CHECK("string too small buffer", json_string(d, t, buf, 17, NULL) == -1);
	dup = json_strdup(d, t, &len);
	CHECK("strdup", dup != NULL && len == 17 && strcmp(dup, buf) == 0);
	free(dup);
	CHECK("string of number fails",
	    json_string(d, json_get(d, 0, "max"), buf, sizeof(buf), NULL) == -1);
	CHECK("int64 max", json_int64(d, json_get(d, 0, "max"), INT64_MIN,
	    INT64_MAX, &v) == 0 && v == INT64_MAX);
	CHECK("int64 min", json_int64(d, json_get(d, 0, "min"), INT64_MIN,
	    INT64_MAX, &v) == 0 && v == INT64_MIN);
	CHECK("int64 overflow", json_int64(d, json_get(d, 0, "over"),
	    INT64_MIN, INT64_MAX, &v) == -1);
	CHECK("int64 range", json_int64(d, json_get(d, 0, "max"), 0, 100,
	    &v) == -1);
	CHECK("int64 of float", json_int64(d, json_get(d, 0, "f"), INT64_MIN,
	    INT64_MAX, &v) == -1);
	CHECK("int64 of exponent", json_int64(d, json_get(d, 0, "e"),
	    INT64_MIN, INT64_MAX, &v) == -1);
	CHECK("int64 -0", json_int64(d, json_get(d, 0, "neg0"), INT64_MIN,
	    INT64_MAX, &v) == 0 && v == 0);
	CHECK("int64 of string", json_int64(d, t, INT64_MIN, INT64_MAX,
	    &v) == -1);
	CHECK("int64 of true", json_int64(d, json_get(d, 0, "t"), INT64_MIN,
	    INT64_MAX, &v) == -1);
	CHECK("double", json_double(d, json_get(d, 0, "f"), &x) == 0 &&
	    x == 2.5);
	CHECK("double exp", json_double(d, json_get(d, 0, "e"), &x) == 0 &&
	    x == 100.0);
	CHECK("double overflow", json_double(d, json_get(d, 0, "big"),
	    &x) == -1);
	CHECK("bool true", json_bool(d, json_get(d, 0, "t"), &b) == 0 && b == 1);
	CHECK("bool false", json_bool(d, json_get(d, 0, "fa"), &b) == 0 &&
	    b == 0);
	CHECK("bool of null", json_bool(d, json_get(d, 0, "n"), &b) == -1);
	CHECK("bool of number", json_bool(d, json_get(d, 0, "max"), &b) == -1);
	CHECK("null", json_is_null(d, json_get(d, 0, "n")));
	CHECK("not null", !json_is_null(d, json_get(d, 0, "fa")));
	CHECK("absent key", json_get(d, 0, "nope") == -1);
	CHECK("get on array", json_get(d, json_get(d, 0, "arr"), "x") == -1);
	CHECK("escaped key found", json_path(d, 0, "o.key") >= 0);
	CHECK_INT("array len", json_array_len(d, json_get(d, 0, "arr")), 4);
	CHECK_INT("array len of object", json_array_len(d, 0), -1);
	CHECK("array at 3", json_type(d, json_array_at(d,
	    json_get(d, 0, "arr"), 3)) == JSON_STRING);
	CHECK("array at 4", json_array_at(d, json_get(d, 0, "arr"), 4) == -1);
	CHECK("path", json_int64(d, json_path(d, 0, "arr[1].x"), 0, 10,
	    &v) == 0 && v == 2);
	CHECK("path nested array", json_int64(d, json_path(d, 0, "arr[2][0]"),
	    0, 10, &v) == 0 && v == 3);
	CHECK("path wrong type", json_path(d, 0, "arr.x") == -1);
	CHECK("path bad index", json_path(d, 0, "arr[x]") == -1);
	CHECK("path out of range", json_path(d, 0, "arr[99]") == -1);
	CHECK("bad token index", json_type(d, -1) == JSON_NONE &&
	    json_type(d, 100000) == JSON_NONE && json_skip(d, 100000) == -1);
	CHECK("string of bad index", json_string(d, 99999, buf, sizeof(buf),
	    NULL) == -1);
	json_free(d);
}

static void
test_writer(void)
{
	struct json_writer w;
	struct json_doc *d;
	char *s, err[JSON_ERR_MAX], buf[64];
	size_t len;
	int64_t v;

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "s");
	jw_string(&w, "q\"b\\s/\n\t\r\x01\x7f\xc3\xa9");
	jw_key(&w, "i");
	jw_int64(&w, INT64_MIN);
	jw_key(&w, "changeFromQuantity");
	jw_null(&w);
	jw_key(&w, "a");
	jw_array_begin(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_int64(&w, -5);
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_array_end(&w);
	jw_object_end(&w);
	s = jw_finish(&w, &len);
	CHECK_STR("writer output", s, "{\"s\":\"q\\\"b\\\\s/\\n\\t\\r\\u0001"
	    "\\u007f\xc3\xa9\",\"i\":-9223372036854775808,"
	    "\"changeFromQuantity\":null,\"a\":[true,false,-5,{}]}");
	CHECK("writer length", s != NULL && len == strlen(s));
	d = s ? parse(s, err) : NULL;
	CHECK("writer round trip parses", d != NULL);
	CHECK("round trip string", json_string(d, json_get(d, 0, "s"), buf,
	    sizeof(buf), NULL) == 0 &&
	    strcmp(buf, "q\"b\\s/\n\t\r\x01\x7f\xc3\xa9") == 0);
	CHECK("round trip int", json_int64(d, json_get(d, 0, "i"), INT64_MIN,
	    INT64_MAX, &v) == 0 && v == INT64_MIN);
	CHECK("round trip explicit null",
	    json_is_null(d, json_get(d, 0, "changeFromQuantity")));
	json_free(d);
	free(s);

	jw_init(&w);
	jw_object_begin(&w);
	jw_string(&w, "value without key");
	jw_object_end(&w);
	CHECK("writer: value without key", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_array_begin(&w);
	jw_key(&w, "k");
	jw_array_end(&w);
	CHECK("writer: key in array", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_object_begin(&w);
	CHECK("writer: unclosed", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "k");
	jw_object_end(&w);
	CHECK("writer: key without value", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_object_begin(&w);
	jw_key(&w, "k");
	jw_string(&w, "bad \xff utf8");
	jw_object_end(&w);
	CHECK("writer: invalid utf8", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_object_begin(&w);
	CHECK("writer: second root", jw_finish(&w, NULL) == NULL);

	jw_init(&w);
	jw_object_begin(&w);
	jw_array_end(&w);
	CHECK("writer: mismatched close", jw_finish(&w, NULL) == NULL);
}

int
main(void)
{
	test_syntax();
	test_nul_and_limits();
	test_getters();
	test_writer();
	return check_exit();
}
