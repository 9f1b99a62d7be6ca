/*
 * log.c: owns the process's diagnostic output (stderr) and the verbosity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int log_threshold = LOG_LVL_NOTICE;
static int log_prefix = -1;	/* -1: not decided yet */

void
log_init(int verbosity)
{
	if (verbosity < 0)
		log_threshold = LOG_LVL_WARN;
	else if (verbosity == 0)
		log_threshold = LOG_LVL_NOTICE;
	else if (verbosity == 1)
		log_threshold = LOG_LVL_INFO;
	else
		log_threshold = LOG_LVL_DEBUG;
	log_prefix = !isatty(STDERR_FILENO);
}

/*
 * Replaces every control byte of the formatted message s by '?': a value
 * from a store (a handle, a SKU) that no caller passed through log_safe()
 * still cannot start a line of its own or steer a terminal.  UTF-8 stays.
 */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[LOG_LVL_ERR] = "error: ", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_NOTICE] = "", [LOG_LVL_INFO] = "", [LOG_LVL_DEBUG] = "debug: "
	};
	char line[2048];
	int n;

	if ((int)lvl > log_threshold)
		return;
	if (log_prefix == -1)
		log_prefix = !isatty(STDERR_FILENO);
	if (log_prefix)
		n = snprintf(line, sizeof(line), "<%d>%s", (int)lvl, names[lvl]);
	else
		n = snprintf(line, sizeof(line), "%s", names[lvl]);
	if (n < 0)
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	one_line(line + n);
	/* one write(2) per line keeps lines whole when processes share stderr */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = (int)sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_safe(char *buf, size_t bufsz, const char *s, size_t n)
{
	size_t i, o = 0;

	if (bufsz == 0)
		return buf;
	for (i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 4 >= bufsz) {
			if (bufsz >= 4) {
				o = bufsz - 4;
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
	return buf;
}
