/*
 * test_meta.c: unit tests of agent/meta.c: the table names every meta
 * value once, with a unit, a meaning and its writers; names are built as
 * "NAME" or "NAME.STORE"; the accessors refuse the wrong type and read an
 * absent value as 0 or "" (against a real LMDB state in a temporary
 * directory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "meta.h"
#include "state.h"

static void
test_table(void)
{
	char name[160];
	size_t k, j;

	for (k = 0; k < META_COUNT; k++) {
		const struct meta_def *d = &meta_table[k];

		snprintf(name, sizeof(name), "table row %zu complete", k);
		CHECK(name, d->name != NULL && d->unit != NULL &&
		    d->meaning != NULL && d->writers != NULL);
		if (d->name == NULL)
			continue;
		for (j = 0; j < k; j++)
			if (meta_table[j].name != NULL &&
			    strcmp(meta_table[j].name, d->name) == 0)
				break;
		snprintf(name, sizeof(name), "table: %s named once", d->name);
		CHECK(name, j == k);
	}
}

static void
test_names(void)
{
	char buf[64];

	CHECK("name sweep.1", meta_name(META_SWEEP, 1, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "sweep.1") == 0);
	CHECK("name of the state ignores the store",
	    meta_name(META_PAUSED, 3, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "paused") == 0);
	CHECK("name bulk.levels.2",
	    meta_name(META_BULK_LEVELS, 2, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "bulk.levels.2") == 0);
	CHECK("name bulkat.catalog.0",
	    meta_name(META_BULKAT_CATALOG, 0, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "bulkat.catalog.0") == 0);
	CHECK_INT("name too long", meta_name(META_CATALOGFULL, 1, buf, 8), -1);
	CHECK_INT("name of no row", meta_name(META_COUNT, 0, buf,
	    sizeof(buf)), -1);
}

static int
accessors(struct state_txn *t, void *arg)
{
	char buf[64];
	int64_t v = 7;

	(void)arg;
	CHECK_INT("absent i64", meta_get_i64(t, META_POLL, 0, &v), 1);
	CHECK_INT("absent i64 reads 0", v, 0);
	CHECK_INT("put i64", meta_put_i64(t, META_POLL, 1, 42), 0);
	CHECK_INT("get i64", meta_get_i64(t, META_POLL, 1, &v), 0);
	CHECK_INT("got i64", v, 42);
	CHECK_INT("other store absent", meta_get_i64(t, META_POLL, 0, &v), 1);
	CHECK_INT("put str", meta_put_str(t, META_ERR, 1, "polling: x"), 0);
	CHECK_INT("get str", meta_get_str(t, META_ERR, 1, buf, sizeof(buf)),
	    0);
	CHECK_STR("got str", buf, "polling: x");
	CHECK_INT("str refused as i64", meta_get_i64(t, META_ERR, 1, &v), -1);
	CHECK_INT("i64 refused as str", meta_put_str(t, META_POLL, 1, "x"),
	    -1);
	CHECK_INT("del", meta_del(t, META_ERR, 1), 0);
	CHECK_INT("deleted", meta_get_str(t, META_ERR, 1, buf, sizeof(buf)),
	    1);
	CHECK_STR("deleted reads \"\"", buf, "");
	return 0;
}

static void
test_accessors(void)
{
	char dir[] = "/tmp/test_meta.XXXXXX", cmd[128];
	struct state *st;

	if (mkdtemp(dir) == NULL) {
		SKIP("accessors", "no temporary directory");
		return;
	}
	if ((st = state_open(dir, 0)) == NULL) {
		printf("FAIL accessors: cannot open a state in %s\n", dir);
		check_failures++;
	} else {
		CHECK_INT("accessors: transaction",
		    state_update(st, accessors, NULL), 0);
		state_close(st);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

int
main(void)
{
	test_table();
	test_names();
	test_accessors();
	return check_exit();
}
