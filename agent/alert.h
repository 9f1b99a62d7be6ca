/*
 * alert.h: alerts (alert_url, alert_after, alert_format in [sync],
 * invsync.conf(5)): which problems are on, when each is told, and the
 * bodies that tell them (alert.c).
 *
 * Pure: a view of what a cycle saw goes in, messages come out, and a
 * message becomes a body in one of three shapes.  No network, no LMDB, no
 * clock: tests drive it with made-up views.  alert_send.c takes views from
 * a running engine and posts the messages.
 *
 * A problem is told once it has lasted alert_after (at once for a pause,
 * an uncertain write, a cycle that itself took longer than alert_after),
 * again at most once an hour while it lasts (a reminder), and once more
 * when it ends ("resolved").  An uncertain write is an event, not a state:
 * it is told at most once an hour (with how many there were) and never
 * resolved, since only a person checking the level ends it.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define ALERT_REMIND_MS		(60 * 60 * 1000)	/* a reminder an hour */
#define ALERT_MSG_MAX		512	/* the message sentence */
#define ALERT_FIX_MAX		256	/* the fix sentence */
#define ALERT_BODY_MAX		4096	/* a rendered body */
#define ALERT_HEADERS		3	/* ntfy's Title, Tags, Priority */

enum alert_kind {
	ALERT_STORE_FAILING,	/* a store failing for alert_after (per store) */
	ALERT_WRITES_PENDING,	/* a batch unconfirmed for alert_after (per store) */
	ALERT_PAUSED,		/* writing paused (the guard, or invsync pause) */
	ALERT_UNCERTAIN,	/* a write settled as uncertain (an event) */
	ALERT_CYCLE_STALLED,	/* a cycle took longer than alert_after */
	ALERT_KINDS
};

/* What the end of a cycle saw: the tracker's input.  Times in wall ms. */
struct alert_view {
	int64_t		 now;
	size_t		 nstores;
	const char	*store[CONF_MAX_STORES];	/* names */
	int64_t		 failing_since[CONF_MAX_STORES]; /* 0: not failing */
	const char	*failure[CONF_MAX_STORES];	/* its last reason */
	int64_t		 pending_since[CONF_MAX_STORES]; /* 0: no batch */
	int		 paused;
	const char	*paused_why;
	int64_t		 uncertain;	/* META_UNCERTAIN: the count so far */
	int64_t		 cycle_start;	/* the cycle just ended */
	int64_t		 cycle_ms;	/* ... its duration */
};

/* One message to send. */
struct alert_msg {
	enum alert_kind	 kind;
	int		 resolved;	/* 0: the problem (or a reminder) */
	int		 reminder;
	char		 store[CONF_NAME_MAX];	/* "": the whole agent */
	int64_t		 since;		/* wall ms the problem began */
	int64_t		 at;		/* wall ms the message was made */
	char		 message[ALERT_MSG_MAX];
	char		 fix[ALERT_FIX_MAX];
};

/* One problem's place in the tracker. */
struct alert_slot {
	int64_t	since;		/* 0: off */
	int64_t	told;		/* when last told; 0: not yet */
};

struct alert_tracker {
	int64_t			after_ms;
	int64_t			uncertain;	/* the count told of; -1: none seen */
	int64_t			uncertain_at;	/* when it grew untold; 0: not */
	struct alert_slot	slot[ALERT_KINDS][CONF_MAX_STORES];
};

/* The most messages one alert_track() call can make. */
#define ALERT_TRACK_MAX	(ALERT_KINDS * CONF_MAX_STORES)

/* Starts t: nothing on, problems told after after_ms. */
void	alert_tracker_init(struct alert_tracker *t, int64_t after_ms);

/*
 * Compares view v with what t knew and writes the messages due now into
 * out (room for ALERT_TRACK_MAX).  The first view only sets the uncertain
 * count to compare with.  Returns how many messages were written.
 */
size_t	alert_track(struct alert_tracker *t, const struct alert_view *v,
	    struct alert_msg *out);

/* The problem's name in bodies: "store_failing", ... */
const char *alert_kind_name(enum alert_kind k);

/*
 * The fix for a store failing with reason why: a short sentence from the
 * README's troubleshooting table.  Static storage.
 */
const char *alert_store_fix(const char *why);

/* A body ready to post. */
struct alert_body {
	char		 text[ALERT_BODY_MAX];	/* NUL-terminated */
	size_t		 len;
	const char	*content_type;
	char		 header[ALERT_HEADERS][256];	/* "Name: value" */
	size_t		 nheader;
};

/*
 * Renders m from host (this machine's name) in format f into *b:
 *   json   {"event":"problem"|"resolved","problem":..,"store":..|null,
 *           "since":ISO 8601 UTC,"message":..,"fix":..,"host":..}
 *   slack  {"text":"..."} with & < > escaped as Slack asks
 *   ntfy   the message and fix as plain text; Title, Tags and Priority
 *          headers (printable ASCII only)
 * Text too long for the body is cut.
 */
void	alert_render(enum alert_format f, const struct alert_msg *m,
	    const char *host, struct alert_body *b);

#endif
