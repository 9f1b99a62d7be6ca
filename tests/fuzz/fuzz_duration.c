/*
 * fuzz_duration.c: libFuzzer target for conf_parse_duration()
 * (agent/conf.c).  The input, NUL-terminated at its first NUL or its end,
 * is a duration value.  Checks: an accepted value is >= 0, and the result
 * is the same when parsed again.
 */
#include <string.h>

#include "conf.h"
#include "fuzz.h"

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
	char *s;
	int64_t ms = -1, again = -2;
	int rc;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	rc = conf_parse_duration(s, &ms);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_ASSERT(ms >= 0);
		FUZZ_ASSERT(conf_parse_duration(s, &again) == 0 && again == ms);
	}
	free(s);
	return 0;
}
