#!/usr/bin/env python3
"""End-to-end tests of `invsync explain WHAT` (issue 17): for each reason a link can be
missing in a store, the agent is run against the fake Shopify until the state holds that
reason, and explain must name it, in text and in --json.

    python3 tests/e2e/test_explain.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import simple, run_suite, TestFailure, check, product, store, variant  # noqa: E402

STORES = ['source', 'destination']


class Ctx(harness.Ctx):
    def agent(self, stores=STORES, **kw):
        return super().agent(stores, **kw)

    def load(self, src, dst, **kw):
        self.fake.op('load', {'seed': self.seed, 'stores': [store('source', src, **kw),
                                                             store('destination', dst, **kw)]})




def once_may_fail(a):
    """`once` over a cycle with an injected fault: 0, or 1 naming the store that failed."""
    rc, out, err = a.cmd('once', timeout=60, verbose=True)
    check(rc == 0 or (rc == 1 and 'once: store' in err), 'once exited %d: %s' % (rc, err[-800:]))
    return rc


def explain(a, what, want_rc=0):
    """explain WHAT as text and as JSON; returns (text, parsed JSON)."""
    rc, out, err = a.cmd('explain', what)
    check(rc == want_rc, 'explain %r exited %d, want %d: %s %s' % (what, rc, want_rc, out, err))
    rc2, js, err2 = a.cmd('explain', what, '--json')
    check(rc2 == want_rc, 'explain %r --json exited %d, want %d: %s' % (what, rc2, want_rc, err2))
    try:
        doc = json.loads(js)
    except ValueError as e:
        raise TestFailure('explain --json is not JSON (%s): %r' % (e, js[:500]))
    return out, doc


def link_of(doc, part):
    """The one link of doc whose key holds part."""
    got = [lk for lk in doc['links'] if part in lk['key']]
    check(len(got) == 1, 'want one link with %r, got %r' % (part, [lk['key'] for lk in doc['links']]))
    return got[0]


def side(lk, name):
    for s in lk['stores']:
        if s['name'] == name:
            return s
    raise TestFailure('no store %s in %r' % (name, lk))


def text_side(out, name):
    """The lines of explain's text for one store's side (the first link)."""
    lines, on = [], False
    for ln in out.splitlines():
        if ln.startswith('  store '):
            on = ln.startswith('  store %s:' % name)
        elif not ln.startswith('    '):
            on = False
        if on:
            lines.append(ln)
    check(lines, 'no side of store %s in: %s' % (name, out))
    return '\n'.join(lines)


def expect_reason(a, what, part, store_name, reason, text_has, other_linked=True):
    """explain WHAT: store_name's side of the link with part is not synced for reason, in
    text (text_has) and JSON; the other store's side is linked when other_linked."""
    out, doc = explain(a, what)
    lk = link_of(doc, part)
    s = side(lk, store_name)
    check(not s['linked'] and s['reason'] == reason,
          '%s: %s side: linked %r, reason %r, want %r' % (what, store_name, s['linked'], s['reason'], reason))
    check(lk['state'] == 'not_synced', '%s: link state %r, want not_synced' % (what, lk['state']))
    t = text_side(out, store_name)
    check('NOT SYNCED (%s)' % reason in t and text_has in t,
          '%s: the text does not say %r / %r: %s' % (what, reason, text_has, t))
    other = [x for x in STORES if x != store_name][0]
    if other_linked:
        o = side(lk, other)
        check(o['linked'] and o['reason'] == 'linked' and o['baseline'] is not None,
              '%s: the other side is not linked: %r' % (what, o))
        check('%s: linked' % other in out, '%s: text: %s' % (what, out))
    return out, doc, s


# ------------------------------------------------------------ linked, with a pending write

