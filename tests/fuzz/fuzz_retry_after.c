/*
 * fuzz_retry_after.c: libFuzzer target for http_parse_retry_after()
 * (agent/http.c, built against the system's libcurl headers).  The input,
 * NUL-terminated, is a Retry-After header value; an input starting with
 * '@' gives "now" in the 8 bytes after it (kept within 0 .. 2^42 ms, about
 * year 2109: the clock's range, not an attacker's).  Checks: the result is -1 or >= 0, a
 * delta-seconds value is at most a day, and the parse does not depend on
 * anything but its arguments.
 */
#include <string.h>

#include "fuzz.h"
#include "http.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t now = 1780000000000LL, r;
	char *s;

	if (size > 8 && data[0] == '@') {
		memcpy(&now, data + 1, sizeof(now));
		now = (int64_t)((uint64_t)now % (1ULL << 42));
		data += 9, size -= 9;
	}
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	r = http_parse_retry_after(s, now);
	FUZZ_ASSERT(r == -1 || r >= 0);
	if (s[strspn(s, " \t")] >= '0' && s[strspn(s, " \t")] <= '9')
		FUZZ_ASSERT(r <= 86400 * 1000);
	FUZZ_ASSERT(http_parse_retry_after(s, now) == r);
	free(s);
	return 0;
}
