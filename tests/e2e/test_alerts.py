#!/usr/bin/env python3
"""End-to-end tests of alert_url and ping_url (issue 17, Alerts out and Dead man's switch):
the agent against the fake Shopify, whose receiver (/hook/<name> on its HTTP control port and
its HTTPS port, tests/fakeshop/README.md) records every alert and ping.

    python3 tests/e2e/test_alerts.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

A store taken down for longer than alert_after gives exactly one "problem" and, back up,
exactly one "resolved"; the ping stops while it is down and comes back after.  A receiver
that fails, stalls or does not exist never stops syncing and is retried; the slack and ntfy
shapes arrive with their bodies and headers; no body holds a token and no log holds a URL's
path or query.

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import catalogs, all_primary, TestFailure, check, product, run_suite, store, variant, wait_until  # noqa: E402

ISO_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z')
GUARD_LINKS = 12                # links changed at once: more than GUARD_MIN_CHANGED (sync.h)
SECRET = 's3cretPATH'           # in every alert and ping URL's path or query: never logged






def log_text(a):
    with open(a.logpath, errors='replace') as fh:
        return fh.read()


def hooks(f, name):
    return f.op('hooks', {'name': name})['requests']


def alerts(f, name='alerts', status=None):
    """The alert requests the receiver answered with status (default: any)."""
    return [r for r in hooks(f, name) if status is None or r['status'] == status]


def json_events(f, name='alerts', kind=None):
    """(event, problem, store) of each JSON alert delivered (answered 200), of problem kind
    (default: any)."""
    out = []
    for r in alerts(f, name, 200):
        try:
            b = json.loads(r['body'])
        except ValueError:
            raise TestFailure('an alert body is not JSON: %r' % r['body'][:300])
        if kind is None or b.get('problem') == kind:
            out.append((b.get('event'), b.get('problem'), b.get('store')))
    return out


def store_events(f):
    """The store_failing alerts.  With alert_after = 2s, a cycle slowed past it by the
    client's retries of the store down may be told too (cycle_stalled), rightly."""
    return json_events(f, kind='store_failing')


def alert_url(f, name='alerts'):
    return 'http://127.0.0.1:%d/hook/%s/%s' % (f.control, name, SECRET)


def ping_url(f):
    """Over HTTPS, with the test CA: the ping's TLS is verified as the stores' is."""
    return 'https://localhost:%d/hook/ping?key=%s' % (f.port, SECRET)


def pings(f):
    return [r for r in hooks(f, 'ping') if r['status'] == 200]


def check_no_secrets(f, a):
    """No body or header holds a token; no log line holds a URL's path or query."""
    for r in f.op('hooks', {})['requests']:
        text = r['body'] + json.dumps(r['headers'])
        check('shpat_' not in text, 'a token in a %s request: %r' % (r['name'], text[:300]))
    for n in a.stores:
        with open(os.path.join(a.dir, '%s.token' % n)) as fh:
            tok = fh.read().strip()
        check(all(tok not in r['body'] for r in f.op('hooks', {})['requests']),
              'the token of %s in a body' % n)
    check(SECRET not in log_text(a), 'a URL path or query in the log: %s' %
          [ln for ln in log_text(a).splitlines() if SECRET in ln][:3])


def synced_agent(ctx, n=3, **sync):
    f = ctx.fake
    ctx.load(catalogs(n))
    opts = {'alert_url': alert_url(f), 'alert_after': '2s', 'catalog_refresh': '10m'}
    opts.update(sync)
    a = ctx.agent(['source', 'destination'], sync=opts)
    a.start()
    wait_until(lambda: all_primary(f, n), 20, interval=0.2, what='first sync')
    a.wait_synced(timeout=20)
    return a


