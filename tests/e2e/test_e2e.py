#!/usr/bin/env python3
"""End-to-end tests: the invsync agent against the fake Shopify (DESIGN §8, issue 5).

    python3 tests/e2e/test_e2e.py --bin build/invsync [--seed N] [--only NAME[,NAME]] [--long]

Prints PASS/FAIL/SKIP lines; exits 1 when a test failed.  Each test prints its
seed (derived from --seed, default random) so a failure can be re-run with
`--seed N --only NAME`.  --long makes the soak tests (conservation with faults
and kills) run several times longer.
"""
import argparse
import collections
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Agent, Fake, TestFailure, check, product, store, variant,  # noqa: E402
                     wait_until)

INTERVAL = 1.0
PROP_BOUND = 2.5          # interval + 1 s, with a margin for a 2-core box
QUIESCE = 90              # faults can leave a store backed off for up to a minute

STATS = collections.Counter()      # kills, faults, propagations
PROPS = []                         # (test, what, seconds)
STOCK = ('Main Warehouse',)


class Ctx:
    def __init__(self, fake, binary, seed, long):
        self.fake = fake
        self.bin = binary
        self.seed = seed
        self.rng = random.Random(seed)
        self.long = long
        self.agents = []

    def agent(self, stores, **kw):
        a = Agent(self.bin, self.fake, stores, **kw)
        self.agents.append(a)
        return a

    def load(self, stores):
        self.fake.op('load', {'seed': self.seed, 'stores': stores})


# ------------------------------------------------------------ helpers

def simple(handle, sku, qty):
    return product(handle, [variant(sku, qty)])


def measure(ctx, name, cond, bound=PROP_BOUND, timeout=10):
    """Waits for cond (checked every 20 ms) and returns the seconds it took;
    fails when that exceeded bound."""
    t0 = time.monotonic()
    wait_until(cond, timeout, interval=0.02, what=name)
    dt = time.monotonic() - t0
    PROPS.append((name, dt))
    print('  propagation %s: %.2fs' % (name, dt))
    check(dt <= bound, 'propagation %s took %.2fs > %.1fs' % (name, dt, bound))
    return dt


EXTERNAL = ('sell', 'restock', 'refund', 'set')


def external_sum(fake, stores):
    """{(handle, sku, location): sum of external available changes} over stores."""
    tot = collections.Counter()
    for s in stores:
        for e in fake.log(s):
            if e['kind'] in EXTERNAL:
                tot[(e['handle'], e['sku'], e['location'])] += e['after']['available'] - e['before']['available']
    return tot


def check_no_double_apply(fake, stores):
    """Every idempotency key was applied at most once; returns (writes, applied)."""
    nw = na = 0
    for s in stores:
        seen = collections.Counter()
        for e in fake.log(s, 'write'):
            nw += 1
            if e.get('outcome') == 'applied':
                na += 1
                seen[e['key']] += 1
        twice = [k for k, n in seen.items() if n > 1]
        check(not twice, 'store %s: keys applied more than once: %s' % (s, twice[:5]))
    return nw, na


def check_conservation(ctx, agent, stores, initial, one_way=False):
    """Every linked level == initial + all external changes in every store
    (one-way: the primary's, plus the store's own); status in step; no double apply."""
    fake = ctx.fake

    def levels_ok():
        ext = {s: external_sum(fake, [s]) for s in stores}
        bad = []
        for s in stores:
            lv = fake.levels(s)
            for k, q0 in initial.items():
                if one_way:
                    want = q0 + ext[stores[0]][k] + (ext[s][k] if s != stores[0] else 0)
                else:
                    want = q0 + sum(ext[t][k] for t in stores)
                if lv.get(k) != want:
                    bad.append('%s %s: %s != %s' % (s, k, lv.get(k), want))
        return bad

    try:
        wait_until(lambda: not levels_ok(), QUIESCE, interval=0.3, what='conservation')
    except TestFailure:
        raise TestFailure('conservation broken: ' + '; '.join(levels_ok()[:6]))
    st = agent.wait_synced(timeout=QUIESCE)
    check(st['in_step'] and not st['paused'], 'status not in step: %r' % st)
    nw, na = check_no_double_apply(fake, stores)
    print('  conserved: %d links, %d writes received, %d applied, uncertain %d'
          % (len(initial), nw, na, st.get('uncertain', 0)))
    return st


def random_ops(ctx, stores, keys, seconds, on_tick=None):
    """Random sales/restocks/refunds on every store for `seconds`; returns the count."""
    rng = ctx.rng
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s = rng.choice(stores)
        h, sku, loc = rng.choice(keys)
        op = rng.choice(('sell', 'sell', 'sell', 'restock', 'refund'))
        ctx.fake.op(op, {'store': s, 'handle': h, 'sku': sku, 'location': loc, 'qty': rng.randint(1, 4)})
        n += 1
        if on_tick:
            on_tick()
        time.sleep(rng.uniform(0.01, 0.25))   # pacing of the load, not synchronisation
    return n


