/*
 * report.h: the commands a merchant runs beside the daemon: status, log,
 * pause, resume (report.c), explain (explain.c) and check (check.c).
 * Each returns the process exit status.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

int	report_status(const struct conf *c, int json);
int	report_log(const struct conf *c, size_t n, int json);
int	report_pause(const struct conf *c, int pause);
/* The name `log` gives audit kind k (enum audit_kind), "?" when unknown. */
const char *report_audit_kind(uint32_t k);
/*
 * Explains the links what names (a handle, SKU, barcode or link key) from
 * the state alone: 0 something matched, 1 nothing did (or the state could
 * not be read), 2 what is empty, too long or not UTF-8.
 */
int	report_explain(const struct conf *c, const char *what, int json);
/* Reaches every store and prints what would sync: 0 ready, 1 problems. */
int	report_check(const struct conf *c);

#endif
