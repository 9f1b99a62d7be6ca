/*
 * test_notify.c: drives agent/notify.c: binds AF_UNIX datagram sockets (a
 * path in a mkdtemp(3) directory and an abstract name), points
 * $NOTIFY_SOCKET at them and checks every datagram byte for byte, with the
 * sender's pid from SCM_CREDENTIALS; the no-op and error cases; and
 * notify_watchdog_ms() over $WATCHDOG_USEC/$WATCHDOG_PID.
 */
#define _GNU_SOURCE		/* struct ucred, SCM_CREDENTIALS */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "notify.h"

#define RECV_MAX	2048
#define RECV_WAIT_MS	2000

static char tmpdir[256];
static char sockpath[300];

/*
 * Binds a datagram socket to path (a leading '@' means abstract) with
 * SO_PASSCRED and a receive timeout.  Returns the fd, or -1.
 */
static int
bind_socket(const char *path)
{
	struct sockaddr_un sa;
	struct timeval tv = { RECV_WAIT_MS / 1000, 0 };
	socklen_t len;
	size_t n = strlen(path);
	int fd, one = 1;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (n >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	if (bind(fd, (struct sockaddr *)&sa, len) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Receives one datagram on fd into buf (NUL-terminated) and the sender's
 * pid into *pid (0 when no credentials came).  Returns its length, or -1
 * (nothing within RECV_WAIT_MS).
 */
static ssize_t
recv_one(int fd, char *buf, size_t sz, pid_t *pid)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, sz - 1 };
	struct msghdr m;
	struct cmsghdr *c;
	struct ucred uc;
	ssize_t r;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof(ctl.buf);
	*pid = 0;
	if ((r = recvmsg(fd, &m, 0)) == -1)
		return -1;
	buf[r] = '\0';
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
		}
	}
	return r;
}

