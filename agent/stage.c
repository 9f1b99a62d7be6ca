/*
 * stage.c: owns the temporary files of writes that must appear whole or
 * not at all (stage.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stage.h"

/* Read by the signal handler: what to remove. */
static char			path[STAGE_SLOTS][STAGE_PATH_MAX];
static volatile sig_atomic_t	used[STAGE_SLOTS];

/* Removes slot k's file; async-signal-safe. */
static void
drop(size_t k)
{
	if (used[k]) {
		used[k] = 0;
		unlink(path[k]);
	}
}

void
stage_drop_all(void)
{
	size_t k;

	for (k = 0; k < STAGE_SLOTS; k++)
		drop(k);
}

const char *
stage_path(size_t k)
{
	return k < STAGE_SLOTS && used[k] ? path[k] : "";
}

/* Writes all of data to fd.  Returns 0, or -1 with errno. */
static int
write_all(int fd, const char *data, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int
stage_write(size_t k, const char *dir, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, char *why, size_t whysz)
{
	int fd, n;

	if (k >= STAGE_SLOTS) {
		snprintf(why, whysz, "no staging slot %zu", k);
		return -1;
	}
	drop(k);
	n = snprintf(path[k], sizeof(path[k]), "%s.invsync-init.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path[k])) {
		snprintf(why, whysz, "%s: path too long", dir);
		return -1;
	}
	if ((fd = mkstemp(path[k])) == -1) {
		snprintf(why, whysz, "cannot create a file in %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	used[k] = 1;
	if (write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) == -1) ||
	    fsync(fd) == -1) {
		snprintf(why, whysz, "cannot write %s: %s", path[k],
		    strerror(errno));
		close(fd);
		drop(k);
		return -1;
	}
	if (close(fd) == -1) {
		snprintf(why, whysz, "cannot write %s: %s", path[k],
		    strerror(errno));
		drop(k);
		return -1;
	}
	return 0;
}

int
stage_commit(size_t k, const char *dest, char *why, size_t whysz)
{
	if (k >= STAGE_SLOTS || !used[k]) {
		snprintf(why, whysz, "nothing staged for %s", dest);
		return -1;
	}
	if (rename(path[k], dest) == -1) {
		snprintf(why, whysz, "cannot rename %s to %s: %s",
		    path[k], dest, strerror(errno));
		return -1;
	}
	used[k] = 0;
	return 0;
}

int
stage_sync_dir(const char *dir, char *why, size_t whysz)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd == -1 || fsync(fd) == -1) {
		snprintf(why, whysz, "cannot sync %s: %s", dir,
		    strerror(errno));
		r = -1;
	}
	if (fd != -1)
		close(fd);
	return r;
}
