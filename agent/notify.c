/*
 * notify.c: owns the service manager notification protocol (sd_notify(3)):
 * one AF_UNIX datagram per message to $NOTIFY_SOCKET, and the watchdog
 * interval from $WATCHDOG_USEC/$WATCHDOG_PID.  No libsystemd.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

/*
 * Fills *sa from $NOTIFY_SOCKET and sets *len to the address length.
 * Returns 1, 0 when the variable is unset or empty, or -1 with errno set
 * (EAFNOSUPPORT: neither "/path" nor "@abstract"; ENAMETOOLONG).
 */
static int
notify_addr(struct sockaddr_un *sa, socklen_t *len)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (e == NULL || e[0] == '\0')
		return 0;
	if (e[0] != '/' && e[0] != '@') {
		errno = EAFNOSUPPORT;
		return -1;
	}
	n = strlen(e);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (e[0] == '@') {
		/* abstract: a leading NUL, no terminating NUL counted */
		if (n > sizeof(sa->sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sa->sun_path + 1, e + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		if (n >= sizeof(sa->sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sa->sun_path, e, n + 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	}
	return 1;
}

/* See notify.h. */
int
notify_send(const char *msg)
{
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t w;
	size_t n = strlen(msg);
	int fd, r, saved;

	if ((r = notify_addr(&sa, &len)) <= 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	do
		w = sendto(fd, msg, n, MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, len);
	while (w == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (w == -1) {
		errno = saved;
		return -1;
	}
	if ((size_t)w != n) {
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

/* See notify.h. */
int
notify_ready(void)
{
	return notify_send("READY=1");
}

/* See notify.h. */
int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

/* See notify.h. */
int
notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

/* See notify.h. */
int
notify_status(const char *fmt, ...)
{
	static const char prefix[] = "STATUS=";
	char msg[sizeof(prefix) - 1 + NOTIFY_STATUS_MAX + 1];
	char *s;
	va_list ap;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	memcpy(msg, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	if (vsnprintf(msg + sizeof(prefix) - 1, NOTIFY_STATUS_MAX + 1, fmt,
	    ap) < 0)
		msg[sizeof(prefix) - 1] = '\0';
	va_end(ap);
	for (s = msg + sizeof(prefix) - 1; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	return notify_send(msg);
}

/*
 * Parses s as a positive decimal number without sign or junk into *v.
 * Returns 0, or -1.
 */
static int
parse_positive(const char *s, unsigned long long *v)
{
	unsigned long long n = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (~0ULL - (unsigned)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned)(*s - '0');
	}
	if (*s != '\0' || n == 0)
		return -1;
	*v = n;
	return 0;
}

/* See notify.h. */
int64_t
notify_watchdog_ms(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long usec, p;

	if (parse_positive(getenv("WATCHDOG_USEC"), &usec) == -1)
		return 0;
	if (pid != NULL && pid[0] != '\0' &&
	    (parse_positive(pid, &p) == -1 || p != (unsigned long long)getpid()))
		return 0;
	usec = usec / 1000 + (usec % 1000 != 0);	/* round up to ms */
	return usec > (unsigned long long)INT64_MAX ? INT64_MAX : (int64_t)usec;
}