/* Returns 1 when nothing is waiting on fd (polls without blocking). */
static int
nothing_waiting(int fd)
{
	char b[16];

	return recv(fd, b, sizeof(b), MSG_DONTWAIT) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Checks that fd got exactly want from this process, under name. */
static void
expect(int fd, const char *name, const char *want)
{
	char buf[RECV_MAX], n2[128];
	pid_t pid;

	if (recv_one(fd, buf, sizeof(buf), &pid) == -1) {
		printf("FAIL %s: no datagram: %s\n", name, strerror(errno));
		check_failures++;
		return;
	}
	CHECK_STR(name, buf, want);
	snprintf(n2, sizeof(n2), "%s_sender_pid", name);
	CHECK_INT(n2, pid, getpid());
}

/* Without $NOTIFY_SOCKET (unset or empty) every sender is a no-op. */
static void
test_noop(void)
{
	unsetenv("NOTIFY_SOCKET");
	CHECK_INT("noop_unset_ready", notify_ready(), 0);
	CHECK_INT("noop_unset_watchdog", notify_watchdog(), 0);
	CHECK_INT("noop_unset_status", notify_status("x %d", 1), 0);
	CHECK_INT("noop_unset_stopping", notify_stopping(), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK_INT("noop_empty_ready", notify_ready(), 0);
	CHECK_INT("noop_empty_status", notify_status("x"), 0);
	unsetenv("NOTIFY_SOCKET");
}

/* The four messages over a socket bound to a path. */
static void
test_path(void)
{
	char want[NOTIFY_STATUS_MAX + 64], long_in[NOTIFY_STATUS_MAX * 2];
	int fd;

	snprintf(sockpath, sizeof(sockpath), "%s/notify", tmpdir);
	if ((fd = bind_socket(sockpath)) == -1) {
		printf("FAIL path_bind: %s: %s\n", sockpath, strerror(errno));
		check_failures++;
		return;
	}
	setenv("NOTIFY_SOCKET", sockpath, 1);
	CHECK_INT("path_ready_rc", notify_ready(), 1);
	expect(fd, "path_ready", "READY=1");
	CHECK_INT("path_watchdog_rc", notify_watchdog(), 1);
	expect(fd, "path_watchdog", "WATCHDOG=1");
	CHECK_INT("path_status_rc",
	    notify_status("%d changes seen, %d written in %lld ms", 3, 2,
	    417LL), 1);
	expect(fd, "path_status", "STATUS=3 changes seen, 2 written in 417 ms");
	CHECK_INT("path_stopping_rc", notify_stopping(), 1);
	expect(fd, "path_stopping", "STOPPING=1");

	/* one line: a newline must not smuggle in another assignment */
	CHECK_INT("path_status_newline_rc",
	    notify_status("paused\nREADY=1\tx\x7f"), 1);
	expect(fd, "path_status_newline", "STATUS=paused READY=1 x ");

	/* cut to NOTIFY_STATUS_MAX bytes */
	memset(long_in, 'a', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	CHECK_INT("path_status_long_rc", notify_status("%s", long_in), 1);
	snprintf(want, sizeof(want), "STATUS=%.*s", NOTIFY_STATUS_MAX, long_in);
	expect(fd, "path_status_long", want);

	CHECK_INT("path_status_empty_rc", notify_status("%s", ""), 1);
	expect(fd, "path_status_empty", "STATUS=");

	CHECK_INT("path_send_raw_rc", notify_send("READY=1\nSTATUS=up"), 1);
	expect(fd, "path_send_raw", "READY=1\nSTATUS=up");
	CHECK("path_nothing_left", nothing_waiting(fd));
	close(fd);
	unlink(sockpath);

	/* the socket is gone: an error, not a crash or a hang */
	errno = 0;
	CHECK_INT("path_gone_rc", notify_ready(), -1);
	CHECK("path_gone_errno", errno == ENOENT || errno == ECONNREFUSED);
	unsetenv("NOTIFY_SOCKET");
}

/* An abstract socket name written "@name". */
static void
test_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@invsync-test-notify-%ld",
	    (long)getpid());
	if ((fd = bind_socket(name)) == -1) {
		printf("FAIL abstract_bind: %s: %s\n", name, strerror(errno));
		check_failures++;
		return;
	}
	setenv("NOTIFY_SOCKET", name, 1);
	CHECK_INT("abstract_ready_rc", notify_ready(), 1);
	expect(fd, "abstract_ready", "READY=1");
	CHECK_INT("abstract_status_rc", notify_status("ok"), 1);
	expect(fd, "abstract_status", "STATUS=ok");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

/* Addresses that cannot work fail with the documented errno. */
static void
test_bad_addresses(void)
{
	char longname[200];

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	errno = 0;
	CHECK_INT("bad_family_rc", notify_ready(), -1);
	CHECK_INT("bad_family_errno", errno, EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	errno = 0;
	CHECK_INT("bad_relative_rc", notify_watchdog(), -1);
	CHECK_INT("bad_relative_errno", errno, EAFNOSUPPORT);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[0] = '/';
	setenv("NOTIFY_SOCKET", longname, 1);
	errno = 0;
	CHECK_INT("bad_long_path_rc", notify_ready(), -1);
	CHECK_INT("bad_long_path_errno", errno, ENAMETOOLONG);
	longname[0] = '@';
	setenv("NOTIFY_SOCKET", longname, 1);
	errno = 0;
	CHECK_INT("bad_long_abstract_rc", notify_status("x"), -1);
	CHECK_INT("bad_long_abstract_errno", errno, ENAMETOOLONG);
	unsetenv("NOTIFY_SOCKET");
}

/* $WATCHDOG_USEC and $WATCHDOG_PID. */
static void
test_watchdog_ms(void)
{
	static const struct {
		const char	*name;
		const char	*usec;		/* NULL: unset */
		int64_t		 want;
	} t[] = {
		{ "wd_unset", NULL, 0 },
		{ "wd_empty", "", 0 },
		{ "wd_30s", "30000000", 30000 },
		{ "wd_round_up", "1500", 2 },
		{ "wd_one_usec", "1", 1 },
		{ "wd_zero", "0", 0 },
		{ "wd_negative", "-5", 0 },
		{ "wd_plus", "+5000", 0 },
		{ "wd_junk", "3000000x", 0 },
		{ "wd_blank", " 3000000", 0 },
		{ "wd_overflow", "99999999999999999999999", 0 },
		{ "wd_huge", "18446744073709551615", 18446744073709552LL },
	};
	char pid[32];
	size_t i;

	unsetenv("WATCHDOG_PID");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].usec == NULL)
			unsetenv("WATCHDOG_USEC");
		else
			setenv("WATCHDOG_USEC", t[i].usec, 1);
		CHECK_INT(t[i].name, notify_watchdog_ms(), t[i].want);
	}
	setenv("WATCHDOG_USEC", "20000000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT("wd_pid_ours", notify_watchdog_ms(), 20000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT("wd_pid_other", notify_watchdog_ms(), 0);
	setenv("WATCHDOG_PID", "abc", 1);
	CHECK_INT("wd_pid_junk", notify_watchdog_ms(), 0);
	setenv("WATCHDOG_PID", "", 1);
	CHECK_INT("wd_pid_empty", notify_watchdog_ms(), 20000);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_notify.XXXXXX",
	    t != NULL && t[0] == '/' && strlen(t) < 64 ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_noop();
	test_path();
	test_abstract();
	test_bad_addresses();
	test_watchdog_ms();
	unlink(sockpath);
	rmdir(tmpdir);
	return check_exit();
}
