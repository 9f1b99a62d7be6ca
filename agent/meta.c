/*
 * meta.c: owns the names of LMDB's meta values.  meta_table[] is the one
 * place that says what each value means, its unit and who writes it; the
 * accessors turn an enum meta_id (and a store index) into its name.
 * "Wall ms" is Unix time in milliseconds (util_now_ms()).
 */
#include <stdio.h>
#include <string.h>

#include "meta.h"

#define W	META_I64
#define S	META_STR

const struct meta_def meta_table[META_COUNT] = {
	/* name, per store, type, unit, meaning, written by */
	[META_STORES] = { "stores", 0, S, "names",
	    "the configured store names, comma-terminated, in config order; "
	    "a state made for other stores is refused",
	    "engine.c stores_txn() at start" },
	[META_PAUSED] = { "paused", 0, S, "text",
	    "why writing is paused (polling goes on); absent: not paused",
	    "engine.c check_guard() (the guard); report.c report_pause() "
	    "(pause sets, resume deletes)" },
	[META_CYCLE] = { "cycle", 0, S, "text",
	    "the last cycle's summary: changes seen, written, its time",
	    "engine.c engine_run() after each cycle (not in a dry run)" },
	[META_UNCERTAIN] = { "uncertain", 0, W, "count",
	    "batches whose answer was lost, settled as uncertain (status)",
	    "writes.c settle_txn()" },
	[META_GEN] = { "gen", 0, W, "counter",
	    "the generation of the last full catalog load: sides a load did "
	    "not stamp with its generation leave their links",
	    "catalog.c catalog_new_gen()" },
	[META_POLL] = { "poll", 1, W, "wall ms",
	    "start of the store's last good level poll; the next incremental "
	    "poll reads levels updated since then minus a margin; 0: never "
	    "polled (the first poll reads every level)",
	    "engine.c poll_store(); bulk.c op_start() when a levels "
	    "operation starts (the polls cover what changes from then on)" },
	[META_SWEEP] = { "sweep", 1, W, "wall ms",
	    "start of the store's last sweep: a poll reaching back a whole "
	    "`overlap`, once per overlap, for a lagging search index",
	    "engine.c poll_store()" },
	[META_RECONCILE] = { "reconcile", 1, W, "wall ms",
	    "start of the store's last full level pass (every linked level "
	    "read); the next is due `reconcile` later; 0: links await a "
	    "first sighting, so the next poll reads every level",
	    "engine.c poll_store() (full poll), pass_page() (paced pass "
	    "done); run.c run_levels_sighted() (bulk levels file applied); "
	    "catalog.c refresh_done() (0 when new sides were linked)" },
	[META_RPASS] = { "rpass", 1, S, "GROUP:CURSOR",
	    "where the store's paced reconciliation is: the location group "
	    "index and the page cursor (\"\" = first page); absent: none",
	    "engine.c reconcile_step() (starts at \"0:\"), pass_page(); "
	    "run.c run_pass_forget() deletes it" },
	[META_RSTART] = { "rstart", 1, W, "wall ms",
	    "when the store's paced reconciliation began; becomes "
	    "reconcile.N when the pass ends; absent: no pass under way",
	    "engine.c reconcile_step(); run.c run_pass_forget() deletes it" },
	[META_CATALOG] = { "catalog", 1, W, "wall ms",
	    "start of the store's last catalog refresh (full or not); the "
	    "next refresh reads variants updated since then minus `overlap`",
	    "catalog.c refresh_done()" },
	[META_CATALOGFULL] = { "catalogfull", 1, W, "wall ms",
	    "start of the store's last full catalog load; 0: never loaded "
	    "(the store has no links to poll yet)",
	    "catalog.c refresh_done()" },
	[META_VARIANTS] = { "variants", 1, W, "count",
	    "the store's variants as last counted (capped at 10000): "
	    "bulk_threshold or more reads it by bulk operations",
	    "bulk.c count_big()" },
	[META_OK] = { "ok", 1, W, "wall ms",
	    "the store's last successful request of a cycle step (status)",
	    "run.c run_store_succeeded()" },
	[META_ERRTIME] = { "errtime", 1, W, "wall ms",
	    "the store's last failure (status)",
	    "run.c run_store_failed()" },
	[META_ERRCOUNT] = { "errcount", 1, W, "count",
	    "the store's failures since the state was made (status)",
	    "run.c run_store_failed()" },
	[META_ERR] = { "err", 1, S, "text",
	    "the store's last failure: what was being done and why (status)",
	    "run.c run_store_failed()" },
	[META_CLOCK] = { "clock", 1, W, "ms",
	    "Shopify's clock minus ours, from the Date of the store's replies "
	    "(never above the truth: Date has whole seconds), moved when it "
	    "changes by CLOCK_STEP_MS or more; the wall ms stamps poll.N, "
	    "sweep.N, catalog.N, catalogfull.N, reconcile.N, rstart.N and "
	    "bulkat.*.N plus this are Shopify's time, which the updated_at "
	    "filters and the periodic steps use; status and check show it",
	    "run.c run_clock() (which also moves those stamps when it grows)" },
	[META_VCOUNT] = { "vcount", 1, W, "count",
	    "the store's variants counted at its last catalog refresh: fewer "
	    "now means a deletion, which only a full load sees",
	    "engine.c catalog_shrunk()" },
	[META_BULKPATH] = { "bulkpath", 1, S, "text",
	    "whether the store's full reads go by bulk operations or in pages: "
	    "\"REFUSED UNTIL FAILS WHY\" (refused 1: pages until the wall ms "
	    "UNTIL, then bulk is tried again; FAILS operations in a row that did "
	    "not start or finish; WHY for status and check)",
	    "bulk.c path_put()" },
	[META_BULK_CATALOG] = { "bulk.catalog", 1, S, "gid",
	    "the store's catalog bulk operation in flight; absent: none",
	    "bulk.c put_txn() (op_start() sets, op_forget() deletes)" },
	[META_BULK_LEVELS] = { "bulk.levels", 1, S, "gid",
	    "the store's levels bulk operation in flight; absent: none",
	    "bulk.c put_txn() (op_start() sets, op_forget() deletes)" },
	[META_BULKAT_CATALOG] = { "bulkat.catalog", 1, W, "wall ms",
	    "just before the catalog operation started: the load's time",
	    "bulk.c put_txn()" },
	[META_BULKAT_LEVELS] = { "bulkat.levels", 1, W, "wall ms",
	    "just before the levels operation started: the sighting's time",
	    "bulk.c put_txn()" },
	[META_BULKGEN_CATALOG] = { "bulkgen.catalog", 1, W, "generation",
	    "the catalog load generation the operation's file feeds",
	    "bulk.c put_txn()" },
	[META_BULKGEN_LEVELS] = { "bulkgen.levels", 1, W, "epoch",
	    "a reconciliation's snapshot epoch (epoch.N when it started); 0: "
	    "the operation gives the links their first sighting",
	    "bulk.c put_txn()" },
	[META_EPOCH] = { "epoch", 1, W, "counter",
	    "the store's levels snapshot epoch, 1 to 65535: moved on just "
	    "before a reconciliation's levels operation starts; a link side "
	    "a live read or a write touches is stamped with it, and that "
	    "operation's file leaves such sides alone (newer news)",
	    "bulk.c epoch_txn()" },
	[META_BUFFER] = { "buffer", 1, W, "count",
	    "the store's `buffer` its sides' held units were derived with; "
	    "when the config's differs, every side of the store re-derives "
	    "its target from its pool view (docs/design.md §3a)",
	    "engine.c rebuffer_txn()" },
	[META_PASSES] = { "passes", 1, W, "counter",
	    "the store's full level passes done, modulo 65536 (kept for "
	    "stores with location groups): a read that finds a group "
	    "member's level stamps it with this count, and a pass that ends "
	    "with a member stamped before it did not find it: not stocked",
	    "run.c settle_groups_txn()" },
	[META_GROUPS] = { "groups", 0, META_BLOB, "bytes",
	    "the location groups the last start resolved, with a hash of "
	    "the config's [locations]: used at a start that cannot read "
	    "some store's locations, so that the others sync meanwhile",
	    "groupcache.c groupcache_put() (engine.c, once linked)" },
};

