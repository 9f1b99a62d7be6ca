/*
 * fuzz.h: what every libFuzzer target in tests/fuzz/ shares: quiet logging
 * (parsers log rejected input; the fuzzer would drown in it) and a check
 * that aborts, so that a broken contract is reported as a crash.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise of the code under test: report it as a crash. */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: contract broken: %s\n",		\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* Printers are exercised into /dev/null. */
static FILE *fuzz_null;

static void
fuzz_setup(void)
{
	log_init(-1);
	if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
		abort();
}

#endif
