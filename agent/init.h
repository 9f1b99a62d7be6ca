/*
 * init.h: `invsync init`, the first-time setup (init.c): asks for the
 * stores and their credentials (or takes them from flags), writes the
 * secret files and a commented configuration, links the locations, and
 * ends with `check`.
 */
#ifndef INIT_H
#define INIT_H

/*
 * Runs "invsync -c path init ARGS" (argv holds the ARGS after "init").
 * Returns the process exit status: check's (0 ready, 1 problems), 0 after
 * writing with --no-check, 1 when refused or a store cannot be used
 * (nothing written then), 2 for bad flags.
 */
int	init_run(const char *path, int argc, char **argv);

#endif
