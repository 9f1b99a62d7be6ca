/*
 * fuzz_conf.c: libFuzzer target for the config parser (agent/conf.c).  The
 * input is a config file.  Runs in a scratch directory holding the secret
 * files the seeds name (a.token, b.token, c.token, c.secret, 0600), so
 * good configurations get through to conf_print().  Checks: the return
 * value agrees with the error count, every kept error is a C string that
 * starts with the file name, and a good configuration prints.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static char dir[64];

static void
put(const char *name, const char *s)
{
	int fd;

	if ((fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
	close(fd);
}

static const char *const files[] = {
	"a.token", "b.token", "c.token", "c.secret", "ca.pem"
};

/* Removes the scratch directory at exit. */
static void
cleanup(void)
{
	size_t i;

	if (chdir(dir) == 0)
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			unlink(files[i]);
	(void)!chdir("/");
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup();
	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(dir, sizeof(dir), "/tmp/fuzz_conf.XXXXXX");
	if (mkdtemp(dir) == NULL || chdir(dir) == -1)
		abort();
	atexit(cleanup);
	put("a.token", "shpat_a\n");
	put("b.token", "shpat_b\n");
	put("c.token", "shpat_c\n");
	put("c.secret", "secret_c\n");
	put("ca.pem", "-----BEGIN CERTIFICATE-----\n");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	static struct conf_errors e;
	size_t i;
	int rc;

	rc = conf_parse("t.conf", (const char *)data, size, &c, &e);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT((rc == -1) == (e.total > 0));
	FUZZ_ASSERT(e.n <= CONF_MAX_ERRORS && e.n <= e.total);
	for (i = 0; i < e.n; i++) {
		FUZZ_ASSERT(memchr(e.msg[i], '\0', CONF_ERR_MAX) != NULL);
		FUZZ_ASSERT(strncmp(e.msg[i], "t.conf", 6) == 0);
	}
	if (rc == 0) {
		FUZZ_ASSERT(c.nstores >= 1 && c.nstores <= CONF_MAX_STORES);
		FUZZ_ASSERT(c.nloclinks <= CONF_MAX_LOCLINKS);
		conf_print(&c, fuzz_null);
	}
	return 0;
}
