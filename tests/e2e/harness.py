"""harness.py: drives the fake Shopify (tests/fakeshop) and the invsync agent
for the end-to-end suite (test_e2e.py).

Fake    starts fakeshop.py as a subprocess, waits for its READY line, sends
        control ops over HTTP.
Agent   one agent with its own temp dir (config, token files, state_dir):
        start/stop/kill -9 of `run`, `once`, `status --json`, `log --json`,
        pause/resume; stderr goes to a log file whose tail is shown on failure.
wait_until(cond, timeout)  polls a condition with a deadline (no bare sleeps).
Ctx     what a test gets: the fake, the binary, its seed, the agents it made.
run_suite(name, tests)  every e2e suite's main(): --bin, --seed, --only;
        one PASS/FAIL/SKIP line a test, the agent's log tail on a failure.
Everything started is killed at exit (atexit), also when a test fails.
"""
import argparse
import random
import traceback
import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FAKESHOP = os.path.join(ROOT, 'tests', 'fakeshop', 'fakeshop.py')

_procs = []          # every subprocess we started, killed at exit
_tmpdirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass
    for d in _tmpdirs:
        if os.environ.get('E2E_KEEP') is None:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def _sigterm(signum, frame):
    _cleanup()
    os._exit(1)


signal.signal(signal.SIGTERM, _sigterm)


class TestFailure(Exception):
    pass


class Skip(Exception):
    """A test that cannot run here (a tool missing): a SKIP line."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_until(cond, timeout, interval=0.05, what='condition'):
    """Polls cond() until it returns a true value; returns that value.
    Raises TestFailure after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TestFailure('timed out after %.1fs waiting for %s' % (timeout, what))
        time.sleep(interval)


