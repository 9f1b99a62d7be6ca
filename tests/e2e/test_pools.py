#!/usr/bin/env python3
"""End-to-end tests of issue 18 (stock pools): location groups and safety buffers, the agent
against the fake Shopify.

    python3 tests/e2e/test_pools.py --bin build/invsync [--seed N] [--only NAME[,NAME]] [--long]

The model: a link is (variant, location group); a store's *side* of it is the sum of `available`
at its member locations.  A change at any member moves the side; a change invsync writes into
a side of several members is spread in the listed order (a decrease takes from the first
member down to 0, then the next ...; when all are at 0 or below the first takes the rest; an
increase goes to the first).  `buffer = N` in a store's section: the link has one pooled
quantity P and store s shows T_s(P) = P - min(N_s, max(P, 0)); a change d seen in any store
moves P by d.  The levels in the fake are the ground truth here; `status` and `check` output is
only looked at loosely.  Without groups or buffers nothing changes: the other suites prove it.

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import collections
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (run_suite, check, product, store, variant, wait_until,  # noqa: E402
                     TestFailure)
from test_e2e import check_compare_and_set, uncertain_events  # noqa: E402

A, B, C = 'source', 'destination', 'third'
MAIN, OVER = 'Main Warehouse', 'Overflow'
US, USO = 'US Warehouse', 'US Overflow'
UK, UKO = 'UK Warehouse', 'UK Overflow'
QUIESCE = 90            # faults can leave a store backed off for up to a minute


# ------------------------------------------------------------ helpers

def locs(*names):
    return [{'name': n} for n in names]


def item(sku, levels, **kw):
    """A variant stocked at each location of levels ({location: available})."""
    v = variant(sku, 0, **kw)
    v['levels'] = dict(levels)
    return v


def one(handle, sku, levels):
    """A product of one variant stocked at levels."""
    return product(handle, [item(sku, levels)])


def pool_agent(ctx, stores, locations, buffers=None, sync=None, name='pools'):
    """An agent over stores with the [locations] lines given and `buffer = N` in the sections
    of the stores named in buffers ({store: N})."""
    a = ctx.agent(stores, sync=sync, locations=locations, name=name)
    if buffers:
        with open(a.conf) as fh:
            lines = fh.read().splitlines()
        out = []
        for ln in lines:
            out.append(ln)
            m = re.match(r'\[store (\S+)\]$', ln)
            if m and m.group(1) in buffers:
                out.append('buffer = %d' % buffers[m.group(1)])
        with open(a.conf, 'w') as fh:
            fh.write('\n'.join(out) + '\n')
    return a


def at(f, s, handle, sku=None):
    """{location: available} of handle (and sku) in store s."""
    return {r['location']: r['available'] for r in f.op('levels', {'store': s, 'handle': handle})
            if sku is None or r['sku'] == sku}


def want_levels(f, s, handle, want, what):
    got = at(f, s, handle)
    sub = {k: got.get(k) for k in want}
    check(sub == want, '%s: %s %s at %s, want %s' % (what, s, handle, sub, want))


def target(p, n):
    """T_s(P): what a store with buffer n shows of pooled quantity p."""
    return p - min(n, max(p, 0))


def writes(f, s):
    """The applied writes store s received: [(key, [(location, delta, cas)])]."""
    out = []
    for e in f.log(s, 'write'):
        if e.get('outcome') == 'applied':
            out.append((e['key'], [(a['location'], a['delta'], a.get('cas'))
                                   for a in e.get('applied') or [] if a['name'] == 'available']))
    return out


def new_writes(f, s, before):
    return writes(f, s)[len(before):]


def once_twice(a):
    """One `once` to propagate, a second that must find nothing more to do."""
    a.once()
    a.once()


def check_in_step(a, what):
    st = a.status()
    check(st['in_step'] and not any(s.get('pending_changes') for s in st['stores']),
          '%s: status not in step: %r' % (what, st))
    return st


def check_output(a):
    rc, out, err = a.cmd('check', timeout=60)
    print('  invsync check:\n' + ''.join('    %s\n' % ln for ln in out.splitlines()))
    check(rc == 0, 'check exited %d: %s%s' % (rc, out[-600:], err[-600:]))
    return out


GROUP_LINE = '%s + %s = %s' % (MAIN, OVER, US)
JACKET = 'group-jacket'


def group_pair(ctx, main=3, over=10, us=13, sync=None):
    """Store A with a jacket at Main Warehouse and Overflow, store B at US Warehouse, linked as
    `Main Warehouse + Overflow = US Warehouse`, and a `once` that links them; a second product,
    only in that group's first member, rides along."""
    f = ctx.fake
    ctx.load([store(A, [one(JACKET, 'GJ-M', {MAIN: main, OVER: over}), one('plain-cap', 'PC', {MAIN: 7})],
                    locations=locs(MAIN, OVER)),
              store(B, [one(JACKET, 'GJ-M', {US: us}), one('plain-cap', 'PC', {US: 7})],
                    locations=locs(US))])
    a = pool_agent(ctx, [A, B], [GROUP_LINE], sync=sync)
    a.once()
    check(writes(f, A) == [] and writes(f, B) == [],
          'the first sighting of sides in step wrote: %s / %s' % (writes(f, A), writes(f, B)))
    return a


