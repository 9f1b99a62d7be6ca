/*
 * jsonl.h: splits a JSON Lines stream (a bulk operation's file) into lines
 * as its bytes arrive, holding at most one line at a time, so a file of
 * any size is never in memory whole (issue 7).
 */
#ifndef JSONL_H
#define JSONL_H

#include <stddef.h>

/* Called for each line, without its "\n" (a "\r" before it is dropped). */
typedef int (*jsonl_line_fn)(const char *line, size_t len, void *arg);

struct jsonl {
	char		*buf;		/* the line being assembled */
	size_t		 len, cap;
	size_t		 max;		/* longest line accepted */
	size_t		 lines;		/* lines handed to fn */
	int		 failed;	/* fn refused, or a line too long */
	jsonl_line_fn	 fn;
	void		*arg;
};

void	jsonl_init(struct jsonl *j, size_t max_line, jsonl_line_fn fn,
	    void *arg);
/*
 * Feeds n bytes; calls fn for every line they complete (empty lines are
 * skipped).  Returns 0, or -1 once fn returned non-zero or a line exceeded
 * max (j->failed is set and later calls do nothing).
 */
int	jsonl_feed(struct jsonl *j, const char *data, size_t n);
/*
 * At the end of the stream: a last line without "\n" is handed to fn
 * too (the file may end either way).  Returns 0 or -1 as above.
 */
int	jsonl_finish(struct jsonl *j);
void	jsonl_free(struct jsonl *j);

#endif
