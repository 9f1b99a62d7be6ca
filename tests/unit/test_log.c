/*
 * test_log.c: unit tests of agent/log.c: one event is one line, whatever
 * bytes a store put in the values it logs; the prefix and the threshold;
 * log_safe() on control, non-ASCII and long text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

/* What fmt logs at lvl with stderr on a file, into buf: its length. */
static size_t
logged(char *buf, size_t bufsz, enum log_level lvl, const char *fmt,
    const char *arg)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n = 0;

	if (f == NULL || saved == -1)
		return 0;
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_init(1);	/* not a terminal: with the journald prefix */
	log_msg(lvl, fmt, arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(buf, 1, bufsz - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void
test_one_line(void)
{
	char buf[4096];

	logged(buf, sizeof(buf), LOG_LVL_WARN, "store a: %s is not unique",
	    "h:coat/\nerror: forged\r\x1b[2J");
	CHECK_STR("a control byte in a value becomes '?'", buf,
	    "<4>warning: store a: h:coat/?error: forged??[2J is not unique\n");
	logged(buf, sizeof(buf), LOG_LVL_INFO, "%s", "h:\xc3\xa9t\xc3\xa9/-@0");
	CHECK_STR("UTF-8 stays", buf, "<6>h:\xc3\xa9t\xc3\xa9/-@0\n");
	logged(buf, sizeof(buf), LOG_LVL_DEBUG, "%s", "not at -v");
	CHECK_STR("below the threshold: nothing", buf, "");
}

static void
test_long_line(void)
{
	char *arg = malloc(5000), buf[8192];
	size_t n;

	memset(arg, 'x', 4999);
	arg[4999] = '\0';
	n = logged(buf, sizeof(buf), LOG_LVL_ERR, "%s", arg);
	CHECK("a long event is cut to one line", n > 0 && n < 2048 &&
	    buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1);
	free(arg);
}

static void
test_safe(void)
{
	char buf[16];

	CHECK_STR("log_safe: control and non-ASCII", log_safe(buf,
	    sizeof(buf), "a\nb\xc3\xa9", 5), "a?b??");
	CHECK_STR("log_safe: stops at n", log_safe(buf, sizeof(buf),
	    "abcdef", 3), "abc");
	CHECK_STR("log_safe: long text ends in ...", log_safe(buf,
	    sizeof(buf), "0123456789abcdefghij", 20), "0123456789ab...");
}

int
main(void)
{
	test_one_line();
	test_long_line();
	test_safe();
	return check_exit();
}