# ------------------------------------------------------------ tests

def test_group_sale_in_order(ctx):
    """A sale in B is taken from A's group in the listed order (Main 3 -> 0, then Overflow
    10 -> 8), in one batch of two changes each with its compare-and-set; a sale at the second
    member reaches B; a decrease beyond the whole group leaves the rest at the first member."""
    f = ctx.fake
    a = group_pair(ctx)
    out = check_output(a)
    check(re.search(r'%s\s*\+\s*%s' % (MAIN, OVER), out) and US in out, 'check does not show the group')
    want_levels(f, B, JACKET, {US: 13}, 'B counts both members of A (3 + 10)')
    # a sale in B
    wa = writes(f, A)
    f.op('sell', {'store': B, 'handle': JACKET, 'qty': 5})
    once_twice(a)
    want_levels(f, A, JACKET, {MAIN: 0, OVER: 8}, 'a sale of 5 in B taken in order')
    want_levels(f, B, JACKET, {US: 8}, 'B keeps its sale')
    nw = new_writes(f, A, wa)
    check(len(nw) == 1, 'one batch to A for one sale: %s' % nw)
    check(sorted(nw[0][1]) == [(MAIN, -3, True), (OVER, -2, True)],
          'the batch: Main -3 and Overflow -2, each with compare-and-set: %s' % nw)
    # a sale at A's second member
    wb = writes(f, B)
    wa = writes(f, A)
    f.op('sell', {'store': A, 'handle': JACKET, 'location': OVER, 'qty': 2})
    once_twice(a)
    want_levels(f, B, JACKET, {US: 6}, 'a sale of 2 at Overflow reached B')
    want_levels(f, A, JACKET, {MAIN: 0, OVER: 6}, 'A keeps its sale, nothing written back')
    check(new_writes(f, A, wa) == [], 'A was written its own sale: %s' % new_writes(f, A, wa))
    check([c for _, cs in new_writes(f, B, wb) for c in cs] == [(US, -2, True)],
          'B written -2 once: %s' % new_writes(f, B, wb))
    # more than the whole group holds: Overflow to 0, the first member takes the rest
    f.op('sell', {'store': B, 'handle': JACKET, 'qty': 8})
    once_twice(a)
    want_levels(f, B, JACKET, {US: -2}, 'B oversold')
    want_levels(f, A, JACKET, {MAIN: -2, OVER: 0}, 'a sale beyond the group: Overflow to 0, Main the rest')
    want_levels(f, A, 'plain-cap', {MAIN: 7}, 'the other link')
    check_in_step(a, 'after the sales')
    check_compare_and_set(f, [A, B])


def test_group_restock(ctx):
    """A restock in B goes to the first member of A's group; restocks at either member reach B;
    a sale at one member and a restock at the other in one cycle reach B as their sum."""
    f = ctx.fake
    a = group_pair(ctx)
    wa = writes(f, A)
    f.op('restock', {'store': B, 'handle': JACKET, 'qty': 4})
    once_twice(a)
    want_levels(f, A, JACKET, {MAIN: 7, OVER: 10}, 'a restock of 4 in B goes to the first member')
    check([c for _, cs in new_writes(f, A, wa) for c in cs] == [(MAIN, 4, True)],
          'A written +4 at Main only: %s' % new_writes(f, A, wa))
    want_levels(f, B, JACKET, {US: 17}, 'B keeps its restock')
    f.op('restock', {'store': A, 'handle': JACKET, 'location': OVER, 'qty': 5})
    once_twice(a)
    want_levels(f, B, JACKET, {US: 22}, 'a restock at Overflow reached B')
    want_levels(f, A, JACKET, {MAIN: 7, OVER: 15}, 'A as restocked')
    f.op('restock', {'store': A, 'handle': JACKET, 'location': MAIN, 'qty': 1})
    once_twice(a)
    want_levels(f, B, JACKET, {US: 23}, 'a restock at Main reached B')
    f.op('sell', {'store': A, 'handle': JACKET, 'location': MAIN, 'qty': 2})
    f.op('restock', {'store': A, 'handle': JACKET, 'location': OVER, 'qty': 3})
    once_twice(a)
    want_levels(f, B, JACKET, {US: 24}, 'a sale of 2 at Main and a restock of 3 at Overflow: +1 in B')
    want_levels(f, A, JACKET, {MAIN: 6, OVER: 18}, 'A as changed')
    check_in_step(a, 'after the restocks')
    check_compare_and_set(f, [A, B])