def test_linked_pending_audit(ctx):
    """A linked product: items, levels, baselines, owed amounts, a pending write held by a
    lost answer, the audit entries of the link; explain works while the daemon runs."""
    f = ctx.fake
    ctx.load([simple('tee', 'TEE-M', 20)], [simple('tee', 'TEE-M', 20)])
    a = ctx.agent()
    a.once()
    f.op('sell', {'store': 'source', 'handle': 'tee', 'qty': 3})
    f.op('faults', {'store': 'destination', 'kind': '502', 'count': 1, 'ops': ['mutation']})
    once_may_fail(a)        # the write to destination: outcome unknown, journaled
    out, doc = explain(a, 'TEE-M')
    lk = link_of(doc, 'h:tee/TEE-M@')
    check(lk['in_state'] and doc['found'] and doc['what'] == 'TEE-M' and doc['match'] == 'handle',
          'header: %r' % doc)
    s, d = side(lk, 'source'), side(lk, 'destination')
    rows = {r['location']: r for r in f.op('levels', {'store': 'source', 'handle': 'tee'})}
    check(s['linked'] and s['baseline'] == 17 and s['owed'] == 0,
          'source side: %r' % s)
    check('gid://shopify/InventoryItem/%d' % s['item'] == list(rows.values())[0]['item_id'],
          'source item %r, the fake says %r' % (s['item'], rows))
    check(d['linked'] and d['baseline'] == 20 and d['owed'] == -3, 'destination side: %r' % d)
    check(len(d['pending']) == 1 and d['pending'][0]['delta'] == -3 and d['pending'][0]['from'] == 20
          and d['pending'][0]['sent'] and len(d['pending'][0]['batch']) == 32,
          'destination pending: %r' % d['pending'])
    check(not s['pending'], 'source pending: %r' % s['pending'])
    kinds = [e['kind'] for e in s['audit']]
    check('linked' in kinds and 'observed' in kinds, 'source audit: %r' % s['audit'])
    obs = [e for e in s['audit'] if e['kind'] == 'observed'][-1]
    check(obs['from'] == 20 and obs['delta'] == -3, 'the observed entry: %r' % obs)
    check(lk['state'] == 'waiting', 'state %r, want waiting' % lk['state'])
    t = text_side(out, 'destination')
    check('baseline 20, owed -3' in t and 'pending write: -3 (20 -> 17)' in t and
          'awaiting confirmation' in t, 'destination text: %s' % t)
    check('observed -3 (20 -> 17)' in text_side(out, 'source'), 'source text: %s' % out)
    # the daemon resolves it; explain reads beside it
    a.start()
    a.wait_synced(timeout=30)
    out, doc = explain(a, 'h:tee/TEE-M')
    lk = link_of(doc, 'h:tee/TEE-M@')
    d = side(lk, 'destination')
    check(lk['state'] == 'in_step' and d['baseline'] == 17 and d['owed'] == 0 and not d['pending'],
          'after the daemon: %r' % lk)
    check('in step (2 of 2 stores synced)' in out, 'text: %s' % out)
    a.stop()


# ------------------------------------------------------------ a reason each

def test_no_match(ctx):
    """A product in one store only: the other has no variant with its key."""
    ctx.load([simple('tee', 'T', 5), simple('scarf', 'SC', 7)], [simple('tee', 'T', 5)])
    a = ctx.agent()
    a.once()
    out, doc, s = expect_reason(a, 'scarf', 'h:scarf/SC@', 'destination', 'no_match',
                                'no variant of this store has this key')
    check(s['item'] is None and s['baseline'] is None, 'no item: %r' % s)


def test_duplicate(ctx):
    """Two variants of one store with the same key: that store's side is refused."""
    ctx.load([simple('tee', 'T', 5)], [product('tee', [variant('T', 5), variant('T', 6)])])
    a = ctx.agent()
    a.once()
    expect_reason(a, 'T', 'h:tee/T@', 'destination', 'duplicate', 'not unique')