#undef W
#undef S

int
meta_name(enum meta_id id, size_t store, char *buf, size_t bufsz)
{
	int n;

	if ((unsigned)id >= META_COUNT)
		return -1;
	if (meta_table[id].per_store)
		n = snprintf(buf, bufsz, "%s.%zu", meta_table[id].name, store);
	else
		n = snprintf(buf, bufsz, "%s", meta_table[id].name);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

/* The name of value id of type type into buf, or -1 (a bug: logged by
   nobody, failed like LMDB). */
static int
name_of(enum meta_id id, enum meta_type type, size_t store, char *buf,
    size_t bufsz)
{
	if (meta_name(id, store, buf, bufsz) == -1 ||
	    meta_table[id].type != type)
		return -1;
	return 0;
}

int
meta_get_i64(struct state_txn *t, enum meta_id id, size_t store, int64_t *v)
{
	char name[64];

	*v = 0;
	if (name_of(id, META_I64, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_get_i64(t, name, v);
}

int
meta_put_i64(struct state_txn *t, enum meta_id id, size_t store, int64_t v)
{
	char name[64];

	if (name_of(id, META_I64, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_put_i64(t, name, v);
}

int
meta_get_str(struct state_txn *t, enum meta_id id, size_t store, char *buf,
    size_t bufsz)
{
	char name[64];
	int r;

	if (bufsz > 0)
		buf[0] = '\0';
	if (name_of(id, META_STR, store, name, sizeof(name)) == -1)
		return -1;
	if ((r = state_meta_get_str(t, name, buf, bufsz)) == 1 && bufsz > 0)
		buf[0] = '\0';
	return r;
}

int
meta_put_str(struct state_txn *t, enum meta_id id, size_t store,
    const char *v)
{
	char name[64];

	if (name_of(id, META_STR, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_put_str(t, name, v);
}

int
meta_get_blob(struct state_txn *t, enum meta_id id, size_t store, void *buf,
    size_t bufsz, size_t *len)
{
	char name[64];

	*len = 0;
	if (name_of(id, META_BLOB, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_get_blob(t, name, buf, bufsz, len);
}

int
meta_put_blob(struct state_txn *t, enum meta_id id, size_t store,
    const void *v, size_t len)
{
	char name[64];

	if (name_of(id, META_BLOB, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_put_blob(t, name, v, len);
}

int
meta_del(struct state_txn *t, enum meta_id id, size_t store)
{
	char name[64];

	if (meta_name(id, store, name, sizeof(name)) == -1)
		return -1;
	return state_meta_del(t, name);
}