def test_both_sides_groups(ctx):
    """`Main Warehouse + Overflow = US Warehouse + US Overflow`, with a third location in A
    (Showroom) in no group: the first sighting spreads the primary's side over B's members,
    sales and restocks at any member reach the other group in order, Showroom is neither counted
    nor written."""
    f = ctx.fake
    coat, boot = 'wool-coat', 'rain-boot'
    ctx.load([store(A, [one(coat, 'WC-1', {MAIN: 2, OVER: 6, 'Showroom': 50}),
                        one(boot, 'RB-1', {MAIN: 4, OVER: 0, 'Showroom': 7})],
                    locations=locs(MAIN, OVER, 'Showroom')),
              store(B, [one(coat, 'WC-1', {US: 1, USO: 9}), one(boot, 'RB-1', {US: 4, USO: 0})],
                    locations=locs(US, USO))])
    a = pool_agent(ctx, [A, B], ['%s + %s = %s + %s' % (MAIN, OVER, US, USO)])
    once_twice(a)
    # initial = primary: B's side 10 -> A's 8, taken in order (US 1 -> 0, US Overflow 9 -> 8)
    want_levels(f, B, coat, {US: 0, USO: 8}, 'the first sighting spread over B\'s group')
    want_levels(f, A, coat, {MAIN: 2, OVER: 6, 'Showroom': 50}, 'the primary unchanged')
    want_levels(f, B, boot, {US: 4, USO: 0}, 'sides in step left alone')
    # a sale at B's second member; a sale at A's second member of the other product; a
    # restock at the Showroom, which no group holds
    f.op('sell', {'store': B, 'handle': coat, 'location': USO, 'qty': 3})
    f.op('sell', {'store': A, 'handle': boot, 'location': OVER, 'qty': 1})
    f.op('restock', {'store': A, 'handle': boot, 'location': 'Showroom', 'qty': 2})
    once_twice(a)
    want_levels(f, A, coat, {MAIN: 0, OVER: 5, 'Showroom': 50}, 'a sale of 3 at US Overflow taken in order')
    want_levels(f, B, coat, {US: 0, USO: 5}, 'B keeps its sale')
    want_levels(f, B, boot, {US: 3, USO: 0}, 'a sale at Overflow taken from US Warehouse')
    want_levels(f, A, boot, {MAIN: 4, OVER: -1, 'Showroom': 9}, 'A as changed')
    # a restock at A's second member goes to B's first; then a sale at B's first member
    f.op('restock', {'store': A, 'handle': coat, 'location': OVER, 'qty': 6})
    once_twice(a)
    want_levels(f, B, coat, {US: 6, USO: 5}, 'a restock of 6 at Overflow goes to US Warehouse')
    f.op('sell', {'store': B, 'handle': coat, 'location': US, 'qty': 9})
    once_twice(a)
    want_levels(f, B, coat, {US: -3, USO: 5}, 'B oversold at its first member')
    want_levels(f, A, coat, {MAIN: 0, OVER: 2, 'Showroom': 50},
                'a sale of 9: Main already 0, taken from Overflow')
    for s in (A, B):
        for key, cs in writes(f, s):
            check(all(loc in (MAIN, OVER, US, USO) for loc, _, _ in cs),
                  'a location in no group was written in %s: %s %s' % (s, key, cs))
    check_in_step(a, 'after the changes')
    check_compare_and_set(f, [A, B])