def test_store_down(ctx):
    """A store down past alert_after: exactly one problem, then back up exactly one resolved,
    each a well-formed JSON body; the ping stops while it is down and resumes after."""
    f = ctx.fake
    a = synced_agent(ctx, ping_url=ping_url(f), ping_every='1s')
    wait_until(lambda: len(pings(f)) >= 2, 10, what='pings after healthy cycles')
    p = pings(f)[-1]
    check(p['method'] == 'GET' and p['scheme'] == 'https' and p['query'] == 'key=' + SECRET,
          'the ping is a GET of ping_url over https: %r' % p)
    check(alerts(f) == [], 'no alert while all is well: %r' % alerts(f))
    down = time.time()
    f.op('faults', {'store': 'destination', 'kind': '503', 'rate': 1.0,
                    'ops': ['query', 'mutation']})
    wait_until(lambda: store_events(f), 30, what='a problem alert')
    told = time.time()
    ev = store_events(f)
    check(ev == [('problem', 'store_failing', 'destination')], 'one problem: %r' % ev)
    body = [json.loads(r['body']) for r in alerts(f, status=200)]
    body = [b for b in body if b['problem'] == 'store_failing'][0]
    check(sorted(body) == ['event', 'fix', 'host', 'message', 'problem', 'since', 'store'],
          'the JSON keys: %r' % sorted(body))
    check(ISO_RE.match(body['since']), 'since is ISO 8601 UTC: %r' % body['since'])
    check(told - down >= 2, 'told only after alert_after (2s): after %.1fs' % (told - down))
    check('destination' in body['message'] and body['since'] in body['message'],
          'the message names the store and since: %r' % body['message'])
    check('invsync status' in body['fix'], 'the fix: %r' % body['fix'])
    check(body['host'] == socket.gethostname()[:127], 'the host: %r' % body['host'])
    r0 = [r for r in alerts(f, status=200) if 'store_failing' in r['body']][0]
    check(r0['method'] == 'POST' and r0['headers'].get('content-type') == 'application/json',
          'a JSON POST: %r' % r0['headers'])
    # the ping stopped: none from a second after the problem was told for 4 s
    time.sleep(4)
    late = [q for q in pings(f) if q['time'] > told + 1]
    check(not late, 'pings while the store is down: %d' % len(late))
    check(store_events(f) == [('problem', 'store_failing', 'destination')],
          'still one problem after more failed cycles: %r' % store_events(f))
    f.faults_off(['destination'])
    up = time.time()
    wait_until(lambda: len(store_events(f)) >= 2, 90, what='a resolved alert')
    ev = store_events(f)
    check(ev == [('problem', 'store_failing', 'destination'),
                 ('resolved', 'store_failing', 'destination')], 'problem then resolved: %r' % ev)
    resolved = [json.loads(r['body']) for r in alerts(f, status=200)]
    resolved = [b for b in resolved if b['problem'] == 'store_failing'][1]
    check(resolved['since'] == body['since'] and resolved['fix'] is None,
          'resolved keeps since, no fix: %r' % resolved)
    wait_until(lambda: [q for q in pings(f) if q['time'] > up], 30, what='the ping back')
    time.sleep(3)
    check(len(store_events(f)) == 2, 'nothing more once resolved: %r' % store_events(f))
    kinds = {b for _, b, _ in json_events(f)}
    check(kinds <= {'store_failing', 'cycle_stalled'}, 'no other problem: %r' % kinds)
    check(len(alerts(f)) == len(json_events(f)), 'each alert sent once: %d requests for %d alerts'
          % (len(alerts(f)), len(json_events(f))))
    check_no_secrets(f, a)
    a.stop()


def test_retried(ctx):
    """A receiver answering 503, then stalling past the timeout: syncing goes on (a sale
    propagates), the alerts are retried with backoff and arrive in order once it answers."""
    f = ctx.fake
    a = synced_agent(ctx)
    f.op('hook_mode', {'name': 'alerts', 'status': 503})
    a.pause()
    wait_until(lambda: len(alerts(f, status=503)) >= 2, 30, what='the pause alert tried twice')
    f.op('hook_mode', {'name': 'alerts', 'status': 200, 'stall': 20})
    tried = len(alerts(f))
    a.resume()
    # a try in flight, which the receiver holds for 20 s: the agent gives up on it in 4
    wait_until(lambda: len(alerts(f)) > tried, 60, what='a try held by the stalling receiver')
    f.op('sell', {'store': 'source', 'handle': 'item-01', 'qty': 2})
    t0 = time.time()
    wait_until(lambda: f.level('destination', 'item-01') == 19, 30,
               what='the sale propagated while the receiver stalls')
    check(time.time() - t0 < 12, 'a stalling receiver slows the sync little: %.1fs' % (time.time() - t0))
    f.op('hook_mode', {'name': 'alerts', 'status': 200})
    wait_until(lambda: len([e for e in json_events(f) if e[0] == 'resolved']) >= 1, 90,
               what='the resolved alert delivered')
    ev = [e for e in json_events(f)]
    # a stalled request may have been answered 200 after the agent gave up on it
    uniq = [e for i, e in enumerate(ev) if i == 0 or e != ev[i - 1]]
    check(uniq == [('problem', 'paused', None), ('resolved', 'paused', None)],
          'problem then resolved, in order: %r' % ev)
    text = log_text(a)
    check(re.search(r'alert to http://127\.0\.0\.1:\d+ not sent \(HTTP 503\): problem paused; '
                    r'retrying in \d+ ms', text), 'the 503 said, with the retry')
    gaps = [r['time'] for r in alerts(f, status=503)]
    check(len(gaps) >= 2 and gaps[1] - gaps[0] >= 2, 'backed off between tries: %r' % gaps[:3])
    check_no_secrets(f, a)
    a.stop()