def test_duplicate_stays_refused(ctx):
    """A key that a second product of one store takes (match = sku) is refused until one
    item has it again: not synced when either product is edited alone, not warned of again
    by a full catalog pass, and synced afresh once the copy is deleted."""
    f = ctx.fake
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5)])
    a = ctx.agent(sync={'match': 'sku', 'overlap': '0s'})     # a refresh reads the edited alone
    a.once()
    f.op('add_product', {'store': 'destination', 'product': simple('tee-copy', 'T', 6)})
    time.sleep(1.1)         # updated_at is in whole seconds: the next refresh is past it
    rc, _, err = a.cmd('once', timeout=60, verbose=True)
    check(rc == 0 and err.count('is not unique') == 1, 'once exited %d, want one warning: %s' %
          (rc, err[-800:]))
    expect_reason(a, 'T', 's:T@', 'destination', 'duplicate', 'not unique')
    for handle in ('tee', 'tee-copy'):
        # an edit of one product: an incremental catalog refresh reads it alone
        time.sleep(1.1)
        f.op('product_update', {'store': 'destination', 'handle': handle,
                                'barcode': '4000%d' % len(handle)})
        f.op('sell', {'store': 'source', 'handle': 'tee', 'qty': 1})
        a.once()
        got = (f.level('destination', 'tee'), f.level('destination', 'tee-copy'))
        check(got == (5, 6), 'after an edit of %s and a sale, the destination has %r, want (5, 6): '
              'a duplicate key was synced' % (handle, got))
        expect_reason(a, 'T', 's:T@', 'destination', 'duplicate', 'not unique')
    with open(a.conf) as fh:
        conf = fh.read()
    with open(a.conf, 'w') as fh:
        fh.write(conf.replace('[sync]\n', '[sync]\nreconcile = 1s\n', 1))
    for n in range(2):
        time.sleep(1.2)         # a full catalog pass is due (reconcile 1s)
        rc, _, err = a.cmd('once', timeout=60, verbose=True)
        check(rc == 0 and 'is not unique' not in err and 'catalog loaded' in err,
              'full pass %d: exited %d, a warning again or no full pass: %s' % (n + 1, rc, err[-800:]))
        expect_reason(a, 'T', 's:T@', 'destination', 'duplicate', 'not unique')
    check((f.level('destination', 'tee'), f.level('destination', 'tee-copy')) == (5, 6),
          'the duplicate was synced by a full pass')
    # the copy deleted: the next full pass links tee again, sighted afresh (initial = primary)
    f.op('product_update', {'store': 'destination', 'handle': 'tee-copy', 'delete': True})
    time.sleep(1.2)
    rc, _, err = a.cmd('once', timeout=60, verbose=True)
    check(rc == 0 and 'is unique again' in err, 'once exited %d, not unique again: %s' % (rc, err[-800:]))
    a.once()
    check(f.level('destination', 'tee') == 3, 'destination tee %d, want 3 (the source\'s)' %
          f.level('destination', 'tee'))
    f.op('sell', {'store': 'destination', 'handle': 'tee', 'qty': 1})
    a.once()
    check(f.level('source', 'tee') == 2, 'a sale after: source tee %d, want 2' % f.level('source', 'tee'))
    # a copy again, and then the item holding the key moves to a SKU of its own: the copy
    # alone has the key, and the next full pass links it
    f.op('add_product', {'store': 'destination', 'product': simple('tee-again', 'T', 9)})
    time.sleep(1.2)
    rc, _, err = a.cmd('once', timeout=60, verbose=True)
    check(rc == 0 and err.count('is not unique') == 1, 'a copy again: %s' % err[-800:])
    f.op('product_update', {'store': 'destination', 'handle': 'tee', 'sku': 'T', 'new_sku': 'T-own'})
    time.sleep(1.2)
    a.once()
    a.once()
    check(f.level('destination', 'tee-again') == 2, 'destination tee-again %d, want 2 (the source\'s)' %
          f.level('destination', 'tee-again'))
    f.op('sell', {'store': 'source', 'handle': 'tee', 'qty': 1})
    a.once()
    check(f.level('destination', 'tee-again') == 1 and f.level('destination', 'tee') == 2,
          'a sale after: destination tee-again %d, want 1, tee %d, want 2 (its own SKU now)' %
          (f.level('destination', 'tee-again'), f.level('destination', 'tee')))


def test_untracked(ctx):
    """An item whose inventory is not tracked."""
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5, tracked=False)])
    a = ctx.agent()
    a.once()
    expect_reason(a, 'tee', 'h:tee/T@', 'destination', 'untracked', 'not tracked')


