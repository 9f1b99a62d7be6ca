/*
 * timing.c: owns the engine's timing decisions (timing.h), pure functions
 * of meta values and the time, which engine.c reads and passes in.
 */
#include <stdio.h>
#include <stdlib.h>

#include "timing.h"

int
timing_poll_full(int64_t last, int64_t lastrec)
{
	return last == 0 || lastrec == 0;
}

struct poll_window
timing_poll_window(int full, int64_t now, int64_t last, int64_t lastsweep,
    int64_t overlap_ms)
{
	struct poll_window w;
	int64_t margin = overlap_ms < POLL_MARGIN_MS ? overlap_ms :
	    POLL_MARGIN_MS;

	w.full = full;
	w.sweep = full || lastsweep == 0 || lastsweep > last ||
	    now - lastsweep >= overlap_ms;
	if (full)
		w.since = 0;
	else if (w.sweep)
		w.since = (lastsweep != 0 && lastsweep <= last ? lastsweep :
		    last) - overlap_ms;
	else
		w.since = last - margin;
	return w;
}

int
timing_clock_update(int64_t kept, int64_t measured, int64_t *shift)
{
	*shift = 0;
	if (measured - kept < CLOCK_STEP_MS && kept - measured < CLOCK_STEP_MS)
		return 0;
	if (measured > kept)
		*shift = kept - measured;
	return 1;
}

int
timing_catalog_due(int64_t now, int64_t last, int64_t lastfull,
    int64_t reconcile_ms, int64_t catalog_ms, int *full)
{
	*full = lastfull == 0 || now - lastfull >= reconcile_ms;
	return *full || now - last >= catalog_ms;
}

int
timing_reconcile_due(int64_t now, int64_t lastrec, int64_t reconcile_ms)
{
	return lastrec != 0 && now - lastrec >= reconcile_ms;
}

double
timing_budget(double budget, int64_t at, int64_t now, double rate)
{
	if (at != 0 && rate > 0)
		budget += (double)(now - at) / 1000.0 * rate *
		    RECONCILE_SHARE / 100.0;
	if (budget > 2 * RECONCILE_PAGE_POINTS)
		budget = 2 * RECONCILE_PAGE_POINTS;
	return budget;
}

void
timing_pass_parse(const char *pass, size_t ngroups, size_t *group,
    const char **cursor)
{
	char *end;
	unsigned long g = strtoul(pass, &end, 10);

	if (*end != ':' || g >= ngroups) {
		*group = 0;	/* the groups changed: start over */
		*cursor = "";
		return;
	}
	*group = g;
	*cursor = end + 1;
}

int
timing_pass_format(char *buf, size_t bufsz, size_t group, const char *cursor)
{
	int n = snprintf(buf, bufsz, "%zu:%s", group, cursor);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}