def test_unreachable(ctx):
    """An alert_url where nothing listens: syncing goes on, the alert is retried, the log says
    why by the URL's origin only."""
    f = ctx.fake
    with socket.socket() as so:
        so.bind(('127.0.0.1', 0))
        port = so.getsockname()[1]
    a = synced_agent(ctx, alert_url='http://127.0.0.1:%d/hook/%s' % (port, SECRET))
    a.pause()
    wait_until(lambda: len(re.findall(r'alert to http://127\.0\.0\.1:%d not sent \(cannot connect'
                                      % port, log_text(a))) >= 2, 40, what='two failed tries')
    a.resume()
    f.op('sell', {'store': 'source', 'handle': 'item-02', 'qty': 1})
    wait_until(lambda: f.level('destination', 'item-02') == 21, 20, what='the sale propagated')
    check(a.running(), 'the agent runs on')
    check_no_secrets(f, a)
    a.stop()


def test_slack(ctx):
    """alert_format = slack: {"text": ...} with the problem, its fix, Slack's escapes."""
    f = ctx.fake
    a = synced_agent(ctx, alert_format='slack', alert_url=alert_url(f, 'slack'))
    a.pause()
    wait_until(lambda: alerts(f, 'slack', 200), 20, what='a slack alert')
    r = alerts(f, 'slack', 200)[0]
    b = json.loads(r['body'])
    check(list(b) == ['text'], 'only a text key: %r' % b)
    check(b['text'].startswith(':warning: *invsync on ') and 'problem paused*' in b['text'],
          'the headline: %r' % b['text'])
    check('\nFix: run invsync resume to write again' in b['text'], 'the fix: %r' % b['text'])
    check(r['headers'].get('content-type') == 'application/json', 'JSON: %r' % r['headers'])
    a.resume()
    wait_until(lambda: len(alerts(f, 'slack', 200)) >= 2, 20, what='the slack resolved')
    t = json.loads(alerts(f, 'slack', 200)[1]['body'])['text']
    check(t.startswith(':white_check_mark: *invsync on ') and 'resolved paused' in t, t)
    check_no_secrets(f, a)
    a.stop()


def test_ntfy(ctx):
    """alert_format = ntfy: a plain text body, Title, Tags and Priority headers; and the
    guard's own pause, with the README's fix for it."""
    f = ctx.fake
    a = synced_agent(ctx, n=GUARD_LINKS, alert_format='ntfy', alert_url=alert_url(f, 'ntfy'))
    for k in range(GUARD_LINKS):    # every link changes by half its stock or more: the guard trips
        f.op('set', {'store': 'source', 'handle': 'item-%02d' % k, 'available': 1})
    wait_until(lambda: alerts(f, 'ntfy', 200), 20, what='an ntfy alert')
    r = alerts(f, 'ntfy', 200)[0]
    h = r['headers']
    check(h.get('content-type') == 'text/plain; charset=utf-8', 'text/plain: %r' % h)
    check(re.match(r'invsync on \S+: problem paused\Z', h.get('title', '')), 'Title: %r' % h)
    check(h.get('tags') == 'warning,invsync' and h.get('priority') == 'high',
          'Tags, Priority: %r' % h)
    check(r['body'].startswith('writing is paused since ') and 'guard: ' in r['body'],
          'the body says paused by the guard: %r' % r['body'])
    check('\nFix: a bulk change (an import mistake?) was held back' in r['body'],
          'the README fix for the guard: %r' % r['body'])
    check(not r['body'].lstrip().startswith('{'), 'not JSON: %r' % r['body'])
    check_no_secrets(f, a)
    a.stop()