def test_bundle(ctx):
    """A bundle parent (requiresComponents): not mutable."""
    ctx.load([simple('kit', 'K', 5, requires_components=True)], [simple('kit', 'K', 5)])
    a = ctx.agent()
    a.once()
    expect_reason(a, 'kit', 'h:kit/K@', 'source', 'bundle', 'bundle parent')


def test_inactive(ctx):
    """A level deactivated at the linked location."""
    f = ctx.fake
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5)])
    a = ctx.agent()
    a.once()
    f.op('level_deactivate', {'store': 'destination', 'handle': 'tee'})
    f.op('sell', {'store': 'source', 'handle': 'tee', 'qty': 1})
    once_may_fail(a)
    _, _, s = expect_reason(a, 'tee', 'h:tee/T@', 'destination', 'inactive', 'inactive')
    check(s['item'] is not None and s['baseline'] is None, 'an item, no baseline: %r' % s)


def test_not_stocked(ctx):
    """The item is no longer stocked at the linked location (its level is gone)."""
    f = ctx.fake
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5)])
    a = ctx.agent()
    a.once()
    f.op('level_remove', {'store': 'destination', 'handle': 'tee'})
    f.op('sell', {'store': 'source', 'handle': 'tee', 'qty': 1})
    once_may_fail(a)
    once_may_fail(a)
    expect_reason(a, 'tee', 'h:tee/T@', 'destination', 'not_stocked', 'not stocked')


def test_location_unlinked(ctx):
    """A location taken out of [locations]: the links at it are left, and say so."""
    locs = [{'name': 'Main Warehouse'}, {'name': 'Outlet'}]
    two = [product('tee', [variant('T', 5, levels={'Main Warehouse': 5, 'Outlet': 2})])]
    ctx.fake.op('load', {'seed': ctx.seed, 'stores': [store('source', two, locations=locs),
                                                      store('destination', two, locations=locs)]})
    a = ctx.agent(sync={'reconcile': '1s'},
                  locations=['Main Warehouse = Main Warehouse', 'Outlet = Outlet'])
    a.once()
    _, doc = explain(a, 'tee')
    check(len(doc['links']) == 2 and all(lk['state'] == 'in_step' for lk in doc['links']),
          'two linked locations: %r' % doc)
    outlet = [r['location_id'].split('/')[-1] for r in ctx.fake.op('levels', {'store': 'source', 'handle': 'tee'})
              if r['location'] == 'Outlet'][0]
    conf = open(a.conf).read().replace('Outlet = Outlet\n', '')
    with open(a.conf, 'w') as fh:
        fh.write(conf)
    time.sleep(1.2)         # a full catalog load is due (reconcile 1s)
    a.once()
    out, doc = explain(a, 'tee')
    gone = [lk for lk in doc['links'] if not lk['in_state']]
    check(len(doc['links']) == 2 and len(gone) == 1, 'one link left the state: %r' % doc)
    lk = gone[0]
    check(lk['key'].endswith('@' + outlet), 'the link that left, %s, is not at Outlet (%s)' % (lk['key'], outlet))
    for name in STORES:
        s = side(lk, name)
        check(s['reason'] == 'location_unlinked' and not s['linked'] and
              s['note'] == 'its location is no longer linked', '%s: %r' % (name, s))
    check('not in the state any more' in out and 'NOT SYNCED (location_unlinked)' in out, out)
    kept = [x for x in doc['links'] if x['in_state']][0]
    check(kept['state'] == 'in_step', 'the Main Warehouse link: %r' % kept)


def test_renamed(ctx):
    """A handle edited in one store: its side moved to the new key, and the old says where."""
    f = ctx.fake
    ctx.load([simple('tee', 'T', 5), simple('cap', 'C', 3)], [simple('tee', 'T', 5), simple('cap', 'C', 3)])
    a = ctx.agent()
    a.once()
    f.op('product_update', {'store': 'destination', 'handle': 'tee', 'new_handle': 'tee-2027'})
    a.once()
    _, _, s = expect_reason(a, 'tee', 'h:tee/T@', 'destination', 'renamed', 're-linked as h:tee-2027/T@')
    check(s['note'].startswith('re-linked as h:tee-2027/T@') and s['item'] is None, 'note: %r' % s)
    # the new key: the destination alone
    _, doc = explain(a, 'tee-2027')
    lk = link_of(doc, 'h:tee-2027/T@')
    check(side(lk, 'destination')['linked'] and side(lk, 'source')['reason'] == 'no_match', '%r' % lk)


