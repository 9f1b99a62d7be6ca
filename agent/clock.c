/*
 * clock.c: owns what the agent takes from the machine besides the network
 * and the disk: the wall and monotonic clocks, sleeping, and randomness.
 *
 * This file is a link seam (declared in util.h): the deterministic
 * simulation (tests/sim/) links its own clock instead, whose time moves only
 * when the agent sleeps or waits on a simulated store, and whose randomness
 * comes from the schedule's seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
read_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	int fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
}

int
util_random_key(char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (read_random(raw, sizeof(raw)) == -1)
		return -1;
	for (i = 0; i < sizeof(raw); i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 0xf];
	}
	hex[32] = '\0';
	return 0;
}

uint32_t
util_random_below(uint32_t n)
{
	static uint64_t s;
	uint32_t r;

	if (n == 0)
		return 0;
	if (s == 0 && read_random(&s, sizeof(s)) == -1)
		s = (uint64_t)util_mono_ms() | 1;
	s |= 1;
	/* xorshift64*: jitter only, never keys */
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	r = (uint32_t)((s * 2685821657736338717ULL) >> 32);
	return r % n;
}

int
util_sleep_ms(int64_t ms, volatile int *stop)
{
	int64_t end = util_mono_ms() + ms;

	for (;;) {
		int64_t left = end - util_mono_ms();
		struct timespec ts;

		if (stop != NULL && *stop)
			return 1;
		if (left <= 0)
			return 0;
		if (left > 100)
			left = 100;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
}
