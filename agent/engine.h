/*
 * engine.h: the sync cycle (docs/design.md §3-6), the top of the program
 * under main.c: resolve locations, then every cycle each store's catalog
 * step, its pending batch resolved, its levels polled (and reconciled),
 * one planning transaction, and each store's batch written.
 *
 * engine.c calls bulk.c, catalog.c and writes.c, which share the
 * services of run.c (run.h has the layers); nothing calls back up.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include "conf.h"

struct engine_opts {
	int		 once;		/* one cycle, then return */
	int		 dry_run;	/* plan and log; write nothing, keep state */
	volatile int	*reload;	/* SIGHUP: return ENGINE_RELOAD */
};

#define ENGINE_RELOAD	(-2)

/*
 * Runs cycles until *stop (or one with opts->once).  Returns the process
 * exit status: 0, or 1 on a runtime failure (state I/O); or ENGINE_RELOAD
 * after the cycle in flight when *opts->reload was raised.
 */
int	engine_run(const struct conf *c, const struct engine_opts *opts,
	    volatile int *stop);

#endif
