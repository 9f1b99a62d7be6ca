/*
 * metrics.h: the metrics file (metrics_file in [sync], invsync.conf(5)):
 * after each cycle, what the engine counted and what the state holds, in
 * the Prometheus text exposition format 0.0.4, replaced atomically for
 * node_exporter's textfile collector (metrics.c).
 *
 * Two halves.  The pure half (the counts a running engine keeps, a
 * snapshot, its rendering and the atomic file write) takes values in and
 * gives text or a file out, with no LMDB, so tests drive it directly; run.h
 * holds its counts.  metrics_write() is the other half: it reads a struct
 * run (run.h) and the state, and is called once a cycle by engine.c.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* How a level poll or a write batch of a store ended. */
enum metrics_result {
	METRICS_OK,
	METRICS_FAILED,
	METRICS_THROTTLED,	/* the store kept answering THROTTLED */
	METRICS_RESULTS
};

/*
 * The propagation latency histogram: seconds from a change being seen in
 * one store to its write being applied in another.  count[k] counts the
 * observations <= metrics_latency_le[k] (cumulative, as exposed); n and
 * sum count every observation (the +Inf bucket is n).
 */
#define METRICS_LATENCY_BUCKETS	12
extern const double metrics_latency_le[METRICS_LATENCY_BUCKETS];

struct metrics_hist {
	uint64_t	count[METRICS_LATENCY_BUCKETS];
	uint64_t	n;
	double		sum;
};

/* Adds one observation of seconds (a negative one counts as 0) to h. */
void	metrics_hist_observe(struct metrics_hist *h, double seconds);

/* What the file says of one store. */
struct metrics_store {
	const char			*name;
	uint64_t			 polls[METRICS_RESULTS];
	uint64_t			 writes[METRICS_RESULTS];
	int64_t				 cost;		/* API points spent */
	int64_t				 last_poll_ms;	/* wall ms, 0: never */
	const struct metrics_hist	*latency;	/* NULL: none yet */
};

/* What the file says: one snapshot, taken after a cycle. */
struct metrics_snap {
	const char		*version;
	size_t			 in_step, waiting, not_synced;	/* links */
	int			 paused;
	int64_t			 uncertain;	/* batches settled uncertain */
	double			 pending_age;	/* seconds, oldest batch; 0 */
	double			 cycle_seconds;	/* the last cycle's duration */
	int64_t			 cycle_end_ms;	/* wall ms it ended */
	size_t			 nstores;
	struct metrics_store	 s[CONF_MAX_STORES];
};

/*
 * Renders snap in the text exposition format 0.0.4: a HELP and a TYPE line
 * before each family's samples, label values escaped.  Returns the text,
 * NUL-terminated, with its length in *len; the caller frees it.
 */
char	*metrics_render(const struct metrics_snap *snap, size_t *len);

/*
 * Replaces the file at path with the len bytes of text atomically: a
 * temporary file beside it (path.XXXXXX, mode 0644, never *.prom) written,
 * fsynced and renamed over path.  Returns 0, or -1 with a one-line reason
 * in why (the temporary file removed).
 */
int	metrics_write_file(const char *path, const char *text, size_t len,
	    char *why, size_t whysz);

/*
 * Writes the metrics file of e's configuration after a cycle that took
 * took_ms, when metrics_file is set and this is no dry run.  A failure is
 * logged as a warning once per distinct reason and otherwise ignored:
 * the sync never stops or waits for metrics.
 */
struct run;
void	metrics_write(struct run *e, int64_t took_ms);

#endif