def test_deleted(ctx):
    """A product deleted in one store: its side is gone from the link."""
    f = ctx.fake
    ctx.load([simple('tee', 'T', 5), simple('cap', 'C', 3)], [simple('tee', 'T', 5), simple('cap', 'C', 3)])
    a = ctx.agent()
    a.once()
    f.op('product_update', {'store': 'source', 'handle': 'cap', 'delete': True})
    a.once()
    _, _, s = expect_reason(a, 'C', 'h:cap/C@', 'source', 'gone', 'gone from the store')
    check(s['note'] == 'gone from the store', 'note: %r' % s)


def test_renamed_long_key(ctx):
    """A rename of a variant whose key is longer than an audit note: the note is cut between
    two UTF-8 characters, and --json stays valid."""
    f = ctx.fake
    sku = 'Grösse-' + '\u00e9' * 120          # 247 bytes of UTF-8
    ctx.load([simple('tee', sku, 5)], [simple('tee', sku, 5)])
    a = ctx.agent()
    a.once()
    f.op('product_update', {'store': 'source', 'handle': 'tee', 'new_handle': 'tee-neu'})
    a.once()
    out, doc, s = expect_reason(a, sku, 'h:tee/', 'source', 'renamed', 're-linked as h:tee-neu/Grösse-')
    check(s['note'].endswith('...') and len(s['note'].encode()) <= 159, 'the cut note: %r' % s['note'])
    check(sku in out, 'the key is printed whole: %s' % out[:300])


def test_many_links(ctx):
    """A handle with more variants than explain shows: the first 64, and how many more."""
    f = ctx.fake
    f.op('load', {'seed': ctx.seed, 'stores': []})
    for s in STORES:
        f.op('generate', {'store': s, 'products': 1, 'variants_per_product': 70, 'quantity': 4})
    a = ctx.agent()
    a.once()
    out, doc = explain(a, 'gen-product-000001')
    check(len(doc['links']) == 64 and doc['more'] == 6 and doc['truncated'], 'links %d, more %r, truncated %r'
          % (len(doc['links']), doc['more'], doc['truncated']))
    check(out.count('\nlink ') + out.startswith('link ') == 64 and 'more links match than the 64 shown' in out,
          'text: %s' % out[-300:])
    _, doc = explain(a, 'GEN-000001-70')
    check(len(doc['links']) == 1 and not doc['truncated'], 'one SKU: %r' % doc['links'])


# ------------------------------------------------------------ lookups, JSON, errors

def test_lookups_json(ctx):
    """A handle names every variant's link, a SKU or a key one; match = barcode keys by
    barcode; --json is one object with every field."""
    f = ctx.fake
    ctx.load([product('tee', [variant('TEE-S', 5, barcode='400001'), variant('TEE-M', 6, barcode='400002')])],
             [product('tee', [variant('TEE-S', 5, barcode='400001'), variant('TEE-M', 6, barcode='400002')])])
    a = ctx.agent()
    a.once()
    _, doc = explain(a, 'tee')
    keys = sorted(lk['key'].split('@')[0] for lk in doc['links'])
    check(keys == ['h:tee/TEE-M', 'h:tee/TEE-S'], 'links of the handle: %r' % keys)
    _, doc = explain(a, 'TEE-S')
    check([lk['key'].split('@')[0] for lk in doc['links']] == ['h:tee/TEE-S'], '%r' % doc)
    full = doc['links'][0]['key']
    _, doc = explain(a, full)
    check([lk['key'] for lk in doc['links']] == [full], '%r' % doc)
    lk = doc['links'][0]
    for k in ('key', 'in_state', 'state', 'stores_synced', 'stores'):
        check(k in lk, 'link field %s missing: %r' % (k, lk))
    for s in lk['stores']:
        for k in ('name', 'linked', 'reason', 'why', 'note', 'item', 'location', 'level', 'baseline',
                  'owed', 'pending', 'audit'):
            check(k in s, 'side field %s missing: %r' % (k, s))
        check(isinstance(s['item'], int) and isinstance(s['level'], int) and s['baseline'] == 5, '%r' % s)
    check(doc['more'] == 0 and lk['stores_synced'] == 2, '%r' % doc)
    # the barcode, under match = barcode
    b = ctx.agent(sync={'match': 'barcode'}, name='barcode')
    b.once()
    _, doc = explain(b, '400002')
    check([lk['key'].split('@')[0] for lk in doc['links']] == ['b:400002'] and doc['match'] == 'barcode',
          '%r' % doc)
    check(doc['links'][0]['state'] == 'in_step', '%r' % doc)
    del f


