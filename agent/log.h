/*
 * log.h: one line per event to stderr.
 *
 * When stderr is not a terminal each line starts with a journald priority
 * prefix "<N>" (sd-daemon(3)), so journald keeps the levels.  Untrusted
 * strings must go through log_safe() before they reach a format; as a
 * backstop, log_msg() turns every control byte of a message into '?', so
 * one event is always one line.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7
};

/* verbosity: -1 (-q: warnings and errors), 0 (notices), 1 (-v: info), 2 (-vv: debug). */
void	log_init(int verbosity);

void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Logs at LOG_LVL_ERR and exits 1: for cannot-happen and out of memory. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copies at most n bytes of untrusted text s into buf (size bufsz), replacing
 * control and non-ASCII bytes by '?' and truncating with "..." when long.
 * Returns buf.
 */
char	*log_safe(char *buf, size_t bufsz, const char *s, size_t n);

#endif
