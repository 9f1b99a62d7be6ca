#!/usr/bin/env python3
"""End-to-end tests of issue 14 items 2, 3 and 4: `once` tells the truth, catalog
edits are read after downtime and while running, and polls follow Shopify's clock.

    python3 tests/e2e/test_catalog_clock.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

Prints PASS/FAIL lines; exits 1 when a test failed (as test_e2e.py does).
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import simple, run_suite, check, store, wait_until  # noqa: E402

PROP_BOUND = 2.5          # interval (1 s) + 1 s, with a margin for a 2-core box (as test_e2e.py)
CATALOG_BOUND = 80        # a catalog edit takes effect within about a minute by default
PROPS = []




def measure(name, cond, bound=PROP_BOUND, timeout=10):
    t0 = time.monotonic()
    wait_until(cond, timeout, interval=0.02, what=name)
    dt = time.monotonic() - t0
    PROPS.append((name, dt))
    print('  propagation %s: %.2fs' % (name, dt))
    check(dt <= bound, 'propagation %s took %.2fs > %.1fs' % (name, dt, bound))
    return dt


def unlinked(agent, store_name, handle):
    """The audit log's unlinked entries of store_name's side of a link of handle."""
    return [e for e in agent.audit() if e['kind'] == 'unlinked' and e['store'] == store_name and
            handle in e['link']]


# ------------------------------------------------------------ item 2: once

def test_once_exit_status(ctx):
    """`once` exits 1 with the reason on stderr when a store failed in its cycle."""
    f = ctx.fake
    ctx.load([store('source', [simple('scarf', 'SC', 20)]), store('destination', [simple('scarf', 'SC', 20)])])
    a = ctx.agent(['source', 'destination'])
    f.op('ip_allowlist', {'store': 'destination', 'blocked': True})
    t0 = time.monotonic()
    rc, out, err = a.cmd('once', timeout=60)
    print('  once with destination unreadable: rc %d in %.1fs' % (rc, time.monotonic() - t0))
    check(rc == 1, 'once exited %d although destination could not be read: %s' % (rc, err[-600:]))
    check('destination' in err and 'fail' in err, 'once gave no reason on stderr: %r' % err[-600:])
    f.op('ip_allowlist', {'store': 'destination', 'blocked': False})
    rc, out, err = a.cmd('once', timeout=60)
    check(rc == 0, 'once exited %d with both stores readable: %s' % (rc, err[-600:]))
    f.op('sell', {'store': 'source', 'handle': 'scarf', 'qty': 2})
    rc, out, err = a.cmd('once', timeout=60)
    check(rc == 0 and f.level('destination', 'scarf') == 18, 'once rc %d, destination %d' %
          (rc, f.level('destination', 'scarf')))
    # every store unreadable (a wrong token): 1 as well
    f.op('token', {'store': 'source', 'token': 'shpat_other'})
    f.op('token', {'store': 'destination', 'token': 'shpat_other'})
    rc, out, err = a.cmd('once', timeout=60)
    check(rc == 1 and 'source' in err, 'once with no store readable exited %d: %s' % (rc, err[-600:]))


# ------------------------------------------------------------ item 3: the catalog

def catalog_stores():
    prods = [simple('denim', 'D', 50), simple('belt', 'B', 10), simple('cap', 'C', 30), simple('sock', 'S', 40)]
    return [store('source', prods), store('destination', prods)]


def test_catalog_after_downtime(ctx):
    """A handle renamed and sold while the agent was down is not propagated after start."""
    f = ctx.fake
    ctx.load(catalog_stores())
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    rc, _ = a.stop()
    check(rc == 0, 'rc %s' % rc)
    f.op('product_update', {'store': 'source', 'handle': 'denim', 'new_handle': 'denim-renamed'})
    f.op('sell', {'store': 'source', 'handle': 'denim-renamed', 'qty': 3})
    f.op('sell', {'store': 'source', 'handle': 'sock', 'qty': 4})
    a.start()
    wait_until(lambda: f.level('destination', 'sock') == 36, 15, interval=0.1, what='the sock sale synced')
    a.wait_synced()
    check(f.level('destination', 'denim') == 50,
          'the sale of a product renamed while the agent was down reached the other store: destination '
          'denim %d, want 50' % f.level('destination', 'denim'))
    check(unlinked(a, 'source', 'denim'), 'no unlinked entry for source denim: %r' % a.audit()[-10:])
    f.op('sell', {'store': 'source', 'handle': 'denim-renamed', 'qty': 1})
    f.op('sell', {'store': 'source', 'handle': 'belt', 'qty': 1})
    wait_until(lambda: f.level('destination', 'belt') == 9, 10, interval=0.1, what='belt 9')
    a.wait_synced()
    check(f.level('destination', 'denim') == 50, 'destination denim %d' % f.level('destination', 'denim'))
    a.stop()


def test_catalog_while_running(ctx):
    """A rename, a deletion and a SKU edit take effect within about a minute (defaults)."""
    f = ctx.fake
    ctx.load(catalog_stores())
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    t0 = time.monotonic()
    f.op('product_update', {'store': 'source', 'handle': 'denim', 'new_handle': 'denim-renamed'})
    f.op('product_update', {'store': 'destination', 'handle': 'belt', 'delete': True})
    f.op('product_update', {'store': 'source', 'handle': 'cap', 'sku': 'C', 'new_sku': 'C2'})
    took = {}

    def effective():
        for what, st, h in (('rename', 'source', 'denim'), ('deletion', 'destination', 'belt'),
                            ('sku edit', 'source', 'cap')):
            if what not in took and unlinked(a, st, h):
                took[what] = time.monotonic() - t0
        return len(took) == 3
    wait_until(effective, CATALOG_BOUND, interval=1.0,
               what='the rename, deletion and SKU edit to take effect (%r so far)' % took)
    for what in sorted(took):
        print('  catalog %s took effect in %.1fs' % (what, took[what]))
    f.op('sell', {'store': 'source', 'handle': 'denim-renamed', 'qty': 2})
    f.op('sell', {'store': 'destination', 'handle': 'cap', 'qty': 5})
    f.op('sell', {'store': 'source', 'handle': 'belt', 'qty': 1})
    f.op('sell', {'store': 'source', 'handle': 'sock', 'qty': 1})
    measure('sock after the catalog edits', lambda: f.level('destination', 'sock') == 39)
    a.wait_synced(since_ms=time.time() * 1000)
    check(f.level('destination', 'denim') == 50, 'renamed: destination denim %d' % f.level('destination', 'denim'))
    check(f.level('source', 'cap') == 30, 'SKU edited: source cap %d' % f.level('source', 'cap'))
    check(not any(w['outcome'] != 'applied' and w['outcome'] != 'noop' for w in f.log('destination', 'write')),
          'a write to the destination failed: %r' % f.log('destination', 'write')[-3:])
    a.stop()


# ------------------------------------------------------------ item 4: Shopify's clock

def clock_case(ctx, seconds):
    f = ctx.fake
    h = 'wool-coat'
    ctx.load([store('source', [simple(h, 'WC', 40)]), store('destination', [simple(h, 'WC', 40)])])
    for s in ('source', 'destination'):
        r = f.op('clock_skew', {'store': s, 'seconds': seconds})
        check(r.get('ok'), 'clock_skew: %r' % r)
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    q = 40
    for k in range(3):
        f.op('sell', {'store': 'source', 'handle': h, 'qty': 1})
        q -= 1
        measure('skew %+ds source sale %d' % (seconds, k), lambda: f.level('destination', h) == q)
        f.op('sell', {'store': 'destination', 'handle': h, 'qty': 2})
        q -= 2
        measure('skew %+ds destination sale %d' % (seconds, k), lambda: f.level('source', h) == q)
        time.sleep(1.5)     # several idle polls between sales
    a.wait_synced(since_ms=time.time() * 1000)
    st = a.status()
    for s in st['stores']:
        off = s.get('clock_offset_ms')
        check(off is not None and abs(off - seconds * 1000) <= 3000,
              'status: %s clock_offset_ms %r, want about %d' % (s['name'], off, seconds * 1000))
    rc, out, err = a.cmd('status')
    check(rc == 0 and ('clock' in out) == (abs(seconds) > 5), 'status text and the clock: %r' % out)
    a.stop()
    rc, out, err = a.cmd('check')
    offs = [float(x) for x in re.findall(r"clock: Shopify's is ([+-][0-9.]+) s", out)]
    check(len(offs) == 2 and all(abs(o - seconds) <= 3 for o in offs),
          'check does not show both stores %+d s off: %r' % (seconds, out))
    check(('WARNING: this machine\'s clock is off' in out) == (abs(seconds) > 5),
          'check and the clock warning: %r' % out)


def test_clock_store_behind(ctx):
    """The store's clock 10 minutes behind the agent's: changes still reach the other store at once."""
    clock_case(ctx, -600)


def test_clock_store_ahead(ctx):
    """The store's clock 10 minutes ahead of the agent's."""
    clock_case(ctx, 600)


TESTS = [
    ('once_exit_status', test_once_exit_status),
    ('catalog_after_downtime', test_catalog_after_downtime),
    ('clock_store_behind', test_clock_store_behind),
    ('clock_store_ahead', test_clock_store_ahead),
    ('catalog_while_running', test_catalog_while_running),
]


def summary():
    if PROPS:
        worst = max(PROPS, key=lambda p: p[1])
        print('catalog_clock: %d propagations, longest %.2fs (%s)' % (len(PROPS), worst[1], worst[0]))


def main():
    return run_suite('catalog_clock', TESTS, lifetime=900, done=summary)


if __name__ == '__main__':
    sys.exit(main())