def soak_catalog(nprod=3, nvar=3, qty=200):
    prods, keys = [], []
    for p in range(nprod):
        h = 'soak-%d' % p
        vs = []
        for v in range(nvar):
            sku = 'SOAK-%d-%d' % (p, v)
            vs.append(variant(sku, qty, options={'Size': 'S%d' % v}))
            keys.append((h, sku, 'Main Warehouse'))
        prods.append(product(h, vs, options=['Size']))
    return prods, keys


# ------------------------------------------------------------ tests

def test_seed_scenarios(ctx):
    h = 'slim-fit-denim-jacket'
    ctx.load([store('source', [simple(h, 'SFDJ-M', 50)]), store('destination', [simple(h, 'SFDJ-M', 50)])])
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    f = ctx.fake
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 5})
    measure(ctx, 'sell 5 in destination', lambda: f.level('source', h) == 45)
    check(f.level('destination', h) == 45, 'destination not 45')
    f.op('restock', {'store': 'source', 'handle': h, 'qty': 10})
    measure(ctx, 'restock 10 in source', lambda: f.level('destination', h) == 55)
    check(f.level('source', h) == 55, 'source not 55')
    for _ in range(3):     # a few more each way for the numbers
        s, o = ctx.rng.choice((('source', 'destination'), ('destination', 'source')))
        q = f.level(o, h) - 1
        f.op('sell', {'store': s, 'handle': h, 'qty': 1})
        measure(ctx, 'sell 1 in %s' % s, lambda: f.level(o, h) == q)
    a.wait_synced()
    rc, dt = a.stop()
    check(rc == 0, 'run exited %s on SIGTERM' % rc)


def matching_stores():
    tee = lambda q: product('classic-tee', [variant('TEE-S', q[0], options={'Size': 'S'}),  # noqa: E731
                                            variant('TEE-M', q[1], options={'Size': 'M'}),
                                            variant('TEE-L', q[2], options={'Size': 'L'})], options=['Size'])
    scarf = lambda q: product('wool-scarf', [variant(None, q[0], options={'Color': 'Red'}),  # noqa: E731
                                             variant(None, q[1], options={'Color': 'Blue'})], options=['Color'])
    gift = lambda q: product('gift-box', [variant('GIFT', q, tracked=False)])  # noqa: E731
    src = [tee((20, 30, 40)), scarf((7, 8)), gift(5), simple('only-in-source', 'ONLY-S', 11)]
    dst = [tee((1, 2, 3)), scarf((4, 5)), gift(9), simple('only-in-destination', 'ONLY-D', 12)]
    return [store('source', src), store('destination', dst)]


def test_matching(ctx):
    f = ctx.fake
    ctx.load(matching_stores())
    a = ctx.agent(['source', 'destination'], sync={'reconcile': '2s'})
    a.start()
    st = a.wait_synced()
    d = f.levels('destination')
    want = {('classic-tee', 'TEE-S', 'Main Warehouse'): 20, ('classic-tee', 'TEE-M', 'Main Warehouse'): 30,
            ('classic-tee', 'TEE-L', 'Main Warehouse'): 40}
    for k, q in want.items():
        check(d[k] == q, 'initial=primary: destination %s is %s, want %s' % (k, d[k], q))
    scarves = sorted(r['available'] for r in f.op('levels', {'store': 'destination', 'handle': 'wool-scarf'}))
    check(scarves == [7, 8], 'variants without SKU (by options) not linked: %s' % scarves)
    check(f.level('destination', 'gift-box') == 9, 'untracked item was written')
    check(f.level('destination', 'only-in-destination') == 12, 'one-store product changed')
    check(st['links_not_synced'] >= 1, 'untracked item not reported as not synced: %r' % st)
    check(st['links'] >= 5, 'expected >= 5 links (3 tee, 2 scarf): %r' % st)
    # each kind of link propagates
    f.op('sell', {'store': 'destination', 'handle': 'classic-tee', 'sku': 'TEE-M', 'qty': 3})
    measure(ctx, 'by SKU', lambda: f.level('source', 'classic-tee', 'TEE-M') == 27)
    rows = f.op('levels', {'store': 'source', 'handle': 'wool-scarf'})
    f.op('restock', {'store': 'source', 'handle': 'wool-scarf', 'qty': 4})   # first variant: Red
    red_dst = [r for r in f.op('levels', {'store': 'destination', 'handle': 'wool-scarf'})]
    measure(ctx, 'by options', lambda: sorted(r['available'] for r in
            f.op('levels', {'store': 'destination', 'handle': 'wool-scarf'})) == sorted([rows[0]['available'] + 4,
                                                                                        rows[1]['available']]))
    del red_dst
    f.op('sell', {'store': 'source', 'handle': 'gift-box', 'qty': 1})
    f.op('sell', {'store': 'source', 'handle': 'only-in-source', 'qty': 1})
    # a rename in one store unlinks that product
    f.op('product_update', {'store': 'destination', 'handle': 'classic-tee', 'new_handle': 'classic-tee-v2'})
    wait_until(lambda: any(e['kind'] == 'unlinked' and 'classic-tee' in e['link'] for e in a.audit()),
               15, interval=0.3, what='unlink after a rename')
    a.wait_synced()
    f.op('sell', {'store': 'source', 'handle': 'classic-tee', 'sku': 'TEE-S', 'qty': 2})
    wait_until(lambda: any(e['kind'] == 'observed' and 'TEE-S' in e['link'] for e in a.audit()),
               10, interval=0.2, what='the sale observed in source')
    a.wait_synced()
    check(f.level('destination', 'classic-tee-v2', 'TEE-S') == 20, 'a renamed (unlinked) product was written')
    check(f.level('destination', 'gift-box') == 9, 'untracked item was written')
    # renamed back: linked again, first sighting (primary) copies the source
    f.op('product_update', {'store': 'destination', 'handle': 'classic-tee-v2', 'new_handle': 'classic-tee'})
    wait_until(lambda: f.level('destination', 'classic-tee', 'TEE-S') == 18, 15, interval=0.2,
               what='re-link after renaming back')
    f.op('sell', {'store': 'destination', 'handle': 'classic-tee', 'sku': 'TEE-L', 'qty': 1})
    measure(ctx, 're-linked', lambda: f.level('source', 'classic-tee', 'TEE-L') == 39)
    rc, _ = a.stop()
    check(rc == 0, 'run exited %s' % rc)