def test_nothing_matched(ctx):
    """Nothing matches: exit 1 and a clear message; --json says found false."""
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5)])
    a = ctx.agent()
    a.once()
    rc, out, err = a.cmd('explain', 'no-such-thing')
    check(rc == 1 and out == '' and "nothing matches 'no-such-thing'" in err, 'rc %d: %r %r' % (rc, out, err))
    _, doc = explain(a, 'no-such-thing', want_rc=1)
    check(doc['found'] is False and doc['links'] == [], '%r' % doc)
    # a prefix of a handle, the group alone: no match either
    for w in ('te', '@', 'h:', 'T@'):
        rc, out, err = a.cmd('explain', w)
        check(rc == 1, '%r matched: %s' % (w, out))


def test_hostile(ctx):
    """Odd WHATs: too long, empty, not UTF-8, control bytes, missing, two, "--json" as WHAT;
    no crash, a clear error; usage errors exit 2.  A state not made yet: exit 1."""
    ctx.load([simple('tee', 'T', 5)], [simple('tee', 'T', 5)])
    a = ctx.agent()
    rc, out, err = a.cmd('explain', 'tee')
    check(rc == 1 and 'has invsync run yet' in err, 'no state yet: rc %d %r' % (rc, err))
    a.once()
    rc, out, err = a.cmd('explain', 'x' * 5000)
    check(rc == 2 and 'no handle, SKU, barcode or link key is longer' in err, 'long: rc %d %r' % (rc, err))
    rc, out, err = a.cmd('explain', 'x' * 399)
    check(rc == 1, 'long but possible: rc %d %r' % (rc, err))
    rc, out, err = a.cmd('explain', '')
    check(rc == 2 and 'empty' in err, 'empty: rc %d %r' % (rc, err))
    p = subprocess.run([os.fsencode(a.bin), b'-c', os.fsencode(a.conf), b'explain', b'\xff\xfe tee'],
                       capture_output=True, timeout=30)
    check(p.returncode == 2 and b'not UTF-8' in p.stderr, 'not UTF-8: rc %d %r' % (p.returncode, p.stderr))
    rc, out, err = a.cmd('explain', '\x1b[31mtee\n')
    check(rc == 1 and '\x1b' not in err and '\n' not in err.strip(), 'control bytes: rc %d %r' % (rc, err))
    for args in ([], ['a', 'b'], ['--json']):
        rc, out, err = a.cmd('explain', *args)
        check(rc == 2 and 'usage' in err, '%r: rc %d %r' % (args, rc, err))
    rc, out, err = a.cmd('explain', '--', '--json')
    check(rc == 1 and "nothing matches '--json'" in err, '-- --json: rc %d %r' % (rc, err))
    rc, out, err = a.cmd('explain', '--json', 'T')
    check(rc == 0 and json.loads(out)['found'], '--json first: rc %d %r' % (rc, err))
    # a config error: 78, as for every command
    with open(a.conf, 'a') as fh:
        fh.write('bogus line\n')
    rc, out, err = a.cmd('explain', 'tee')
    check(rc == 78, 'config error: rc %d %r' % (rc, err))


TESTS = [(n[5:], fn) for n, fn in sorted(globals().items()) if n.startswith('test_') and callable(fn)]


def main():
    return run_suite('explain', TESTS, ctx_class=Ctx, stores=STORES)


if __name__ == '__main__':
    sys.exit(main())
