/*
 * tty.c: owns the terminal during `invsync init`: the questions, the echo
 * turned off for secrets, and putting the terminal back on every way out,
 * signals included (tty.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tty.h"

/* What the signal handler must undo. */
static struct termios		 saved_tio;
static volatile sig_atomic_t	 echo_off;
static void			(*cleanup)(void);
static void			(*ended)(void);

/* The terminal without echo, but with the newline echoed. */
static void
echo_off_now(void)
{
	struct termios t = saved_tio;

	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	t.c_lflag |= ECHONL;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/*
 * Restores the terminal; on SIGTSTP stops, then turns echo off again when
 * continued; on the others calls the cleanup and dies of the same signal.
 * Installed with SA_NODEFER so that the raise() is delivered.  errno is not
 * saved (bugprone-signal-handler forbids touching it): the calls here can
 * only clobber it while a read(2) is interrupted, before its wrapper sets
 * it.
 */
static void
on_signal(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	if (sig == SIGTSTP) {
		signal(SIGTSTP, SIG_DFL);
		raise(SIGTSTP);
		signal(SIGTSTP, on_signal);
		if (echo_off)
			echo_off_now();
		return;
	}
	if (cleanup != NULL)
		cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
tty_init(void (*on_sig)(void), void (*at_end)(void))
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
	struct sigaction sa;
	size_t i;

	cleanup = on_sig;
	ended = at_end;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void
tty_restore(void)
{
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		echo_off = 0;
	}
}

/* Standard input ended at a question: at_end() of tty_init(), or exit 1. */
static void __attribute__((noreturn))
end_of_input(void)
{
	tty_restore();
	if (ended != NULL)
		ended();
	exit(1);
}

/*
 * Reads one line from standard input with read(2) (no stdio buffer keeps a
 * secret), without its line end.  Returns 0, or 1 when the line was longer
 * than bufsz - 1 (the rest is dropped).  Never returns at the end of input.
 */
static int
read_line(char *buf, size_t bufsz)
{
	size_t n = 0;
	int toolong = 0;
	ssize_t r;
	char ch;

	for (;;) {
		r = read(STDIN_FILENO, &ch, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0 && !toolong)
				end_of_input();
			break;
		}
		if (ch == '\n')
			break;
		if (n + 1 < bufsz)
			buf[n++] = ch;
		else
			toolong = 1;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return toolong;
}

void
tty_trim(char *s)
{
	size_t a = strspn(s, " \t"), n = strlen(s);

	while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	memmove(s, s + a, n - a);
	s[n - a] = '\0';
}

void
tty_ask(const char *prompt, const char *def, char *buf, size_t bufsz)
{
	for (;;) {
		if (def != NULL && def[0] != '\0')
			printf("%s [%s]: ", prompt, def);
		else
			printf("%s: ", prompt);
		fflush(stdout);
		if (read_line(buf, bufsz) == 1) {
			printf("  too long: at most %zu characters\n",
			    bufsz - 1);
			continue;
		}
		tty_trim(buf);
		if (buf[0] == '\0' && def != NULL)
			snprintf(buf, bufsz, "%s", def);
		return;
	}
}

int
tty_ask_secret(const char *prompt, char *buf, size_t bufsz)
{
	int toolong;

	if (tcgetattr(STDIN_FILENO, &saved_tio) == -1)
		return -1;
	for (;;) {
		echo_off = 1;	/* before the prompt: no echo race */
		echo_off_now();
		printf("%s (not shown): ", prompt);
		fflush(stdout);
		toolong = read_line(buf, bufsz);
		tty_restore();
		if (!toolong)
			break;
		printf("  too long: at most %zu characters\n", bufsz - 1);
	}
	tty_trim(buf);
	return 0;
}

int
tty_yes(const char *prompt, int def)
{
	char a[16];

	for (;;) {
		tty_ask(prompt, def ? "Y/n" : "y/N", a, sizeof(a));
		if (strcmp(a, "Y/n") == 0 || strcmp(a, "y/N") == 0)
			return def;
		if (strcmp(a, "y") == 0 || strcmp(a, "Y") == 0 ||
		    strcmp(a, "yes") == 0)
			return 1;
		if (strcmp(a, "n") == 0 || strcmp(a, "N") == 0 ||
		    strcmp(a, "no") == 0)
			return 0;
		printf("  answer y or n\n");
	}
}

size_t
tty_number(const char *prompt, size_t def, size_t max)
{
	char a[32], d[32], *end;
	unsigned long v;

	snprintf(d, sizeof(d), "%zu", def);
	for (;;) {
		tty_ask(prompt, d, a, sizeof(a));
		errno = 0;
		v = strtoul(a, &end, 10);
		if (a[0] >= '0' && a[0] <= '9' && *end == '\0' && errno == 0 &&
		    v <= max)
			return v;
		printf("  give a number from 0 to %zu\n", max);
	}
}