def test_match_sku_barcode(ctx):
    f = ctx.fake
    for match in ('sku', 'barcode'):
        if match == 'sku':
            src = [simple('jacket-eu', 'J-1', 10), simple('boots-eu', 'B-1', 20)]
            dst = [simple('jacket-us', 'J-1', 10), simple('boots-us', 'B-1', 20)]
        else:
            src = [product('jacket-eu', [variant('EU-J', 10, barcode='4000001')]),
                   product('boots-eu', [variant('EU-B', 20, barcode='4000002')])]
            dst = [product('jacket-us', [variant('US-J', 10, barcode='4000001')]),
                   product('boots-us', [variant('US-B', 20, barcode='4000002')])]
        ctx.load([store('source', src), store('destination', dst)])
        a = ctx.agent(['source', 'destination'], sync={'match': match}, name=match)
        a.once()
        st = a.status()
        check(st['links'] == 2 and st['in_step'], 'match=%s: %r' % (match, st))
        f.op('sell', {'store': 'destination', 'handle': 'boots-us', 'qty': 4})
        f.op('restock', {'store': 'source', 'handle': 'jacket-eu', 'qty': 3})
        a.once()
        check(f.level('source', 'boots-eu') == 16 and f.level('destination', 'jacket-us') == 13,
              'match=%s did not propagate: %s %s' % (match, f.levels('source'), f.levels('destination')))
        check(f.level('destination', 'boots-us') == 16 and f.level('source', 'jacket-eu') == 13,
              'match=%s: the origin moved' % match)


def test_three_stores_initial(ctx):
    f = ctx.fake
    names = ['source', 'destination', 'third']
    h = 'linen-shirt'
    expect = {'primary': [30, 30, 30], 'keep': [30, 20, 40], 'min': [20, 20, 20]}
    for pol, want in expect.items():
        ctx.load([store(n, [simple(h, 'LS-1', q)]) for n, q in zip(names, (30, 20, 40))])
        a = ctx.agent(names, sync={'initial': pol}, name=pol)
        a.once()
        got = [f.level(n, h) for n in names]
        check(got == want, 'initial=%s: %s, want %s' % (pol, got, want))
        st = a.status()
        check(st['in_step'], 'initial=%s: not in step: %r' % (pol, st))
        # one sale in the third store reaches both others
        f.op('sell', {'store': 'third', 'handle': h, 'qty': 3})
        f.op('restock', {'store': 'destination', 'handle': h, 'qty': 1})
        a.once()
        got = [f.level(n, h) for n in names]
        check(got == [w - 2 for w in want], 'initial=%s after changes: %s, want %s'
              % (pol, got, [w - 2 for w in want]))
    # and a daemon over three stores: propagation to both others
    a.start()
    a.wait_synced()
    base = f.level('third', h)
    f.op('sell', {'store': 'source', 'handle': h, 'qty': 2})
    measure(ctx, '3 stores', lambda: f.level('third', h) == base - 2 and f.level('destination', h) == base - 2)
    a.stop()


def test_one_way(ctx):
    f = ctx.fake
    h = 'canvas-bag'
    ctx.load([store('source', [simple(h, 'CB', 50)]), store('destination', [simple(h, 'CB', 50)])])
    a = ctx.agent(['source', 'destination'], sync={'direction': 'one-way'})
    a.start()
    a.wait_synced()
    f.op('restock', {'store': 'source', 'handle': h, 'qty': 10})
    measure(ctx, 'one-way primary change', lambda: f.level('destination', h) == 60)
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 5})
    wait_until(lambda: any(e['kind'] == 'observed' and e['store'] == 'destination' for e in a.audit()),
               10, interval=0.2, what='the destination sale observed')
    a.wait_synced()
    check(f.level('source', h) == 60, 'one-way: destination sale reached the primary')
    f.op('sell', {'store': 'source', 'handle': h, 'qty': 1})
    measure(ctx, 'one-way again', lambda: f.level('destination', h) == 54)
    check(f.level('source', h) == 59, 'source moved')
    a.stop()


