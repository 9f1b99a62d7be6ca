/*
 * util.h: small helpers every module may use: checked allocation, the clock
 * (a link seam: tests may replace util_now_ms()), random keys, sleeping.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation that never returns NULL: out of memory is fatal(). */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);

/* Wall-clock time in milliseconds since the epoch. */
int64_t	 util_now_ms(void);
/* Monotonic time in milliseconds, for timeouts and intervals. */
int64_t	 util_mono_ms(void);

/*
 * Fills hex (33 bytes) with a fresh random 128-bit key as 32 lowercase hex
 * digits.  Returns 0, or -1 when no randomness could be read.
 */
int	 util_random_key(char hex[33]);
/* A uniformly random number in [0, n) for jitter; never fails. */
uint32_t util_random_below(uint32_t n);

/*
 * Sleeps for ms milliseconds or until *stop becomes non-zero (checked every
 * 100 ms).  Returns 0 when the time passed, 1 when stopped early.
 */
int	 util_sleep_ms(int64_t ms, volatile int *stop);

/* Formats a unix time in ms as ISO-8601 UTC ("2026-11-27T00:43:00Z") into buf (>= 21 bytes). */
char	*util_iso_time(int64_t ms, char *buf, size_t bufsz);

#endif
