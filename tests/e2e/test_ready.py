#!/usr/bin/env python3
"""End-to-end tests of issue 14 items 1, 5 and 6: the agent against the fake Shopify as
merchants have it in December 2026 (docs/shopify-api.md §11).

    python3 tests/e2e/test_ready.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import calendar
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import catalogs, all_primary, run_suite, TestFailure, check, wait_until  # noqa: E402

BULK_SYNC = {'bulk_threshold': '10', 'overlap': '2s'}








def bulk_ops(f, s):
    return f.op('stats', {'store': s})['bulk_ops']


def log_text(a):
    with open(a.logpath, errors='replace') as fh:
        return fh.read()


def store_status(a, name):
    for s in a.status()['stores']:
        if s['name'] == name:
            return s
    raise TestFailure('no store %s in status' % name)


# ------------------------------------------------------------------ item 1

def test_count_null(ctx):
    """productVariantsCount answered null: the store is read in pages (said once), linked
    and synced; nothing retries the count forever."""
    f = ctx.fake
    ctx.load(catalogs())
    f.op('variants_count', {'store': 'destination', 'null': True})
    a = ctx.agent(['source', 'destination'], sync=BULK_SYNC)
    a.start()
    wait_until(lambda: all_primary(f), 30, interval=0.3, what='in step with the count missing')
    a.wait_synced(timeout=30)
    f.op('sell', {'store': 'destination', 'handle': 'item-03', 'qty': 2})
    wait_until(lambda: f.level('source', 'item-03') == 21, 10, what='a sale propagated')
    time.sleep(2)
    text = log_text(a)
    check('bad reply' not in text, 'no bad reply for a null count')
    n = text.count('did not count its variants')
    check(n == 1, 'the missing count is said once, said %d times' % n)
    check(bulk_ops(f, 'destination') == 0, 'destination read in pages')
    st = store_status(a, 'destination')
    check('pages' in st.get('reads', ''), 'status says pages: %r' % st.get('reads'))
    a.stop()


# ------------------------------------------------------------------ item 5

def inactive_case(ctx, version):
    f = ctx.fake
    ctx.load(catalogs(3))
    a = ctx.agent(['source', 'destination'], sync={'api_version': version})
    a.start()
    wait_until(lambda: all_primary(f, 3), 20, interval=0.2, what='first sync')
    a.wait_synced(timeout=20)
    f.op('level_deactivate', {'store': 'destination', 'handle': 'item-01'})
    before = f.level('destination', 'item-01')
    f.op('sell', {'store': 'source', 'handle': 'item-01', 'qty': 3})
    f.op('sell', {'store': 'source', 'handle': 'item-02', 'qty': 1})
    wait_until(lambda: f.level('destination', 'item-02') == f.level('source', 'item-02'), 10,
               what='the active level still syncs')
    time.sleep(3)
    check(f.level('destination', 'item-01') == before,
          '%s: the inactive level was written: %d -> %d' % (version, before,
                                                              f.level('destination', 'item-01')))
    for e in f.log('destination'):
        for ap in e.get('applied', []) or []:
            check(ap.get('active', True), '%s: a write reached an inactive level: %r' % (version, e))
    # a restock in the source never re-stocks the inactive level
    f.op('restock', {'store': 'source', 'handle': 'item-01', 'qty': 10})
    time.sleep(3)
    check(f.level('destination', 'item-01') == before, '%s: the inactive level was re-stocked' % version)
    check('inactive' in log_text(a), 'the log reports the inactive level')
    a.stop()


def test_inactive_2026_10(ctx):
    """API 2026-10 applies writes to a deactivated level: invsync notices the deactivation
    itself and never writes there."""
    inactive_case(ctx, '2026-10')


def test_inactive_2026_07(ctx):
    """API 2026-07: the same, as a merchant sees it."""
    inactive_case(ctx, '2026-07')


def version_left(version, now):
    y, m = int(version[:4]), int(version[5:7])
    end = calendar.timegm((y + 1, m, 16, 15, 0, 0))
    return (end - now) / 86400.0


def test_version_expiry(ctx):
    """check warns when the configured API version has under 60 days left."""
    ctx.load(catalogs(2))
    now = time.time()
    served = ['2026-01', '2026-04', '2026-07', '2026-10']
    late = [v for v in served if 0 < version_left(v, now) < 60]
    fine = [v for v in served if version_left(v, now) > 70]
    check(fine, 'no served version with time left (the fake needs newer versions)')
    a = ctx.agent(['source', 'destination'], sync={'api_version': fine[-1]})
    rc, out, err = a.cmd('check')
    check('days left' not in out, 'no warning for %s: %s' % (fine[-1], out))
    if late:
        b = ctx.agent(['source', 'destination'], sync={'api_version': late[0]}, name='late')
        rc, out, err = b.cmd('check')
        check('days left' in out and 'api_version' in out,
              'check warns of %s: %s' % (late[0], out))
    else:
        print('  (no served version expires within 60 days of %s; only the quiet case checked)'
              % datetime.date.today())


# ------------------------------------------------------------------ item 6

def test_bulk_limit_reached(ctx):
    """bulkOperationRunQuery answering LIMIT_REACHED for ever: after a few cycles the store is
    read in pages; `once` loads and syncs it."""
    f = ctx.fake
    ctx.load(catalogs())
    f.op('bulk', {'store': 'destination', 'limit_reached': True})
    a = ctx.agent(['source', 'destination'], sync=dict(BULK_SYNC, interval='500ms'))
    t0 = time.monotonic()
    a.once(timeout=120)
    print('  once took %.1fs' % (time.monotonic() - t0))
    check(a.status()['links'] == 12, 'once linked the store: %r' % a.status()['links'])
    check(all_primary(f), 'once synced the store read in pages')
    check('LIMIT_REACHED' in log_text(a) or 'already in progress' in log_text(a),
          'the log says why')
    st = store_status(a, 'destination')
    check('pages' in st.get('reads', ''), 'status says pages: %r' % st.get('reads'))
    rc, out, err = a.cmd('status')
    check('pages' in out, 'status (text) names the path: %s' % out)


def test_bulk_access_retry(ctx):
    """No bulk access: read in pages, status says why; bulk is tried again after bulk_retry."""
    f = ctx.fake
    ctx.load(catalogs())
    f.op('bulk', {'store': 'destination', 'access': False})
    a = ctx.agent(['source', 'destination'],
                  sync=dict(BULK_SYNC, bulk_retry='4s', reconcile='3s', catalog_refresh='10s'))
    a.start()
    wait_until(lambda: all_primary(f), 30, interval=0.3, what='in step, destination in pages')
    a.wait_synced(timeout=30)
    st = store_status(a, 'destination')
    check('pages' in st.get('reads', '') and 'ACCESS_DENIED' in st.get('reads', ''),
          'status says pages and why: %r' % st.get('reads'))
    rc, out, err = a.cmd('check')
    check('Allow bulk queries' in out or 'ACCESS_DENIED' in out, 'check says why pages: %s' % out)
    f.op('bulk', {'store': 'destination', 'access': True})
    wait_until(lambda: bulk_ops(f, 'destination') >= 1, 30, interval=0.3,
               what='bulk tried again after bulk_retry')
    wait_until(lambda: 'bulk' in store_status(a, 'destination').get('reads', '').split(':')[0], 30,
               interval=0.3, what='status says bulk again')
    a.stop()


def test_ip_allowlist(ctx):
    """A 403 from the app's IP allowlist is named as such."""
    f = ctx.fake
    ctx.load(catalogs(2))
    f.op('ip_allowlist', {'store': 'destination', 'blocked': True})
    a = ctx.agent(['source', 'destination'])
    rc, out, err = a.cmd('check')
    check(rc == 1, 'check fails: %d' % rc)
    check('IP' in out + err and 'allowlist' in out + err, 'check names the allowlist: %s %s' % (out, err))
    rc, out, err = a.cmd('once', verbose=True)
    check('allowlist' in err, 'the log names the allowlist: %s' % err[-600:])
    f.op('ip_allowlist', {'store': 'destination', 'blocked': False})