def test_downtime(ctx):
    f = ctx.fake
    ctx.load([store('source', [simple('denim', 'D', 50), simple('belt', 'B', 10)]),
              store('destination', [simple('denim', 'D', 50), simple('belt', 'B', 10)])])
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    rc, _ = a.stop()
    check(rc == 0, 'rc %s' % rc)
    f.op('sell', {'store': 'source', 'handle': 'denim', 'qty': 3})
    f.op('sell', {'store': 'destination', 'handle': 'denim', 'qty': 4})
    f.op('restock', {'store': 'destination', 'handle': 'denim', 'qty': 2})
    f.op('refund', {'store': 'source', 'handle': 'denim', 'qty': 1})
    f.op('sell', {'store': 'destination', 'handle': 'belt', 'qty': 1})
    f.op('clock', {'advance': 7200})      # two hours later
    a.start()
    wait_until(lambda: f.level('source', 'denim') == 46 and f.level('destination', 'denim') == 46, 15,
               interval=0.1, what='both sides merged to 46 (50-3-4+2+1)')
    wait_until(lambda: f.level('source', 'belt') == 9, 10, what='belt 9')
    a.wait_synced()
    a.stop()


def soak(ctx, seconds, faults=0.0, kills=0):
    f = ctx.fake
    stores = ['source', 'destination']
    prods, keys = soak_catalog()
    ctx.load([store(s, prods) for s in stores])
    initial = {k: 200 for k in keys}
    a = ctx.agent(stores)
    a.start()
    a.wait_synced()
    kinds = ('502', '503', 'reset', 'stall', 'truncate', 'invalid_json', 'wrong_types', 'oversize', 'lost_reply')
    if faults:
        for s in stores:
            for k in kinds:
                f.op('faults', {'store': s, 'kind': k, 'rate': faults / len(kinds), 'seconds': 1.5,
                                'bytes': 9 << 20})
    state = {'next_kill': None, 'kills': 0, 'stalls': 0}
    if kills:
        # half the kills land while a write is in flight: some mutations
        # stall (then apply) and a stall seen by the fake schedules a kill
        for s in stores:
            f.op('faults', {'store': s, 'kind': 'stall', 'rate': 0.3, 'ops': ['mutation'], 'seconds': 0.8})

    def tick():
        if not kills:
            return
        now = time.monotonic()
        nst = sum(f.op('stats', {'store': s})['faults'] for s in stores)
        if nst > state['stalls']:
            state['stalls'] = nst
            if ctx.rng.random() < 0.7:
                state['next_kill'] = now + ctx.rng.uniform(0.0, 0.6)
        if not a.running():
            a.start()
            state['next_kill'] = now + ctx.rng.uniform(0.05, 1.6)
        elif state['next_kill'] is None:
            state['next_kill'] = now + ctx.rng.uniform(0.05, 1.6)
        elif now >= state['next_kill']:
            a.kill9()
            state['kills'] += 1
            a.start()
            state['next_kill'] = now + ctx.rng.uniform(0.05, 1.6)

    n = random_ops(ctx, stores, keys, seconds, tick)
    if kills:
        while state['kills'] < kills:          # at least this many, ops or not
            tick()
            time.sleep(0.05)
    nf = sum(f.op('stats', {'store': s})['faults'] for s in stores)
    STATS['faults'] += nf
    f.faults_off(stores)
    if not a.running():
        a.start()
    STATS['kills'] += state['kills']
    print('  %d external changes, %d faults injected, %d kill -9' % (n, nf, state['kills']))
    try:
        st = check_conservation(ctx, a, stores, initial)
    finally:
        rc, dt = a.stop(timeout=15)
    check(rc == 0, 'run exited %s on SIGTERM' % rc)
    return st


def test_conservation(ctx):
    soak(ctx, 30 if ctx.long else 12)


def test_conservation_faults(ctx):
    soak(ctx, 150 if ctx.long else 40, faults=0.15)


def test_conservation_kills(ctx):
    soak(ctx, 120 if ctx.long else 20, kills=80 if ctx.long else 22)