def test_buffered_store_at_zero(ctx):
    """`buffer = 2` in B: B shows the pool less 2, 0 while A still has 2; B's sales count in
    full; a sale below 0 in B is brought back to 0; a restock in B moves the pool and B is
    re-derived from it; an oversold pool shows as it is in both stores."""
    f = ctx.fake
    h = 'buffer-scarf'
    ctx.load([store(A, [one(h, 'BS', {MAIN: 5}), one('plain-cap', 'PC', {MAIN: 1})]),
              store(B, [one(h, 'BS', {US: 5}), one('plain-cap', 'PC', {US: 1})], locations=locs(US))])
    a = pool_agent(ctx, [A, B], ['%s = %s' % (MAIN, US)], buffers={B: 2})
    steps = [
        (None, 5, 3, 'the first sighting: P 5, B shows 3'),
        ((B, 'sell', 1), 4, 2, 'B sells 1: P 4, in full in A'),
        ((A, 'sell', 2), 2, 0, 'A sells 2: P 2, B shows 0 while A has 2'),
        ((B, 'sell', 1), 1, 0, 'B oversells 1: P 1, in full in A, B back to 0'),
        ((B, 'restock', 5), 6, 4, 'B restocks 5: P 6, B re-derived to 4'),
        ((A, 'restock', 5), 11, 9, 'A restocks 5: P 11, B shows P-2'),
        ((A, 'sell', 12), -1, -1, 'A sells 12: P -1 shows as it is everywhere'),
        ((A, 'restock', 2), 1, 0, 'A restocks 2: P 1, B 0'),
    ]
    for change, wa, wb, what in steps:
        if change:
            s, op, q = change
            f.op(op, {'store': s, 'handle': h, 'qty': q})
        once_twice(a)
        got = (f.level(A, h), f.level(B, h))
        check(got == (wa, wb), '%s: A %d, B %d, want A %d, B %d' % (what, got[0], got[1], wa, wb))
        print('  %-58s A %3d  B %3d' % (what, got[0], got[1]))
    check((f.level(A, 'plain-cap'), f.level(B, 'plain-cap')) == (1, 0), 'the other link: P 1, B 0')
    check_in_step(a, 'buffered')
    check_compare_and_set(f, [A, B])
    out = check_output(a)
    check(re.search(r'buffer\D{0,12}\b2\b', out, re.I), 'check does not show the buffer of 2')
    rc, out, err = a.cmd('status')
    print('  invsync status:\n' + ''.join('    %s\n' % ln for ln in out.splitlines()))
    check(rc == 0, 'status exited %d: %s' % (rc, err))
    check(re.search(r'buffer\D{0,12}\b2\b', out, re.I), 'status does not show the buffer of 2')


def group_second(ctx):
    """group_pair()'s stores with B first (the primary, whose side wins a sighting under
    initial = primary) and A's group second: `US Warehouse = Main Warehouse + Overflow`; a full
    reconciliation pass every second, paid for by a big bucket; the agent runs."""
    f = ctx.fake
    ctx.load([store(A, [one(JACKET, 'GJ-M', {MAIN: 3, OVER: 10})], locations=locs(MAIN, OVER)),
              store(B, [one(JACKET, 'GJ-M', {US: 13})], locations=locs(US))])
    for s in (A, B):
        f.op('throttle', {'store': s, 'max': 20000, 'restore': 10000, 'available': 20000})
    a = pool_agent(ctx, [B, A], ['%s = %s + %s' % (US, MAIN, OVER)], sync={'reconcile': '1s'})
    a.once()
    check(writes(f, A) == [] and writes(f, B) == [], 'sides in step were written')
    a.start()
    a.wait_synced(timeout=20)
    return a


def test_group_member_inactive(ctx):
    """A member read inactive leaves A's side and is never written; that is no sale: nothing
    reaches the primary B, and once the side's other member is read, the side is sighted afresh
    under initial = primary (B's 13: +10 to Main).  Reactivated, the member joins, again no
    restock passed on: the side, now 13 + 10, is sighted afresh and brought to B's 13 in order.
    Then a sale in B is taken from both members in order again."""
    f = ctx.fake
    a = group_second(ctx)
    f.op('level_deactivate', {'store': A, 'handle': JACKET, 'location': OVER})
    # Main is read again by the next reconciliation pass
    wait_until(lambda: at(f, A, JACKET) == {MAIN: 13, OVER: 10}, 15, interval=0.1,
               what="A's side sighted afresh without Overflow: Main 3 -> 13 (B's 13)")
    check(f.level(B, JACKET) == 13, 'the deactivation reached B as a sale: %d' % f.level(B, JACKET))
    check(all(loc != OVER for _, cs in writes(f, A) for loc, _, _ in cs), 'the inactive member was written')
    f.op('level_deactivate', {'store': A, 'handle': JACKET, 'location': OVER, 'active': True})
    wait_until(lambda: at(f, A, JACKET) == {MAIN: 3, OVER: 10}, 15, interval=0.1,
               what="Overflow back: A's side 23 sighted afresh, brought to B's 13 (Main 13 -> 3)")
    check(f.level(B, JACKET) == 13, 'the reactivation reached B as a restock: %d' % f.level(B, JACKET))
    f.op('sell', {'store': B, 'handle': JACKET, 'qty': 5})
    wait_until(lambda: at(f, A, JACKET) == {MAIN: 0, OVER: 8}, 10, interval=0.1,
               what='a sale of 5 in B taken in order (Main 3 -> 0, Overflow 10 -> 8)')
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    a.stop()


