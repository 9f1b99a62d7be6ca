#!/usr/bin/env python3
"""End-to-end tests of issue 16 (throughput): the agent against the fake Shopify, on what the
points and cycles of a sync do, not on how long they take (timings are `make bench`'s).

    python3 tests/e2e/test_throughput.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import run_suite, check, wait_until  # noqa: E402

STORES = ('source', 'destination')


def generated(ctx, n, quantity=50):
    """Both stores with n single-variant products (harness.generated()) and a bucket that never
    runs dry (the points are counted, not waited for)."""
    harness.generated(ctx.fake, STORES, n, quantity, {'max': 1e7, 'restore': 1e7})


def levels(f, s):
    return {r['handle']: r['available'] for r in f.op('levels', {'store': s})}


def by_op(f, s, name):
    return f.op('stats', {'store': s})['by_op'].get(name, {'requests': 0, 'actual_cost': 0})


def log_text(a):
    with open(a.logpath, errors='replace') as fh:
        return fh.read()


def test_backlog_one_cycle(ctx):
    """600 levels changed in one store: one `once` writes all of them (three full batches in
    rounds, not one batch a cycle), each level read before its send at 2 points."""
    f = ctx.fake
    generated(ctx, 600)
    a = ctx.agent(list(STORES), sync={'interval': '1s', 'bulk_threshold': '100000'})
    a.once(timeout=120)
    before = by_op(f, 'destination', 'LevelsById')
    handles = sorted(levels(f, 'source'))
    for h in handles:
        f.op('sell', {'store': 'source', 'handle': h, 'qty': 2})
    a.once(timeout=120)
    src, dst = levels(f, 'source'), levels(f, 'destination')
    check(all(src[h] == 48 for h in handles), 'the sales stand in the source')
    check(all(dst[h] == 48 for h in handles),
          'one once wrote every change: %d of 600 at 48' % sum(dst[h] == 48 for h in handles))
    text = log_text(a)
    applied = re.findall(r'store destination: batch \w+ applied \((\d+) changes\)', text)
    check(sorted(int(x) for x in applied) == [100, 250, 250],
          'three batches applied, two of them full: %r' % applied)
    after = by_op(f, 'destination', 'LevelsById')
    reads = after['requests'] - before['requests']
    pts = after['actual_cost'] - before['actual_cost']
    check(reads == 3 and pts == 1200, 'one read before each send, 2 points a level: %d reads, %d points'
          % (reads, pts))


def test_moved_level_sent_again(ctx):
    """A level sold between the plan and the send: the batch is dropped unsent (its read before
    the send saw the move) and planned again at once, in the same cycle, with the new quantity."""
    f = ctx.fake
    generated(ctx, 20)
    a = ctx.agent(list(STORES), sync={'interval': '1s', 'bulk_threshold': '100000'})
    a.once(timeout=60)
    h = sorted(levels(f, 'source'))[0]
    f.op('sell', {'store': 'source', 'handle': h, 'qty': 3})
    # the destination sells too, after its poll and before the read before the send
    f.op('before', {'store': 'destination', 'operation': 'LevelsById', 'op': 'sell',
                    'body': {'store': 'destination', 'handle': h, 'qty': 1}})
    a.once(timeout=60)
    src, dst = levels(f, 'source'), levels(f, 'destination')
    check(src[h] == dst[h] == 46, 'both sales reached both stores in one once: %d / %d' % (src[h], dst[h]))
    text = log_text(a)
    check('a level changed meanwhile (read before the send)' in text, 'the first batch was dropped unsent')


def test_first_load_followed(ctx):
    """A first load by bulk operations under a long interval: `once` follows the operations every
    second and returns long before one interval has passed (it used to nap an interval between
    each look at an operation: catalog, then levels, two intervals)."""
    f = ctx.fake
    generated(ctx, 50)
    for s in STORES:
        f.op('bulk', {'store': s, 'delay': 2.0})
    a = ctx.agent(list(STORES), sync={'interval': '60s', 'bulk_threshold': '10'})
    t0 = time.monotonic()
    a.once(timeout=200)
    took = time.monotonic() - t0
    st = a.status()
    check(st['links'] == 50, 'once loaded the stores: %r links' % st['links'])
    check(took < 60, 'once returned within one interval: %.1f s' % took)
    for s in STORES:
        check(f.op('stats', {'store': s})['bulk_ops'] == 2, 'a catalog and a levels operation in %s' % s)
    check(by_op(f, 'source', 'BulkStatus')['requests'] >= 2, 'each operation was looked at until done')


def test_lean_poll_falls_back(ctx):
    """Polls ask for no item (its id is in the level's gid: 2 points a level, not 3); a store whose
    level gids stop naming the item is polled with items from then on, and nothing is missed."""
    f = ctx.fake
    generated(ctx, 20)
    a = ctx.agent(list(STORES), sync={'interval': '1s', 'bulk_threshold': '100000'})
    a.once(timeout=60)
    check(by_op(f, 'source', 'LevelsLean')['requests'] >= 1, 'polls are lean')
    hs = sorted(levels(f, 'source'))
    f.op('sell', {'store': 'source', 'handle': hs[0], 'qty': 2})
    a.once(timeout=60)
    check(levels(f, 'destination')[hs[0]] == 48, 'a lean poll saw the sale')
    f.op('level_gids', {'store': 'destination', 'bare': True})
    f.op('sell', {'store': 'destination', 'handle': hs[1], 'qty': 3})
    a.once(timeout=60)
    check(levels(f, 'source')[hs[1]] == 47, 'a sale read with a gid that names no item reached the source')
    check('names no inventory item' in log_text(a), 'the log says why the polls got dearer')
    full = by_op(f, 'destination', 'Levels')['requests']
    f.op('sell', {'store': 'destination', 'handle': hs[2], 'qty': 1})
    a.once(timeout=60)
    check(levels(f, 'source')[hs[2]] == 49, 'and the next')
    check(by_op(f, 'destination', 'Levels')['requests'] > full, 'polled with items')


RECONCILE_SYNC = {'interval': '500ms', 'bulk_threshold': '10', 'overlap': '2s', 'reconcile': '3s',
                  'catalog_refresh': '1h'}


def reconciliations(a):
    return len(re.findall(r'reconciliation by bulk operation done', log_text(a)))


def test_bulk_reconcile_finds_missed(ctx):
    """A big store's level reconciliation is a bulk snapshot: a sale the search index never shows
    (it lags an hour) is found by it and reaches the other store."""
    f = ctx.fake
    generated(ctx, 30)
    a = ctx.agent(list(STORES), sync=RECONCILE_SYNC)
    a.start()
    a.wait_synced(timeout=30)
    f.op('index_lag', {'store': 'destination', 'seconds': 3600})
    h = sorted(levels(f, 'source'))[4]
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 2})
    wait_until(lambda: levels(f, 'source')[h] == 48, 30, interval=0.2, what='the missed sale reached the source')
    a.stop()
    text = log_text(a)
    check(re.search(r'store destination: reconciliation by bulk operation done: [1-9]', text) is not None,
          'the destination\'s snapshot showed the change')
    check('reconciliation pass started' not in text, 'no paced pass of pages')
    check(levels(f, 'destination')[h] == 48, 'the destination kept its sale')


def level_ops(f, st):
    """The levels bulk operations store st created."""
    return sum(1 for e in f.log(st, 'bulk_operation')
               if e.get('outcome') == 'created' and 'inventoryLevels' in e.get('query', ''))


def test_bulk_reconcile_newer_news(ctx):
    """A snapshot never overrides newer news: while both stores' reconciliations run (each file is a
    snapshot of when it began), each store sells and the other's sales are written into it; once the
    files are applied, every level still agrees and nothing moved twice."""
    f = ctx.fake
    generated(ctx, 30)
    a = ctx.agent(list(STORES), sync=RECONCILE_SYNC)
    a.start()
    a.wait_synced(timeout=30)
    hs = sorted(levels(f, 'source'))
    n = reconciliations(a)
    ops = {}
    for st in STORES:
        f.op('bulk', {'store': st, 'delay': 4})
        ops[st] = level_ops(f, st)
    for st in STORES:
        wait_until(lambda: level_ops(f, st) > ops[st], 30, interval=0.05, what="%s's next levels snapshot" % st)
    for k in range(6):
        f.op('sell', {'store': 'destination', 'handle': hs[k], 'qty': 3})
        f.op('sell', {'store': 'source', 'handle': hs[10 + k], 'qty': 2})
    wait_until(lambda: reconciliations(a) >= n + 2, 40, interval=0.2,
               what='a reconciliation of each store applied after the sales')
    a.wait_synced(timeout=30)
    a.stop()
    src, dst = levels(f, 'source'), levels(f, 'destination')
    want = dict((h, 50) for h in hs)
    for k in range(6):
        want[hs[k]] -= 3
        want[hs[10 + k]] -= 2
    check(src == want, 'source: %r' % {h: src[h] for h in hs if src[h] != want[h]})
    check(dst == want, 'destination: %r' % {h: dst[h] for h in hs if dst[h] != want[h]})
    check(re.search(r'reconciliation by bulk operation done: [1-9]', log_text(a)) is None,
          'no snapshot showed a change: %s' % re.findall(r'store \w+: reconciliation by bulk .*', log_text(a)))


TESTS = [('backlog_one_cycle', test_backlog_one_cycle),
         ('moved_level_sent_again', test_moved_level_sent_again),
         ('first_load_followed', test_first_load_followed),
         ('lean_poll_falls_back', test_lean_poll_falls_back),
         ('bulk_reconcile_finds_missed', test_bulk_reconcile_finds_missed),
         ('bulk_reconcile_newer_news', test_bulk_reconcile_newer_news)]


def main():
    return run_suite('throughput', TESTS)


if __name__ == '__main__':
    sys.exit(main())