def test_unknown_outcomes(ctx):
    """DESIGN §4 by hand with `once`: a write whose outcome is unknown, then a
    concurrent sale in the same store, then the replay."""
    f = ctx.fake
    h = 'field-jacket'
    stores = ['source', 'destination']
    cases = [('502', False), ('503', False), ('reset', False), ('lost_reply', True), ('truncate', True),
             ('invalid_json', True), ('wrong_types', True), ('oversize', True)]
    for kind, applied in cases:
        ctx.load([store(s, [simple(h, 'FJ', 30)]) for s in stores])
        a = ctx.agent(stores, name=kind)
        a.once()
        f.op('sell', {'store': 'source', 'handle': h, 'qty': 4})
        f.op('faults', {'store': 'destination', 'kind': kind, 'count': 1, 'ops': ['mutation'],
                        'bytes': 9 << 20})
        a.once()            # the write to destination: outcome unknown
        st = a.status()
        check(st['stores'][1]['pending_changes'] == 1 and st['stores'][1]['pending_sent'],
              '%s: no pending sent batch: %r' % (kind, st['stores'][1]))
        check(f.level('destination', h) == (26 if applied else 30), '%s: fault applied=%s not as expected'
              % (kind, applied))
        f.op('sell', {'store': 'destination', 'handle': h, 'qty': 1})    # the level moves meanwhile
        f.op('restock', {'store': 'source', 'handle': h, 'qty': 2})
        for _ in range(3):
            a.once()
            st = a.status()
            if st['in_step'] and not st['stores'][1]['pending_changes']:
                break
        got = (f.level('source', h), f.level('destination', h))
        check(got == (27, 27), '%s: levels %s, want (27, 27) (30 -4 -1 +2)' % (kind, got))
        check(st['in_step'], '%s: not in step: %r' % (kind, st))
        check_no_double_apply(f, stores)
        STATS['faults'] += 1
    # every fault kind on reads too: the agent rejects the reply, backs off, recovers
    for kind, _ in cases:
        f.op('faults', {'store': 'source', 'kind': kind, 'count': 1, 'ops': ['query'], 'bytes': 9 << 20})
        f.op('sell', {'store': 'source', 'handle': h, 'qty': 1})
        rc, out, err = a.cmd('once', verbose=True)
        check(rc == 0, 'once with a %s query fault exited %d' % (kind, rc))
        STATS['faults'] += 1
    for _ in range(3):
        a.once()
        if a.status()['in_step'] and f.level('destination', h) == f.level('source', h):
            break
    got = (f.level('source', h), f.level('destination', h))
    check(got == (27 - len(cases),) * 2, 'after read faults: %s, want %d each' % (got, 27 - len(cases)))


def test_guard(ctx):
    f = ctx.fake
    prods = [simple('guard-%02d' % i, 'G-%02d' % i, 10) for i in range(14)]
    ctx.load([store('source', prods), store('destination', prods)])
    a = ctx.agent(['source', 'destination'], sync={'guard': '50'})
    a.start()
    a.wait_synced()
    a.stop()
    nwrites = len(f.log('destination', 'write'))
    for i in range(12):         # a bulk-import mistake: 12 of 14 links at once
        f.op('set', {'store': 'source', 'handle': 'guard-%02d' % i, 'available': 0})
    a.start()
    st = wait_until(lambda: (lambda s: s if s and s['paused'] else None)(a.status(may_fail=True)), 10,
                    interval=0.1, what='paused by the guard')
    check('guard' in (st['paused_reason'] or ''), 'paused without a guard reason: %r' % st['paused_reason'])
    last = st['last_cycle']
    wait_until(lambda: a.status()['last_cycle'] != last or None, 5, interval=0.1, what='another cycle')
    wait_until(lambda: len([e for e in a.audit() if e['kind'] == 'observed']) >= 12, 5, what='observed')
    check(len(f.log('destination', 'write')) == nwrites, 'something was written while the guard tripped')
    check(all(f.level('destination', 'guard-%02d' % i) == 10 for i in range(14)), 'destination moved')
    check(any(e['kind'] == 'paused' for e in a.audit()), 'no paused entry in the log')
    rc, out, err = a.cmd('status')
    check('PAUSED' in out and 'guard' in out, 'status text does not say paused: %r' % out)
    a.resume()
    wait_until(lambda: all(f.level('destination', 'guard-%02d' % i) == 0 for i in range(12)), 10,
               interval=0.1, what='propagation after resume')
    st = a.wait_synced()
    check(not st['paused'], 'still paused')
    check(f.level('destination', 'guard-12') == 10, 'unchanged link moved')
    a.stop()