def test_group_member_left_big_store(ctx):
    """On a big store, whose reconciliations are bulk files, a member that leaves has the side's
    other members read again by id at once: A's side is sighted afresh (B's 13: Main 3 -> 13),
    so a sale at Main right after reaches B (13 -> 11) instead of being taken in by a later
    sighting.  A member reactivated while the search index misses it shows active in the next
    file, which only a live read may believe: it is read by id, joins, and the side (13 - 2 + 10)
    is brought to B's 11 in order (Main 11 -> 1)."""
    f = ctx.fake
    ctx.load([store(A, [one(JACKET, 'GJ-M', {MAIN: 3, OVER: 10})], locations=locs(MAIN, OVER)),
              store(B, [one(JACKET, 'GJ-M', {US: 13})], locations=locs(US))])
    for s in (A, B):
        f.op('throttle', {'store': s, 'max': 20000, 'restore': 10000, 'available': 20000})
    a = pool_agent(ctx, [B, A], ['%s = %s + %s' % (US, MAIN, OVER)],
                   sync={'interval': '500ms', 'bulk_threshold': '1', 'overlap': '2s',
                         'reconcile': '2s', 'catalog_refresh': '1h'})
    a.start()
    a.wait_synced(timeout=30)
    f.op('level_deactivate', {'store': A, 'handle': JACKET, 'location': OVER})
    wait_until(lambda: at(f, A, JACKET) == {MAIN: 13, OVER: 10}, 20, interval=0.1,
               what="A's side sighted afresh without Overflow at once: Main 3 -> 13 (B's 13)")
    check(log_has(a, 'full reads bulk'), 'A is not read by bulk operations:\n' + a.tail())
    f.op('sell', {'store': A, 'handle': JACKET, 'location': MAIN, 'qty': 2})
    wait_until(lambda: f.level(B, JACKET) == 11, 20, interval=0.1,
               what='a sale at Main after the member left reached B (13 -> 11)')
    f.op('index_lag', {'store': A, 'seconds': 3600})
    f.op('level_deactivate', {'store': A, 'handle': JACKET, 'location': OVER, 'active': True})
    wait_until(lambda: at(f, A, JACKET) == {MAIN: 1, OVER: 10}, 20, interval=0.1,
               what="Overflow back through a file and a read by id: A's 21 brought to 11 (Main 11 -> 1)")
    check(f.level(B, JACKET) == 11, 'the reactivation reached B: %d' % f.level(B, JACKET))
    check(all(loc != OVER for _, cs in writes(f, A) for loc, _, _ in cs), 'Overflow was written')
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    a.stop()


def test_group_member_unstocked(ctx):
    """A member that no longer stocks the item (its level removed) leaves A's side when invsync
    reads it gone: here at the read before a write spread over it (a sale of 4 in B: Main -3,
    Overflow -1).  That is no change passed on: the side, now Overflow's 10 alone, is sighted
    afresh under initial = primary (B's 9): Overflow 10 -> 9, B kept at 9, nothing written to
    Main."""
    f = ctx.fake
    a = group_second(ctx)
    f.op('level_remove', {'store': A, 'handle': JACKET, 'location': MAIN})
    f.op('sell', {'store': B, 'handle': JACKET, 'qty': 4})
    wait_until(lambda: at(f, A, JACKET) == {OVER: 9}, 10, interval=0.1,
               what="A's side sighted afresh without Main: Overflow 10 -> 9 (B's 9)")
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    a.stop()
    check(f.level(B, JACKET) == 9, 'B moved: %d' % f.level(B, JACKET))
    check(all(loc == OVER for _, cs in writes(f, A) for loc, _, _ in cs), 'a write to A left Overflow: %s'
          % writes(f, A))


def set_buffer(a, s, n):
    """Sets `buffer = n` in store s's section of agent a's config."""
    with open(a.conf) as fh:
        lines = [ln for ln in fh.read().splitlines() if not ln.startswith('buffer =')]
    out = []
    for ln in lines:
        out.append(ln)
        if ln == '[store %s]' % s:
            out.append('buffer = %d' % n)
    with open(a.conf, 'w') as fh:
        fh.write('\n'.join(out) + '\n')


