/*
 * notify.h: the service manager notification protocol (sd_notify(3)) in
 * plain C, without libsystemd: READY, WATCHDOG, STATUS and STOPPING
 * datagrams to the AF_UNIX socket named by $NOTIFY_SOCKET.
 *
 * Every function is a no-op returning 0 when $NOTIFY_SOCKET is unset or
 * empty (run by hand, under OpenRC, in tests).  $NOTIFY_SOCKET may be a
 * path ("/run/systemd/notify") or an abstract socket name written with a
 * leading '@' ("@/org/freedesktop/systemd1/notify/...").  Each call opens a
 * SOCK_DGRAM socket, sends one datagram and closes it, so there is no state
 * to set up or free and nothing survives a fork.  Nothing is logged.
 *
 * Return convention for the senders: 1 when the datagram was sent, 0 when
 * there is nowhere to send it (no $NOTIFY_SOCKET), -1 on failure with errno
 * set (EAFNOSUPPORT: not a path or '@' name; ENAMETOOLONG: longer than
 * sun_path; or the socket(2)/sendto(2) error).  A failure is never fatal to
 * the daemon: systemd then sees no READY (start times out) or no WATCHDOG
 * (restart), which is the right signal.
 *
 * How invsync uses it (conf/invsync.service: Type=notify, WatchdogSec=):
 *
 *   main/engine, after the config is loaded and the state is open:
 *       notify_ready();                   start is complete: do not wait
 *                                         for the stores, the network may
 *                                         be down (TimeoutStartSec=)
 *   every cycle, and between HTTP requests of a long cycle (a catalog
 *   load or timeouts can take minutes), at least every
 *   notify_watchdog_ms() / 2 when that is not 0:
 *       notify_watchdog();
 *   after each cycle, the summary that "systemctl status" shows:
 *       notify_status("%zu changes seen, %zu written in %lld ms", ...);
 *   on SIGTERM/SIGINT, before finishing the step in flight:
 *       notify_stopping();
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdint.h>

#define NOTIFY_STATUS_MAX	512	/* bytes of STATUS text; longer is cut */

/* Sends "READY=1".  Returns 1, 0 or -1 as above. */
int	notify_ready(void);

/* Sends "WATCHDOG=1" (keep-alive).  Returns 1, 0 or -1 as above. */
int	notify_watchdog(void);

/*
 * Sends "STATUS=TEXT" with TEXT formatted printf-style, cut to
 * NOTIFY_STATUS_MAX bytes, with newlines and other control bytes replaced by
 * blanks (one line, so it cannot add another assignment to the datagram).
 * Returns 1, 0 or -1 as above.
 */
int	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Sends "STOPPING=1".  Returns 1, 0 or -1 as above. */
int	notify_stopping(void);

/*
 * Sends msg, one or more "NAME=VALUE" lines, as one datagram: the primitive
 * the functions above use.  Returns 1, 0 or -1 as above.
 */
int	notify_send(const char *msg);

/*
 * Returns the watchdog interval the service manager expects, in
 * milliseconds (from $WATCHDOG_USEC, rounded up to whole ms), or 0 when no
 * watchdog is armed for this process: $WATCHDOG_USEC unset, not a positive
 * decimal number, or $WATCHDOG_PID set to another process id.  Send
 * notify_watchdog() at least every half of this.
 */
int64_t	notify_watchdog_ms(void);

#endif