def test_pause_dryrun_sigterm(ctx):
    f = ctx.fake
    h = 'rain-coat'
    ctx.load([store('source', [simple(h, 'RC', 40)]), store('destination', [simple(h, 'RC', 40)])])
    a = ctx.agent(['source', 'destination'])
    a.start()
    a.wait_synced()
    # pause by command: the sale is observed (baselines keep going) but not written
    a.pause()
    check(a.status()['paused'], 'status does not show paused')
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 2})
    wait_until(lambda: any(e['kind'] == 'observed' for e in a.audit()), 10, interval=0.1, what='sale observed')
    last = a.status()['last_cycle']
    wait_until(lambda: a.status()['last_cycle'] != last or None, 5, interval=0.1, what='another cycle')
    check(f.level('source', h) == 40, 'written while paused')
    a.resume()
    measure(ctx, 'after resume', lambda: f.level('source', h) == 38)
    a.wait_synced()
    rc, dt = a.stop()
    check(rc == 0 and dt < 10, 'SIGTERM: rc %s after %.1fs' % (rc, dt))
    # --dry-run once: nothing written, state untouched
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 5})
    before_st, before_log = a.status(), a.audit()
    nwrites = len(f.log('source', 'write')) + len(f.log('destination', 'write'))
    out = a.once('--dry-run')
    del out
    check(len(f.log('source', 'write')) + len(f.log('destination', 'write')) == nwrites, 'dry run wrote')
    after_st, after_log = a.status(), a.audit()
    strip = lambda s: {k: v for k, v in s.items() if k != 'stores'}  # noqa: E731
    check(strip(before_st) == strip(after_st), 'dry run changed status: %r -> %r' % (before_st, after_st))
    check(before_log == after_log, 'dry run appended to the audit log')
    check('dry run' in a.tail(30), 'dry run did not log its plan')
    a.once()           # the real cycle still sees the sale: the dry run kept the baseline
    check(f.level('source', h) == 33, 'sale lost after the dry run: %d' % f.level('source', h))
    # SIGTERM while a write stalls in flight: exits 0 within 10 s, nothing lost
    f.op('faults', {'store': 'source', 'kind': 'stall', 'count': 1, 'ops': ['mutation'], 'seconds': 6})
    a.start()
    a.wait_synced()
    f.op('sell', {'store': 'destination', 'handle': h, 'qty': 1})
    wait_until(lambda: f.op('stats', {'store': 'source'})['faults'] >= 1, 10, interval=0.05,
               what='a write stalled in flight')
    rc, dt = a.stop(timeout=10)
    print('  SIGTERM during a stalled write: rc %s in %.2fs' % (rc, dt))
    check(rc == 0, 'SIGTERM exit code %s' % rc)
    a.start()
    wait_until(lambda: f.level('source', h) == 32, 15, what='the stalled write settled after restart')
    a.wait_synced()
    check_no_double_apply(f, ['source', 'destination'])
    a.stop()


def test_status_log(ctx):
    f = ctx.fake
    h = 'wool-hat'
    ctx.load([store('source', [simple(h, 'WH', 15)]), store('destination', [simple(h, 'WH', 15)])])
    a = ctx.agent(['source', 'destination'])
    a.once()
    f.op('sell', {'store': 'source', 'handle': h, 'qty': 2})
    a.once()
    st = a.status()
    for k in ('paused', 'in_step', 'links', 'links_in_step', 'links_waiting', 'links_not_synced', 'uncertain',
              'stores'):
        check(k in st, 'status --json lacks %s' % k)
    check([s['name'] for s in st['stores']] == ['source', 'destination'], 'stores %r' % st['stores'])
    check(all(s['last_ok_ms'] > 0 and not s['failing'] for s in st['stores']), 'stores not ok: %r' % st)
    rows = a.audit()
    applied = [e for e in rows if e['kind'] == 'applied']
    check(len(applied) == 1, 'expected one applied entry: %r' % rows)
    e = applied[0]
    check(e['store'] == 'destination' and e['delta'] == -2 and e['from'] == 15 and h in e['link'],
          'applied entry: %r' % e)
    check(any(r['kind'] == 'observed' and r['store'] == 'source' and r['delta'] == -2 for r in rows),
          'no observed entry for the sale')
    seqs = [r['seq'] for r in rows]
    check(seqs == sorted(seqs), 'log not oldest first')
    rc, out, err = a.cmd('log', '-n', '1', '--json')
    check(rc == 0 and len(out.splitlines()) == 1, 'log -n 1: %r' % out)
    rc, out, err = a.cmd('log')
    check(rc == 0 and 'applied' in out, 'log text: %r' % out)
    rc, out, err = a.cmd('status')
    check(rc == 0 and 'in step' in out, 'status text: %r' % out)
    rc, out, err = a.cmd('log', '-n', 'x')
    check(rc == 2, 'log -n x exited %d, want 2' % rc)


# ------------------------------------------------------------ bulk operations (issue 7)

# a short overlap keeps the polls off the scenario's freshly made levels: their first sighting
# is the levels bulk file's
BULK_SYNC = {'bulk_threshold': '10', 'overlap': '2s'}


def bulk_catalogs(n=12):
    """Two stores with n shared products at different quantities, one product only in each."""
    src = [simple('bulk-%02d' % k, 'BK%02d' % k, 20 + k) for k in range(n)] + [simple('only-src', 'OS', 7)]
    dst = [simple('bulk-%02d' % k, 'BK%02d' % k, 40 + k) for k in range(n)] + [simple('only-dst', 'OD', 9)]
    return [store('source', src), store('destination', dst)]


def bulk_stats(f, s):
    d = f.op('stats', {'store': s})
    return d['bulk_ops'], d['bulk_downloads']


def all_primary(f, n=12):
    """initial = primary: every shared level equals the source's."""
    return all(f.level('destination', 'bulk-%02d' % k) == f.level('source', 'bulk-%02d' % k)
               for k in range(n))