def test_buffer_changed(ctx):
    """A buffer changed in the config takes effect at the next start: B's sides are derived
    again from their pool (10) and the difference is written to B only; a pool below the new
    buffer shows 0; buffer 0 shows the whole pool; and a start with the same buffer writes
    nothing."""
    f = ctx.fake
    h = 'buffer-coat'
    ctx.load([store(A, [one(h, 'BC', {MAIN: 10}), one('small-cap', 'SC', {MAIN: 3})]),
              store(B, [one(h, 'BC', {US: 10}), one('small-cap', 'SC', {US: 3})], locations=locs(US))])
    a = pool_agent(ctx, [A, B], ['%s = %s' % (MAIN, US)], buffers={B: 2})
    for n, coat, cap in ((2, 8, 1), (5, 5, 0), (5, 5, 0), (0, 10, 3)):
        set_buffer(a, B, n)
        wa = writes(f, A)
        once_twice(a)
        got = (f.level(B, h), f.level(B, 'small-cap'))
        check(got == (coat, cap), 'buffer %d: B shows %s, want %s' % (n, got, (coat, cap)))
        check(new_writes(f, A, wa) == [], 'buffer %d: A was written: %s' % (n, new_writes(f, A, wa)))
        check((f.level(A, h), f.level(A, 'small-cap')) == (10, 3), 'buffer %d: A moved' % n)
        print('  buffer %d: B shows %d and %d' % (n, coat, cap))
    wb = writes(f, B)
    a.once()
    check(new_writes(f, B, wb) == [], 'a start with the same buffer wrote: %s' % new_writes(f, B, wb))
    check_in_step(a, 'buffer changed')


def log_has(a, text):
    with open(a.logpath, errors='replace') as fh:
        return text in fh.read()


def test_buffer_reloaded(ctx):
    """SIGHUP while running: a changed buffer takes effect without a restart (B 8 -> 5 of a
    pool of 10, nothing written to A), and a sale then moves the pool by its full amount (A
    sells 1: B 4).  A config with an error is refused and the running one kept: the next
    sale still syncs under buffer 5."""
    f = ctx.fake
    h = 'reload-coat'
    ctx.load([store(A, [one(h, 'RC', {MAIN: 10})]),
              store(B, [one(h, 'RC', {US: 10})], locations=locs(US))])
    a = pool_agent(ctx, [A, B], ['%s = %s' % (MAIN, US)], buffers={B: 2})
    a.start()
    wait_until(lambda: f.level(B, h) == 8, 20, interval=0.2, what='B at 8 under buffer 2')
    wa = writes(f, A)
    set_buffer(a, B, 5)
    a.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: f.level(B, h) == 5, 20, interval=0.2, what='B at 5 after the reload')
    check(log_has(a, 'configuration reloaded'), 'no reload in the log:\n' + a.tail())
    f.op('sell', {'store': A, 'handle': h, 'qty': 1})
    wait_until(lambda: f.level(B, h) == 4, 20, interval=0.2, what='B at 4 after a sale of 1 in A')
    with open(a.conf) as fh:
        good = fh.read()
    with open(a.conf, 'w') as fh:
        fh.write(good.replace('buffer = 5', 'buffer = five'))
    a.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_has(a, 'keeping the running configuration'), 20, interval=0.2,
               what='the bad config refused')
    f.op('sell', {'store': A, 'handle': h, 'qty': 2})
    wait_until(lambda: f.level(B, h) == 2, 20, interval=0.2,
               what='B at 2 (pool 7, buffer 5) after the refused reload')
    check(a.running(), 'the agent stopped on a bad config:\n' + a.tail())
    check(new_writes(f, A, wa) == [], 'A was written: %s' % new_writes(f, A, wa))
    check(f.level(A, h) == 7, 'A shows %s, want 7' % f.level(A, h))
    with open(a.conf, 'w') as fh:   # status reads the config too
        fh.write(good)
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    rc, _ = a.stop()
    check(rc == 0, 'run exited %s on SIGTERM' % rc)


def test_group_member_removed_unwritten(ctx):
    """A member whose level is removed and that no write touches leaves A's side at the end of
    the next full pass that does not find it (reconcile = 1s here): its 3 units stop counting.
    No change is passed on; A's side stops being synced until a later read of Overflow, then is
    sighted afresh as Overflow's 10 alone under initial = primary (A is the primary): B 13 -> 10.
    A pass that finds every member changes nothing."""
    f = ctx.fake
    a = group_pair(ctx, sync={'reconcile': '1s'})
    a.once()
    check(writes(f, A) == [] and writes(f, B) == [], 'passes that found every member wrote: %s / %s'
          % (writes(f, A), writes(f, B)))
    for s in (A, B):    # points for a paced pass every second
        f.op('throttle', {'store': s, 'max': 20000, 'restore': 10000, 'available': 20000})
    f.op('level_remove', {'store': A, 'handle': JACKET, 'location': MAIN})
    a.start()
    wait_until(lambda: f.level(B, JACKET) == 10, 15, interval=0.2,
               what='B no longer counting the removed level (13 -> 10)')
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    a.stop()
    want_levels(f, A, JACKET, {OVER: 10}, 'A as it is')
    check(writes(f, A) == [], 'A was written: %s' % writes(f, A))
    out = a.cmd('explain', JACKET)[1]
    check('not stocked: left out of the sum' in out, 'explain does not show Main left out:\n' + out)
    check_in_step(a, 'after the removal')