def test_token_error(ctx):
    """A refused client-credentials grant shows Shopify's error code, never the secret."""
    f = ctx.fake
    stores = catalogs(2)
    stores[1].update({'client_id': 'cid-dest', 'client_secret': 'sekrit-dest-42'})
    ctx.load(stores)
    f.op('token_error', {'store': 'destination', 'error': 'app_not_installed',
                         'description': 'the app is not installed on this shop'})
    a = ctx.agent(['source', 'destination'])
    sec = os.path.join(a.dir, 'destination.secret')
    with open(sec, 'w') as fh:
        fh.write('sekrit-dest-42\n')
    os.chmod(sec, 0o600)
    conf = open(a.conf).read().replace('token_file = destination.token',
                                       'client_id = cid-dest\nclient_secret_file = destination.secret')
    with open(a.conf, 'w') as fh:
        fh.write(conf)
    rc, out, err = a.cmd('check')
    check(rc == 1, 'check fails: %d' % rc)
    check('app_not_installed' in out + err, 'check shows the code: %s %s' % (out, err))
    rc, out2, err2 = a.cmd('once', verbose=True)
    check('app_not_installed' in err2, 'the log shows the code: %s' % err2[-600:])
    check('sekrit' not in out + err + out2 + err2, 'the secret is never shown')
    f.op('token_error', {'store': 'destination', 'error': None})


TESTS = [(n[5:], fn) for n, fn in sorted(globals().items()) if n.startswith('test_') and callable(fn)]


def main():
    return run_suite('ready', TESTS)


if __name__ == '__main__':
    sys.exit(main())
