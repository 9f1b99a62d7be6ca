/*
 * alert_send.h: alerts and the dead man's switch after each cycle
 * (alert_url, ping_url in [sync], invsync.conf(5)); alert_send.c.
 *
 * Called by engine.c between cycles, like metrics_write(): it looks at
 * the engine (struct run, run.h) and the state, feeds the problem tracker
 * (alert.h), posts what is due and GETs ping_url after a healthy cycle.
 * Nothing here changes a cycle's outcome or waits long: every request
 * has ALERT_TIMEOUT_MS, all of a cycle's requests ALERT_BUDGET_MS between
 * them (one more may start just before it ends), a message is tried at
 * most once a cycle and a failed one again after an exponential backoff.
 * Unsent messages live in memory only: a restart loses them.
 */
#ifndef ALERT_SEND_H
#define ALERT_SEND_H

#include <stdint.h>

#include "conf.h"

#define ALERT_TIMEOUT_MS	4000	/* one request, connecting included */
#define ALERT_BUDGET_MS		8000	/* a cycle's requests between them */
#define ALERT_OUTBOX_MAX	32	/* unsent messages kept; oldest dropped */
#define ALERT_RETRY_BASE_MS	5000	/* the backoff of a failed send ... */
#define ALERT_RETRY_CAP_MS	600000	/* ... up to 10 min */
#define ALERT_GIVE_UP_MS	(24 * 3600 * 1000)	/* an unsent message */

struct alerter;
struct run;

/*
 * An alerter for configuration c, or NULL when it has nothing to do (no
 * alert_url, no ping_url) or no CA bundle (logged).  once: a `once` run,
 * which pings but sends no alerts (a problem outlasts one process).
 * stop: the process's stop flag, which aborts a request in flight.
 * Free with alerter_free().
 */
struct alerter	*alerter_new(const struct conf *c, int once,
		    volatile int *stop);
void		 alerter_free(struct alerter *a);

/*
 * After a cycle of e that took took_ms: tracks problems, sends what is
 * due, pings when the cycle was healthy (locations linked, no store
 * failing).  a may be NULL (nothing done).  Never fails: a failure is
 * logged and retried later.  Returns the ms it spent.
 */
int64_t		 alerter_cycle(struct alerter *a, struct run *e,
		    int64_t took_ms);

#endif