# a store's members, in the order [locations] lists them
SOAK_GROUPS = {A: (MAIN, OVER), B: (US,), C: (UK, UKO)}
SOAK_BUFFERS = {A: 0, B: 2, C: 1}
SOAK_KINDS = ('502', '503', 'reset', 'stall', 'truncate', 'invalid_json', 'lost_reply', 'throttled')


def pool_sides(f, stores, keys):
    """{(handle, sku): {store: side}} with each store's members summed."""
    out = collections.defaultdict(dict)
    for s in stores:
        lv = f.levels(s)
        for h, sku in keys:
            vals = [lv.get((h, sku, loc)) for loc in SOAK_GROUPS[s]]
            out[(h, sku)][s] = None if None in vals else sum(vals)
    return out


def pool_external(f, stores):
    """{(handle, sku): sum of the external available changes at every store's members}."""
    tot = collections.Counter()
    for s in stores:
        for e in f.log(s):
            if e['kind'] in ('sell', 'restock', 'refund', 'set') and e['location'] in SOAK_GROUPS[s]:
                tot[(e['handle'], e['sku'])] += e['after']['available'] - e['before']['available']
    return tot


def wrong_guesses(f, stores, keys, events):
    """{(handle, sku): how far the uncertain writes guessed wrong moved P}.  An uncertain write
    taken as applied (`uncertain`) that never ran: the store shows d less than invsync believes,
    which it then sees as a change of -d; one taken as not applied (`uncertain-replanned`) that
    ran: +d (docs/write-protocol.md).  Whether a batch ran is the fake's record of its key."""
    ran = set()
    for s in stores:
        for e in f.log(s, 'write'):
            if e.get('outcome') == 'applied':
                ran.add((s, e['key']))
    corr = collections.Counter()
    for ev in events:
        did = (ev['store'], ev['batch']) in ran
        if did == (ev['kind'] == 'uncertain'):
            continue            # the guess was right
        for h, sku in keys:
            if h in ev['link'] and sku in ev['link']:
                corr[(h, sku)] += ev['delta'] if did else -ev['delta']
    return corr


def pools_bad(f, stores, keys, p0, corr):
    """What breaks conservation: each link's sides must be T_s(P) with P = p0 + the external
    changes at every store's members + the moves of wrong uncertain guesses (corr)."""
    sides = pool_sides(f, stores, keys)
    ext = pool_external(f, stores)
    bad = []
    for k in keys:
        p = p0[k] + ext[k] + corr.get(k, 0)
        want = {s: target(p, SOAK_BUFFERS[s]) for s in stores}
        if sides[k] != want:
            bad.append('%s/%s: P %d (%+d by wrong uncertain guesses), sides %s, want %s'
                       % (k[0], k[1], p, corr.get(k, 0), sides[k], want))
    return bad


