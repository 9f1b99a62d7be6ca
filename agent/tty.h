/*
 * tty.h: questions to a person at the terminal on standard input (tty.c),
 * for `invsync init`: answers read a line at a time with read(2), secrets
 * with the echo off, and the terminal restored on every way out.
 */
#ifndef TTY_H
#define TTY_H

#include <stddef.h>

/*
 * Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT, which restore
 * the terminal, call on_signal() (it must be async-signal-safe: unlink(2),
 * write(2)) and die of the same signal, and for SIGTSTP, which restores the
 * terminal while stopped.  at_end() is called, and must not return, when
 * standard input ends at a question.
 */
void	tty_init(void (*on_signal)(void), void (*at_end)(void));

/* Restores the terminal when a secret is being read (before exiting). */
void	tty_restore(void);

/* Drops leading and trailing blanks and tabs of s in place. */
void	tty_trim(char *s);

/*
 * Asks prompt (def shown in brackets when not NULL or "") until an answer
 * fits buf, trimmed; an empty answer takes def when def is not NULL.
 */
void	tty_ask(const char *prompt, const char *def, char *buf,
	    size_t bufsz);

/*
 * Asks a secret with the echo off (turned off before the prompt shows, so
 * that nothing typed early is echoed; restored before returning).  Returns
 * 0, or -1 when standard input is not a terminal.
 */
int	tty_ask_secret(const char *prompt, char *buf, size_t bufsz);

/* Asks y or n until answered; def answers an empty line.  1 yes, 0 no. */
int	tty_yes(const char *prompt, int def);

/* Asks a number from 0 to max until given; def answers an empty line. */
size_t	tty_number(const char *prompt, size_t def, size_t max);

#endif
