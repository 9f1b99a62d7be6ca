/*
 * seeds_conf.c: writes the configuration texts and durations of
 * tests/unit/test_conf.c as seed files for fuzz_conf and fuzz_duration
 * (used by tests/fuzz/mkcorpus.sh, not by the build).
 * Usage: seeds_conf CONF-DIR DURATION-DIR
 */
#define main test_conf_main
#include "../unit/test_conf.c"
#undef main

static void
seed(const char *dir, const char *kind, size_t i, const char *s, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%03zu", dir, kind, i);
	if ((f = fopen(path, "w")) == NULL || fwrite(s, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: seeds_conf CONF-DIR DURATION-DIR\n");
		return 2;
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		seed(argv[1], "good", i, good[i].text, strlen(good[i].text));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		seed(argv[1], "bad", i, bad[i].text,
		    bad[i].len ? bad[i].len : strlen(bad[i].text));
	seed(argv[1], "print", 0, print_full_in, strlen(print_full_in));
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		seed(argv[2], "dur", i, durations[i].in,
		    strlen(durations[i].in));
	return 0;
}