def mkdtemp(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


# ---------------------------------------------------------------- the fake

class Fake:
    def __init__(self, seed=1, lifetime=900, tls_dir=None):
        if tls_dir is None:
            cand = os.path.join(ROOT, 'build', 'tls')
            tls_dir = cand if os.path.exists(os.path.join(cand, 'ca.pem')) else mkdtemp('e2e-tls-')
        self.logf = open(os.path.join(mkdtemp('e2e-fake-'), 'fake.log'), 'w+')
        self.proc = subprocess.Popen(
            [sys.executable, FAKESHOP, '--tls-dir', tls_dir, '--port', '0', '--control-port', '0',
             '--seed', str(seed), '--lifetime', str(lifetime)],
            stdout=subprocess.PIPE, stderr=self.logf, text=True)
        _procs.append(self.proc)
        line = ''
        deadline = time.monotonic() + 30
        while not line.endswith('\n'):
            r, _, _ = select.select([self.proc.stdout], [], [], max(0, deadline - time.monotonic()))
            if not r:
                self.stop()
                raise TestFailure('fakeshop gave no READY line within 30 s')
            c = self.proc.stdout.readline()
            if c == '':
                raise TestFailure('fakeshop exited before READY: rc %s' % self.proc.poll())
            line += c
        if not line.startswith('READY '):
            raise TestFailure('fakeshop: unexpected first line %r' % line)
        kv = dict(w.split('=', 1) for w in line.split()[1:])
        self.port = int(kv['port'])
        self.control = int(kv['control'])
        self.ca = kv['ca']

    def op(self, name, body=None):
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request('http://127.0.0.1:%d/%s' % (self.control, name), data=data,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise TestFailure('fake op %s %r: HTTP %d %s' % (name, body, e.code, e.read()[:300]))

    def url(self, store):
        return 'https://localhost:%d/store/%s' % (self.port, store)

    def levels(self, store):
        """{(handle, sku, location): available} of every level of store."""
        return {(r['handle'], r['sku'], r['location']): r['available'] for r in self.op('levels', {'store': store})}

    def level(self, store, handle, sku=None, location=None):
        for r in self.op('levels', {'store': store, 'handle': handle}):
            if (sku is None or r['sku'] == sku) and (location is None or r['location'] == location):
                return r['available']
        raise TestFailure('no level %s %s %s in %s' % (handle, sku, location, store))

    def log(self, store, kind=None):
        b = {'store': store}
        if kind:
            b['kind'] = kind
        return self.op('log', b)

    def faults_off(self, stores):
        for s in stores:
            self.op('faults', {'store': s, 'kind': 'none'})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ------------------------------------------------------------- scenarios

SHOPS = {'source': 'urbanwear-eu.myshopify.com', 'destination': 'urbanwear-us.myshopify.com',
         'third': 'urbanwear-uk.myshopify.com', 'fourth': 'urbanwear-au.myshopify.com'}


def store(name, products, locations=None, **kw):
    s = {'name': name, 'shop': SHOPS.get(name, name + '.myshopify.com'), 'token': 'shpat_' + name,
         'locations': locations or [{'name': 'Main Warehouse'}], 'products': products}
    s.update(kw)
    return s


def product(handle, variants, options=None):
    p = {'handle': handle, 'title': handle.replace('-', ' ').title(), 'status': 'ACTIVE', 'variants': variants}
    if options:
        p['options'] = options
    return p


def variant(sku, qty, loc='Main Warehouse', **kw):
    v = {'sku': sku, 'tracked': True, 'levels': {loc: qty}}
    v.update(kw)
    return v


# ----------------------------------------------------------------- agent


def simple(handle, sku, qty, **kw):
    """A product of one variant."""
    return product(handle, [variant(sku, qty, **kw)])


def catalogs(n=12):
    """Two stores with n shared products, item-00.., at different quantities."""
    src = [simple('item-%02d' % k, 'IT%02d' % k, 20 + k) for k in range(n)]
    dst = [simple('item-%02d' % k, 'IT%02d' % k, 40 + k) for k in range(n)]
    return [store('source', src), store('destination', dst)]


def generated(f, stores, n, quantity, bucket=None):
    """stores with n generated single-variant products each (gen-product-000001 ..), their levels
    last updated an hour ago (so no poll's overlap window sees them), and bucket ({max, restore})
    set in each when given."""
    f.op('load', {'stores': [store(s, []) for s in stores]})
    f.op('clock', {'advance': -3600})
    for s in stores:
        f.op('generate', {'store': s, 'products': n, 'variants_per_product': 1, 'locations': 1,
                          'quantity': quantity})
    f.op('clock', {'advance': 3600})
    for s in stores if bucket else ():
        f.op('throttle', {'store': s, 'max': bucket['max'], 'restore': bucket['restore'],
                          'available': bucket['max']})


def all_primary(f, n=12):
    """initial = primary: each of catalogs(n)'s levels equals the source's."""
    return all(f.level('destination', 'item-%02d' % k) == f.level('source', 'item-%02d' % k)
               for k in range(n))

class Agent:
    """One invsync configuration with its own directory and state."""

    def __init__(self, binary, fake, stores, sync=None, locations=None, name='agent'):
        self.bin = os.path.abspath(binary)
        self.fake = fake
        self.stores = list(stores)
        self.dir = mkdtemp('e2e-%s-' % name)
        self.state_dir = os.path.join(self.dir, 'state')
        self.conf = os.path.join(self.dir, 'invsync.conf')
        self.logpath = os.path.join(self.dir, 'agent.log')
        self.proc = None
        self.runs = 0
        self.started_ms = None      # wall clock (ms) of the last start of `run`
        opts = {'interval': '1s', 'state_dir': self.state_dir, 'ca_file': fake.ca}
        opts.update(sync or {})
        lines = ['[sync]'] + ['%s = %s' % kv for kv in opts.items()]
        for s in self.stores:
            tok = os.path.join(self.dir, '%s.token' % s)
            with open(tok, 'w') as f:
                f.write('shpat_%s\n' % s)
            os.chmod(tok, 0o600)
            lines += ['', '[store %s]' % s, 'shop = %s' % SHOPS.get(s, s + '.myshopify.com'),
                      'token_file = %s.token' % s, 'url = %s' % fake.url(s)]
        if locations:
            lines += ['', '[locations]'] + locations
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    # -- commands
    def cmd(self, *args, timeout=60, verbose=False):
        """Runs invsync -c CONF ARGS; returns (rc, stdout, stderr)."""
        argv = [self.bin, '-c', self.conf] + (['-v'] if verbose else []) + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if verbose:
            with open(self.logpath, 'a') as f:
                f.write('==== %s (rc %d)\n%s' % (' '.join(args), p.returncode, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def once(self, *extra, timeout=60):
        rc, out, err = self.cmd('once', *extra, timeout=timeout, verbose=True)
        check(rc == 0, 'once %s exited %d: %s' % (' '.join(extra), rc, err[-800:]))
        return out

    def status(self, may_fail=False):
        rc, out, err = self.cmd('status', '--json')
        if rc != 0 and may_fail:
            return None    # e.g. the state file is being created by a starting agent
        check(rc == 0, 'status --json exited %d: %s' % (rc, err[-500:]))
        try:
            return json.loads(out)
        except ValueError as e:
            raise TestFailure('status --json is not JSON (%s): %r' % (e, out[:500]))

    def audit(self, n=10000):
        rc, out, err = self.cmd('log', '-n', str(n), '--json')
        check(rc == 0, 'log --json exited %d: %s' % (rc, err[-500:]))
        rows = []
        for line in out.splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise TestFailure('log --json line is not JSON (%s): %r' % (e, line[:300]))
        return rows

    def pause(self):
        rc, out, err = self.cmd('pause')
        check(rc == 0, 'pause exited %d: %s' % (rc, err))

    def resume(self):
        rc, out, err = self.cmd('resume')
        check(rc == 0, 'resume exited %d: %s' % (rc, err))

    # -- the daemon
    def start(self, *extra):
        check(self.proc is None or self.proc.poll() is not None, 'agent already running')
        self.runs += 1
        f = open(self.logpath, 'a')
        f.write('==== run #%d %s\n' % (self.runs, ' '.join(extra)))
        f.flush()
        self.proc = subprocess.Popen([self.bin, '-c', self.conf, '-v', 'run'] + list(extra),
                                     stdout=f, stderr=f)
        f.close()
        self.started_ms = time.time() * 1000
        _procs.append(self.proc)
        return self.proc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.running():
            self.proc.kill()
            self.proc.wait(10)
            with open(self.logpath, 'a') as f:
                f.write('==== kill -9\n')

    def stop(self, timeout=10):
        """SIGTERM; returns (rc, seconds taken)."""
        if not self.running():
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise TestFailure('agent did not exit within %ds of SIGTERM' % timeout)
        return rc, time.monotonic() - t0

    def tail(self, n=40):
        try:
            with open(self.logpath, errors='replace') as f:
                lines = f.readlines()
        except OSError:
            return '(no agent log)'
        return ''.join(lines[-n:])

    # -- checks
    def wait_synced(self, timeout=20, since_ms=None):
        """Waits until status says in step with nothing pending, as left by a cycle that
        started after since_ms (default: the last start of `run`, when it runs), so that
        the state a previous run (or the moment before a change) left cannot pass.

        A store's last_ok_ms moves when a poll of it succeeds and when a write to it
        succeeds, and within a cycle every poll comes before every write.  So once every
        store's last_ok_ms is past since_ms, take M = the largest of them; once every
        store's last_ok_ms is past M, the cycle holding M has planned (a write to the
        store polled first in a cycle follows the plan) or ended (a poll of the next
        cycle): the status read then reflects a cycle that started after since_ms.
        Without a running daemon (`once` only) the plain status is used."""
        since = since_ms if since_ms is not None else (self.started_ms if self.running() else None)
        mark = {'m': None}

        def oks(st):
            return [s.get('last_ok_ms') or 0 for s in st.get('stores', [])]

        def ok():
            st = self.status(may_fail=True)
            if not st:
                return None
            if since is not None:
                t = oks(st)
                if not t or min(t) <= since:
                    return None
                if mark['m'] is None:
                    mark['m'] = max(t)
                    return None
                if min(t) <= mark['m']:
                    return None
            return st if (st.get('in_step') and not st.get('paused') and st.get('links', 0) > 0 and
                          all(s.get('last_ok_ms') for s in st.get('stores', [])) and
                          all(not s.get('pending_changes') for s in st.get('stores', []))) else None
        return wait_until(ok, timeout, interval=0.2,
                          what='status in step with no pending writes, from a cycle that started '
                               'after %s' % ('the start' if since is not None else 'now'))


class Ctx:
    """What a test gets: the fake, the binary, its own seed (and a random
    source from it), --long, and the agents it starts (killed after it)."""

    def __init__(self, fake, binary, seed, long=False):
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


def _after_test(fake, ctx, stores):
    for a in ctx.agents:
        try:
            if a.running():
                a.kill9()
        except Exception:
            pass
    for s in stores:
        try:
            fake.faults_off([s])
        except Exception:
            pass


def _run_one(name, fn, ctx):
    """Runs one test: 0 passed or skipped, 1 failed."""
    t0 = time.monotonic()
    try:
        fn(ctx)
        print('PASS %s (%.1fs)' % (name, time.monotonic() - t0), flush=True)
        return 0
    except Skip as e:
        print('SKIP %s: %s' % (name, e), flush=True)
        return 0
    except Exception as e:
        why = str(e) if isinstance(e, TestFailure) else traceback.format_exc()
        print('FAIL %s: %s' % (name, why.replace('\n', '\n    ')), flush=True)
        for a in ctx.agents:
            print('  --- agent log tail (%s)\n%s' % (a.dir, a.tail(40)))
        return 1


def run_suite(name, tests, ctx_class=Ctx, lifetime=900,
              stores=('source', 'destination', 'third'), done=None):
    """The main() of an e2e suite: tests is [(name, fn(ctx))].  Options:
    --bin, --seed (a test's seed is seed * 100 + its index, printed so that
    a failure re-runs alone), --only a,b, --long (ctx.long).  Each test gets
    a fresh ctx_class(fake, bin, seed, long); afterwards its agents are
    killed and the fake's faults on stores cleared.  done(), if given, runs
    at the end (a summary line).  Returns the exit status."""
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', default='build/invsync')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--only', default=None)
    ap.add_argument('--long', action='store_true')
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1 << 31)
    if not os.access(args.bin, os.X_OK):
        print('FAIL %s: no binary %s (run make)' % (name, args.bin))
        return 1
    only = set(args.only.split(',')) if args.only else None
    unknown = (only or set()) - {n for n, _ in tests}
    if unknown:
        print('FAIL %s: unknown test(s) %s' % (name, ', '.join(sorted(unknown))))
        return 2
    print('%s: seed %d (re-run: --seed %d)' % (name, seed, seed), flush=True)
    fake = Fake(seed=seed, lifetime=3600 if args.long else lifetime)
    failed = 0
    try:
        for idx, (tname, fn) in enumerate(tests):
            if only and tname not in only:
                continue
            tseed = seed * 100 + idx
            print('-- %s (seed %d)' % (tname, tseed), flush=True)
            ctx = ctx_class(fake, args.bin, tseed, args.long)
            try:
                failed += _run_one(tname, fn, ctx)
            finally:
                _after_test(fake, ctx, stores)
    finally:
        fake.stop()
    if done is not None:
        done()
    return 1 if failed else 0