def test_bulk_load(ctx):
    """A store over bulk_threshold loads its catalog and first levels from bulk files, while a
    sale during the operation is neither lost nor applied twice; then it syncs as usual."""
    f = ctx.fake
    ctx.load(bulk_catalogs())
    for s in ('source', 'destination'):
        f.op('bulk', {'store': s, 'delay': 1.5})
    a = ctx.agent(['source', 'destination'], sync=BULK_SYNC)
    a.start()
    wait_until(lambda: bulk_stats(f, 'source')[0] >= 1, 10, what='a bulk operation started')
    f.op('sell', {'store': 'source', 'handle': 'bulk-03', 'qty': 2})     # inside the snapshot window
    st = wait_until(lambda: next((s for s in (a.status(may_fail=True) or {}).get('stores', [])
                                  if s.get('bulk_operations')), None), 5, interval=0.1,
                    what='status showing the operation in flight')
    check(st['bulk_operations'][0]['kind'] == 'catalog' and
          st['bulk_operations'][0]['id'].startswith('gid://shopify/BulkOperation/'),
          'status: %r' % st['bulk_operations'])
    wait_until(lambda: all_primary(f), 30, interval=0.2, what='every link set to the primary')
    wait_until(lambda: all(bulk_stats(f, s)[1] == 2 for s in ('source', 'destination')), 20,
               interval=0.2, what='both levels files read')
    a.wait_synced(timeout=30)
    check(f.level('source', 'bulk-03') == 21, 'source bulk-03 %s, want 23 - 2' % f.level('source', 'bulk-03'))
    check(f.level('destination', 'bulk-03') == 21, 'destination bulk-03 %s' % f.level('destination', 'bulk-03'))
    for s in ('source', 'destination'):
        ops, downloads = bulk_stats(f, s)
        check(ops == 2 and downloads == 2, '%s: %d bulk operations and %d downloads, want 2 and 2 '
              '(catalog + levels)' % (s, ops, downloads))
    check(f.level('destination', 'only-dst') == 9 and f.level('source', 'only-src') == 7,
          'one-store products untouched')
    st = a.status()
    check(st['links'] == 14, 'links %s, want 14 (12 shared, 2 in one store)' % st['links'])
    f.op('sell', {'store': 'destination', 'handle': 'bulk-05', 'qty': 4})
    measure(ctx, 'bulk-loaded link, destination sale', lambda: f.level('source', 'bulk-05') == 21)
    a.stop()


def test_bulk_faults(ctx):
    """A failed operation, a cut download and an expired file are retried; a store whose token
    may not run bulk queries is read in pages; a restart picks up the operation in flight."""
    f = ctx.fake
    ctx.load(bulk_catalogs())
    f.op('bulk', {'store': 'source', 'fail': 'INTERNAL_SERVER_ERROR', 'delay': 0.2})
    f.op('bulk', {'store': 'destination', 'truncate': True, 'delay': 0.2})
    a = ctx.agent(['source', 'destination'], sync=BULK_SYNC)
    a.start()
    wait_until(lambda: all_primary(f), 60, interval=0.3, what='in step after a failed operation and a cut file')
    a.wait_synced(timeout=30)
    check(bulk_stats(f, 'source')[0] >= 3, 'source: the failed operation was run again')
    check(bulk_stats(f, 'destination')[1] >= 3, 'destination: the cut file was read again')
    a.stop()

    # ACCESS_DENIED: the whole load falls back to pages
    ctx.load(bulk_catalogs())
    f.op('bulk', {'store': 'destination', 'fail': 'ACCESS_DENIED'})
    b = ctx.agent(['source', 'destination'], sync=BULK_SYNC, name='denied')
    b.start()
    wait_until(lambda: all_primary(f), 40, interval=0.3, what='in step with the destination read in pages')
    b.wait_synced(timeout=30)
    check(bulk_stats(f, 'destination')[0] == 1, 'destination: no bulk operation after ACCESS_DENIED')
    check('reading in pages' in open(b.logpath).read(), 'the log says why pages')
    b.stop()

    # kill -9 while the catalog operation runs: the restart follows the same operation
    ctx.load(bulk_catalogs())
    for s in ('source', 'destination'):
        f.op('bulk', {'store': s, 'delay': 3})
    c = ctx.agent(['source', 'destination'], sync=BULK_SYNC, name='kill')
    c.start()
    wait_until(lambda: bulk_stats(f, 'source')[0] == 1 and bulk_stats(f, 'destination')[0] == 1, 10,
               what='both catalog operations started')
    time.sleep(0.5)
    c.kill9()
    STATS['kills'] += 1
    # `once` follows the operation left in flight to its end, however it is due
    c.once(timeout=60)
    check(c.status()['links'] == 14, 'once applied the catalog file: %r' % c.status()['links'])
    check(all_primary(f), 'once gave the links their first sighting and wrote them')
    for s in ('source', 'destination'):
        check(bulk_stats(f, s)[0] == 2, '%s: %d operations, want 2 (the catalog one followed '
              'across the restart, then levels)' % (s, bulk_stats(f, s)[0]))
        check(not c.status()['stores'][0]['bulk_operations'], 'nothing left in flight')
    c.start()
    f.op('sell', {'store': 'destination', 'handle': 'bulk-09', 'qty': 1})
    measure(ctx, 'after once and a restart', lambda: f.level('source', 'bulk-09') == 28)
    c.stop()


