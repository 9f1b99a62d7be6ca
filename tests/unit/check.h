/*
 * check.h: the tiny assertion kit of the C unit-test drivers.
 *
 * Every check prints one line to stdout that tests/run counts:
 *   PASS <name>            the check held
 *   FAIL <name>: <why>     it did not
 *   SKIP <name>: <why>     it could not run here
 * A driver returns check_exit() from main: 0 when nothing failed.
 */
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(name, cond) do {						\
	if (cond)							\
		printf("PASS %s\n", (name));				\
	else {								\
		printf("FAIL %s: %s (%s:%d)\n", (name), #cond,		\
		    __FILE__, __LINE__);				\
		check_failures++;					\
	}								\
} while (0)

#define CHECK_INT(name, got, want) do {					\
	long long check_g_ = (long long)(got);				\
	long long check_w_ = (long long)(want);				\
	if (check_g_ == check_w_)					\
		printf("PASS %s\n", (name));				\
	else {								\
		printf("FAIL %s: got %lld, want %lld (%s:%d)\n",	\
		    (name), check_g_, check_w_, __FILE__, __LINE__);	\
		check_failures++;					\
	}								\
} while (0)

#define CHECK_STR(name, got, want) do {					\
	const char *check_g_ = (got), *check_w_ = (want);		\
	if (check_g_ != NULL && check_w_ != NULL &&			\
	    strcmp(check_g_, check_w_) == 0)				\
		printf("PASS %s\n", (name));				\
	else {								\
		printf("FAIL %s: got \"%s\", want \"%s\" (%s:%d)\n",	\
		    (name), check_g_ ? check_g_ : "(null)",		\
		    check_w_ ? check_w_ : "(null)", __FILE__, __LINE__);\
		check_failures++;					\
	}								\
} while (0)

#define SKIP(name, why) printf("SKIP %s: %s\n", (name), (why))

static inline int
check_exit(void)
{
	return check_failures ? 1 : 0;
}

/* Removes a temporary LMDB state directory: its two files, then it. */
static inline void
check_remove_state(const char *dir)
{
	static const char *const files[] = { "invsync.mdb", "invsync.mdb-lock" };
	char path[512];
	size_t k;

	for (k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[k]);
		(void)remove(path);
	}
	(void)remove(dir);
}

#endif