def test_pools_conserved_under_faults(ctx):
    """Three stores -- A a group of two, B one location with buffer 2, C a group of two with
    buffer 1 -- and concurrent sales, restocks and refunds at every member of every store while
    the fake answers 5xx, resets, stalls, cut and broken replies and loses replies of applied
    writes, and the running agent is killed -9 several times; then a quiet run.  Every store's
    side of every link ends at T_s(P), P = the initial pool + the sum of all external changes
    (an uncertain write may shift P by at most its delta, the same for every store); no write
    without compare-and-set, no key applied twice."""
    f = ctx.fake
    stores = [A, B, C]
    seconds = 60 if ctx.long else 14
    kills = 12 if ctx.long else 4
    # in step at the start: a pool of 200, and one of 8 that the sales and restocks (as many
    # of each, on average) take across 0 and the buffers, back and forth
    keys = [('pool-coat', 'PC-1'), ('pool-boot', 'PB-1')]
    p0 = {keys[0]: 200, keys[1]: 8}
    init = {keys[0]: {A: {MAIN: 100, OVER: 100}, B: {US: 198}, C: {UK: 150, UKO: 49}},
            keys[1]: {A: {MAIN: 3, OVER: 5}, B: {US: 6}, C: {UK: 2, UKO: 5}}}
    ctx.load([store(s, [one(h, sku, init[(h, sku)][s]) for h, sku in keys], locations=locs(*SOAK_GROUPS[s]))
              for s in stores])
    line = ' = '.join(' + '.join(SOAK_GROUPS[s]) for s in stores)
    a = pool_agent(ctx, stores, [line], buffers={B: 2, C: 1})
    a.once()           # the first sighting (and a config the agent refuses fails here, at once)
    a.start()
    a.wait_synced(timeout=40)
    bad = pools_bad(f, stores, keys, p0, {})
    check(not bad, 'not in step at the start: %s' % bad)
    for s in stores:
        for kind in SOAK_KINDS:
            f.op('faults', {'store': s, 'kind': kind, 'rate': 0.15 / len(SOAK_KINDS), 'seconds': 1.0,
                            'ops': ['mutation'] if kind in ('lost_reply', 'stall', 'truncate') else
                            ['query', 'mutation']})
    members = [(s, loc) for s in stores for loc in SOAK_GROUPS[s]]
    rng = ctx.rng
    n, nkill = 0, 0
    next_kill = time.monotonic() + rng.uniform(0.5, 2.5)
    end = time.monotonic() + seconds
    while time.monotonic() < end or nkill < kills:
        s, loc = rng.choice(members)
        h, sku = rng.choice(keys)
        op = rng.choice(('sell', 'sell', 'restock', 'refund'))
        f.op(op, {'store': s, 'handle': h, 'sku': sku, 'location': loc, 'qty': rng.randint(1, 4)})
        n += 1
        now = time.monotonic()
        if nkill < kills and now >= next_kill:
            a.kill9()
            nkill += 1
            a.start()
            next_kill = now + rng.uniform(0.5, 2.5)
        time.sleep(rng.uniform(0.01, 0.2))    # pacing of the load, not synchronisation
    nf = sum(f.op('stats', {'store': s})['faults'] for s in stores)
    f.faults_off(stores)
    if not a.running():
        a.start()
    # the small pool ends at 1, within both buffers: a last change at A's second member
    h, sku = keys[1]
    d = 1 - (p0[keys[1]] + pool_external(f, stores)[keys[1]])
    if d:
        f.op('sell' if d < 0 else 'restock', {'store': A, 'handle': h, 'sku': sku, 'location': OVER,
                                              'qty': abs(d)})
    print('  %d external changes at %d members, %d faults injected, %d kill -9'
          % (n, len(members), nf, nkill))
    a.wait_synced(timeout=QUIESCE, since_ms=time.time() * 1000)
    unc = uncertain_events(a)
    corr = wrong_guesses(f, stores, keys, unc)
    try:
        wait_until(lambda: not pools_bad(f, stores, keys, p0, corr), 30, interval=0.3, what='conservation')
    except TestFailure:
        raise TestFailure('conservation broken: %s' % '; '.join(pools_bad(f, stores, keys, p0, corr)))
    st = a.wait_synced(timeout=QUIESCE)
    ext = pool_external(f, stores)
    sides = pool_sides(f, stores, keys)
    for k in keys:
        print('  %s: P %d %+d external %+d wrong guesses, sides %s'
              % (k[0], p0[k], ext[k], corr.get(k, 0), sides[k]))
    ncas = check_compare_and_set(f, stores)
    for s in stores:
        seen = collections.Counter(key for key, _ in writes(f, s))
        twice = [key for key, c in seen.items() if c > 1]
        check(not twice, '%s: keys applied more than once: %s' % (s, twice[:4]))
    print('  conserved: %d changes with compare-and-set, %d uncertain events (status %d), %d wrong'
          % (ncas, len(unc), st.get('uncertain', 0), sum(1 for _ in corr)))
    rc, _ = a.stop(timeout=15)
    check(rc == 0, 'run exited %s on SIGTERM' % rc)


TESTS = [('group_sale_in_order', test_group_sale_in_order),
         ('group_restock', test_group_restock),
         ('both_sides_groups', test_both_sides_groups),
         ('buffered_store_at_zero', test_buffered_store_at_zero),
         ('buffer_changed', test_buffer_changed),
         ('buffer_reloaded', test_buffer_reloaded),
         ('group_member_inactive', test_group_member_inactive),
         ('group_member_left_big_store', test_group_member_left_big_store),
         ('group_member_unstocked', test_group_member_unstocked),
         ('group_member_removed_unwritten', test_group_member_removed_unwritten),
         ('pools_conserved_under_faults', test_pools_conserved_under_faults)]


def main():
    return run_suite('pools', TESTS)


if __name__ == '__main__':
    sys.exit(main())