def test_bulk_reconcile(ctx):
    """The periodic full catalog read of a big store is a bulk operation too: a deleted product
    unlinks, one created meanwhile stays linked, syncing goes on while it runs."""
    f = ctx.fake
    ctx.load(bulk_catalogs())
    a = ctx.agent(['source', 'destination'], sync=dict(BULK_SYNC, reconcile='4s', catalog_refresh='10s'))
    a.start()
    wait_until(lambda: all_primary(f), 30, interval=0.2, what='first load')
    a.wait_synced(timeout=30)
    before = bulk_stats(f, 'destination')[0]
    f.op('product_update', {'store': 'destination', 'handle': 'bulk-07', 'delete': True})
    f.op('sell', {'store': 'source', 'handle': 'bulk-01', 'qty': 1})
    measure(ctx, 'sale during bulk reconciliation', lambda: f.level('destination', 'bulk-01') == 20,
            timeout=15)
    wait_until(lambda: any(e['kind'] == 'unlinked' and 'bulk-07' in e.get('link', '') and
                           e['store'] == 'destination' for e in a.audit()),
               30, interval=0.3, what="bulk-07's destination side unlinked")
    check(bulk_stats(f, 'destination')[0] > before, 'the reconciliation ran as a bulk operation')
    # stopped with a reconciliation's operation in flight, then `once` with no reconciliation due:
    # the operation is still followed to its end (and `once` returns)
    f.op('bulk', {'store': 'source', 'delay': 4})
    n = bulk_stats(f, 'source')[0]
    wait_until(lambda: bulk_stats(f, 'source')[0] > n, 15, interval=0.1, what='another reconciliation')
    a.kill9()
    STATS['kills'] += 1
    with open(a.conf) as fh:
        conf = fh.read().replace('reconcile = 4s', 'reconcile = 1h')
    with open(a.conf, 'w') as fh:
        fh.write(conf)
    a.once(timeout=30)
    check(all(not s['bulk_operations'] for s in a.status()['stores']), 'an operation left in flight')


TESTS = [
    ('seed_scenarios', test_seed_scenarios),
    ('matching', test_matching),
    ('match_sku_barcode', test_match_sku_barcode),
    ('three_stores_initial', test_three_stores_initial),
    ('one_way', test_one_way),
    ('downtime', test_downtime),
    ('status_log', test_status_log),
    ('pause_dryrun_sigterm', test_pause_dryrun_sigterm),
    ('unknown_outcomes', test_unknown_outcomes),
    ('guard', test_guard),
    ('conservation', test_conservation),
    ('conservation_faults', test_conservation_faults),
    ('conservation_kills', test_conservation_kills),
    ('bulk_load', test_bulk_load),
    ('bulk_faults', test_bulk_faults),
    ('bulk_reconcile', test_bulk_reconcile),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', default='build/invsync')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--only', default=None)
    ap.add_argument('--long', action='store_true')
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1 << 31)
    if not os.access(args.bin, os.X_OK):
        print('FAIL e2e: no binary %s (run make)' % args.bin)
        return 1
    only = set(args.only.split(',')) if args.only else None
    unknown = (only or set()) - {n for n, _ in TESTS}
    if unknown:
        print('FAIL e2e: unknown test(s) %s' % ', '.join(sorted(unknown)))
        return 2
    print('e2e: seed %d (re-run: --seed %d)' % (seed, seed), flush=True)
    fake = Fake(seed=seed, lifetime=3600 if args.long else 900)
    failed = 0
    t_all = time.monotonic()
    try:
        for idx, (name, fn) in enumerate(TESTS):
            if only and name not in only:
                continue
            tseed = seed * 100 + idx
            print('-- %s (seed %d)' % (name, tseed), flush=True)
            ctx = Ctx(fake, args.bin, tseed, args.long)
            t0 = time.monotonic()
            try:
                fn(ctx)
                print('PASS %s (%.1fs)' % (name, time.monotonic() - t0), flush=True)
            except Exception as e:
                failed += 1
                why = str(e) if isinstance(e, TestFailure) else traceback.format_exc()
                print('FAIL %s: %s' % (name, why.replace('\n', '\n    ')), flush=True)
                for a in ctx.agents:
                    print('  --- agent log tail (%s)\n%s' % (a.dir, a.tail(40)))
            finally:
                for a in ctx.agents:
                    try:
                        if a.running():
                            a.kill9()
                    except Exception:
                        pass
                for s in ('source', 'destination', 'third'):
                    try:
                        fake.faults_off([s])
                    except Exception:
                        pass
    finally:
        fake.stop()
    if PROPS:
        worst = max(PROPS, key=lambda p: p[1])
        print('e2e: %d propagations, longest %.2fs (%s); %d kill -9 and %d faults survived; %.1fs total'
              % (len(PROPS), worst[1], worst[0], STATS['kills'], STATS['faults'], time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