def test_once(ctx):
    """invsync once pings after its healthy cycle and sends no alerts (a problem outlasts one
    process): a paused state gives no alert; with a store down, no ping."""
    f = ctx.fake
    a = synced_agent(ctx, ping_url=ping_url(f))
    a.stop()
    a.pause()
    n = len(pings(f))
    a.once()
    check(len(pings(f)) == n + 1, 'once pinged once: %d -> %d' % (n, len(pings(f))))
    check(alerts(f) == [], 'once sent no alert while paused: %r' % alerts(f))
    a.resume()
    f.op('faults', {'store': 'destination', 'kind': '503', 'rate': 1.0, 'ops': ['query', 'mutation']})
    rc, _, err = a.cmd('once', verbose=True)
    check(rc == 1, 'once with a store down exits 1: %d' % rc)
    check(len(pings(f)) == n + 1, 'no ping after a cycle with a store down')
    check_no_secrets(f, a)


def test_pending_uncertain(ctx):
    """A write whose reply is lost, then the store down: the batch stays pending past
    alert_after (writes_pending); a sale in that store meanwhile, and the store forgetting keys
    at once, leave its outcome undecidable: once the store is back the batch is settled as
    uncertain (uncertain_write, an event: never resolved) and the pending problem resolves."""
    f = ctx.fake
    src = [product('item-%02d' % k, [variant('IT%02d' % k, 20 + k)]) for k in range(3)]
    dst = [product('item-%02d' % k, [variant('IT%02d' % k, 40 + k)]) for k in range(3)]
    ctx.load([store('source', src, key_ttl=0), store('destination', dst, key_ttl=0)])
    a = ctx.agent(['source', 'destination'], sync={'alert_url': alert_url(f), 'alert_after': '2s',
                                                   'catalog_refresh': '10m'})
    a.start()
    wait_until(lambda: all_primary(f, 3), 20, interval=0.2, what='first sync')
    a.wait_synced(timeout=20)
    writes = len(f.log('destination', 'write'))
    f.op('faults', {'store': 'destination', 'kind': 'lost_reply', 'count': 1, 'ops': ['mutation']})
    f.op('sell', {'store': 'source', 'handle': 'item-00', 'qty': 4})
    wait_until(lambda: len(f.log('destination', 'write')) > writes, 20, interval=0.02,
               what='the write whose reply is lost')
    f.op('faults', {'store': 'destination', 'kind': '503', 'rate': 1.0, 'ops': ['query', 'mutation']})
    wait_until(lambda: ('problem', 'writes_pending', 'destination') in json_events(f), 30,
               what='a writes_pending alert')
    f.op('sell', {'store': 'destination', 'handle': 'item-00', 'qty': 1})     # undecidable now
    f.faults_off(['destination'])
    wait_until(lambda: ('resolved', 'writes_pending', 'destination') in json_events(f), 60,
               what='writes_pending resolved')
    st = a.status()
    check(st['uncertain'] > 0, 'the batch settled as uncertain: %r' % st['uncertain'])
    wait_until(lambda: ('problem', 'uncertain_write', None) in json_events(f), 20,
               what='an uncertain_write alert')
    b = [json.loads(r['body']) for r in alerts(f, status=200)]
    u = [x for x in b if x['problem'] == 'uncertain_write'][0]
    check('invsync log' in u['fix'] and '%d in all' % st['uncertain'] in u['message'],
          'the uncertain alert: %r' % u)
    ev = json_events(f, kind='writes_pending')
    check(ev == [('problem', 'writes_pending', 'destination'),
                 ('resolved', 'writes_pending', 'destination')], 'pending told once each: %r' % ev)
    check(('resolved', 'uncertain_write', None) not in json_events(f), 'an uncertain write never resolves')
    check_no_secrets(f, a)
    a.stop()


TESTS = [(n[5:], fn) for n, fn in sorted(globals().items()) if n.startswith('test_') and callable(fn)]


def main():
    return run_suite('alerts', TESTS)


if __name__ == '__main__':
    sys.exit(main())
