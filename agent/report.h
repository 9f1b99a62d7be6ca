/*
 * report.h: the commands a merchant runs beside the daemon: status, log,
 * pause, resume (report.c) and check (check.c).
 * Each returns the process exit status.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>

#include "conf.h"

int	report_status(const struct conf *c, int json);
int	report_log(const struct conf *c, size_t n, int json);
int	report_pause(const struct conf *c, int pause);
/* Reaches every store and prints what would sync: 0 ready, 1 problems. */
int	report_check(const struct conf *c);

#endif
