#!/usr/bin/env python3
"""make bench: invsync's performance against the fake Shopify (docs/design.md §9, issue 7).

A benchmark, not a test: it measures and reports, it asserts nothing.  Reuses
tests/e2e/harness.py (the fake and the agent).  Writes bench/results.md (the
machine, the date, the command, the table) and prints the table.

    python3 bench/bench.py --bin build/invsync [--out bench/results.md]
                           [--only latency,sent,flash,small,points,scale,size]
                           [--sizes 1000,10000,100000] [--points-stores 2,3]

Phases
  latency  200 single changes (both directions, random spacing 50-150 ms over
           200 variants) at interval 1 s and 5 s, and at 1 s with both stores'
           clocks 10 min ahead of this machine's and 10 min behind; latency =
           the fake's log time of the applied write in the other store minus
           that of the sale.
  sent     the window between the batch's `sent` mark in LMDB and the request
           leaving: strace -ttt on the agent, from the end of the on_send
           transaction (its log_debug line, which carries the txn's duration)
           to the next sendto(2).
  flash    500 sales in 10 s across 200 variants, both stores, interval 1 s:
           time until every level agrees, and conservation.
  scale    per size (two stores, one location, one variant per product):
           first load (catalog + levels) time and points with a Standard
           bucket; 30 s idle at interval 5 s with a Standard bucket (2000/100):
           CPU, RSS, points per poll and per minute (scaled to a minute); at
           rest with reconcile = 15s (10k, 100k): points, and how long a
           level pass by bulk snapshot takes; then per-cycle time and points
           when 1 level changes (`invsync once`, Plus bucket 20000/1000).
  small    a 100-point bucket restoring 10 a second while 2 changes a second
           flow: THROTTLED replies among requests.
  points   points per propagated change at 1, 100, 1000 and 10,000 changes
           a cycle, 2 and 3 stores of 10k links, by section (polls, reads
           before writes, writes, catalog), with the most times a changed
           level was read (Plus bucket, `once` cycles 2.5 s apart).
  size     stripped static binary per ARCH (make ARCH=..., then $(STRIP)).
"""
import argparse
import datetime
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'e2e'))
import harness  # noqa: E402
from harness import Agent, Fake, wait_until  # noqa: E402

STORES = ['source', 'destination']
IDLE_S = 30                     # seconds of the idle measure (reported per minute)
STANDARD = {'max': 2000, 'restore': 100}
PLUS = {'max': 20000, 'restore': 1000}
UNTHROTTLED = {'max': 10000000, 'restore': 10000000}
HZ = os.sysconf('SC_CLK_TCK')

rows = []          # (section, metric, value, note)
KEPT = '## Before and after'    # results.md from here on is written by hand, and kept


def row(section, metric, value, note=''):
    rows.append((section, metric, value, note))
    print('  %-10s %-55s %s%s' % (section, metric, value, ('   (' + note + ')') if note else ''), flush=True)


def say(msg):
    print('bench: ' + msg, flush=True)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float('nan')
    k = (len(xs) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


# ------------------------------------------------------------- set-up helpers

def setup_stores(fake, n, quantity=100000, bucket=STANDARD):
    """The two stores with n generated single-variant products each (harness.generated())."""
    harness.generated(fake, STORES, n, quantity, bucket)


def throttle(fake, b):
    for s in STORES:
        fake.op('throttle', {'store': s, 'max': b['max'], 'restore': b['restore'], 'available': b['max']})


def handle(i):
    return 'gen-product-%06d' % i


def stats(fake):
    return {s: fake.op('stats', {'store': s}) for s in STORES}


def cost_delta(a, b):
    """Points (actualQueryCost) and query/mutation counts between two stats()."""
    pts = sum(b[s]['actual_cost'] - a[s]['actual_cost'] for s in STORES)
    q = sum(b[s]['requests'].get('query', 0) - a[s]['requests'].get('query', 0) for s in STORES)
    m = sum(b[s]['requests'].get('mutation', 0) - a[s]['requests'].get('mutation', 0) for s in STORES)
    return pts, q, m


def proc_sample(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / HZ       # utime + stime
    st = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmHWM', 'VmRSS', 'RssAnon', 'RssFile'):
                st[k] = int(v.split()[0])                # kB
    return cpu, st


def log_count(agent, text):
    try:
        with open(agent.logpath, errors='replace') as f:
            return f.read().count(text)
    except OSError:
        return 0


def new_agent(fake, sync, name):
    return Agent(args.bin, fake, STORES, sync=sync, name=name)


def start_vv(agent):
    """Agent.start with -vv (debug: the cycle summaries, the sent marks)."""
    agent.runs += 1
    f = open(agent.logpath, 'a')
    agent.proc = subprocess.Popen([agent.bin, '-c', agent.conf, '-vv', 'run'], stdout=f, stderr=f)
    f.close()
    harness._procs.append(agent.proc)
    return agent.proc


def levels_equal(fake, handles, names=STORES):
    """Each of handles at one quantity in every store of names."""
    rows = {s: {r['handle']: r['available'] for r in fake.op('levels', {'store': s})} for s in names}
    return all(len(set(rows[s].get(h) for s in names)) == 1 for h in handles)


# ----------------------------------------------------------------- latency

def item_map(fake):
    """{(store, handle): item gid} and {(store, item numeric id): handle}."""
    out = {}
    for s in STORES:
        for r in fake.op('levels', {'store': s}):
            out[(s, r['handle'])] = r['item_id']
    return out


def written_items(entry):
    for c in entry.get('changes') or []:
        it = c.get('inventoryItemId') or c.get('item')
        if it is not None and c.get('delta', 1) != 0:
            yield it


def phase_latency(fake, interval, skew=0):
    """skew: seconds that both stores' clocks (Shopify's) are ahead of this
    machine's; the agent must derive its poll windows from Shopify's."""
    n = 200
    setup_stores(fake, n, quantity=1000)
    for s in STORES:
        r = fake.op('clock_skew', {'store': s, 'seconds': skew})
        assert r.get('ok'), r
    agent = new_agent(fake, {'interval': interval}, 'lat%s%+d' % (interval, skew))
    agent.start()
    agent.wait_synced(timeout=60)
    time.sleep(1.0)
    items = item_map(fake)
    rng = random.Random(7)
    order = list(range(1, n + 1))
    rng.shuffle(order)
    changes = []                           # (t_fake, from store, handle)
    t0 = time.monotonic()
    for k, i in enumerate(order):
        time.sleep(rng.uniform(0.05, 0.15))
        s = STORES[k % 2]
        e = fake.op('sell', {'store': s, 'handle': handle(i), 'qty': 1})['log']
        changes.append((e['t'], s, handle(i)))
    spread = time.monotonic() - t0
    hs = [handle(i) for i in order]
    wait_until(lambda: levels_equal(fake, hs), 60, interval=0.5, what='latency run converged')
    agent.stop()
    writes = {s: [e for e in fake.log(s, 'write') if str(e.get('outcome', '')).startswith('applied')]
              for s in STORES}
    lat = []
    missing = 0
    for t, s, h in changes:
        other = STORES[1 - STORES.index(s)]
        it = items[(other, h)]
        ts = [e['t'] for e in writes[other] if e['t'] >= t and it in set(written_items(e))]
        if ts:
            lat.append(min(ts) - t)
        else:
            missing += 1
    ivs = float(interval.rstrip('s'))
    note = '%d changes over %.0f s, both directions%s' % (len(changes), spread,
                                                         ', %d not matched' % missing if missing else '')
    label = 'interval %s' % interval
    if skew:
        label += ", Shopify's clock %+d min" % (skew // 60)
    row('latency', '%s: p50 / p90 / p99 (s)' % label,
        '%.2f / %.2f / %.2f' % (pct(lat, 50), pct(lat, 90), pct(lat, 99)), note)
    row('latency', '%s: budget p50 < %.1f s, p99 < %.1f s' % (label, ivs / 2 + 0.5, ivs + 1),
        'p50 %s, p99 %s' % ('met' if pct(lat, 50) < ivs / 2 + 0.5 else 'MISSED',
                            'met' if pct(lat, 99) < ivs + 1 else 'MISSED'))
    return lat


# ------------------------------------------------------ the `sent` window

def phase_sent(fake):
    if shutil.which('strace') is None:
        row('sent', 'sent mark -> request out', 'not measured', 'no strace')
        return
    n = 60
    setup_stores(fake, n, quantity=1000)
    agent = new_agent(fake, {'interval': '1s'}, 'sent')
    start_vv(agent)
    agent.wait_synced(timeout=60)
    trace = os.path.join(agent.dir, 'strace.out')
    st = subprocess.Popen(['strace', '-f', '-ttt', '-T', '-p', str(agent.proc.pid), '-o', trace,
                           '-s', '120', '-e', 'trace=write,sendto,fdatasync,fsync,msync,pwrite64,pwritev'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    harness._procs.append(st)
    time.sleep(1.0)
    for i in range(1, n + 1):
        fake.op('sell', {'store': STORES[i % 2], 'handle': handle(i), 'qty': 1})
        time.sleep(0.25)
    wait_until(lambda: levels_equal(fake, [handle(i) for i in range(1, n + 1)]), 60, interval=0.5,
               what='sent run converged')
    st.terminate()
    st.wait(10)
    agent.stop()
    txn, window = [], []
    mark = None
    with open(trace, errors='replace') as f:
        for line in f:
            m = re.match(r'(?:\d+\s+)?(\d+\.\d+) (\w+)\((.*)', line)
            if not m:
                continue
            t, call, rest = float(m.group(1)), m.group(2), m.group(3)
            if call == 'write' and 'marked sent' in rest:
                us = re.search(r'marked sent in (\d+) us', rest)
                if us:
                    txn.append(int(us.group(1)) / 1000.0)
                mark = t
            elif call == 'sendto' and mark is not None:
                window.append((t - mark) * 1000.0)
                mark = None
    if not txn:
        row('sent', 'sent mark -> request out', 'not measured', 'no "marked sent" debug lines')
        return
    row('sent', 'on_send txn (journal `sent`, commit+fsync): median / max (ms)',
        '%.2f / %.2f' % (statistics.median(txn), max(txn)), '%d batches, under strace' % len(txn))
    if window:
        row('sent', 'then until the first sendto(2): median / max (ms)',
            '%.3f / %.3f' % (statistics.median(window), max(window)))
        row('sent', 'window journaled-sent -> bytes out (median, ms)',
            '%.2f' % (statistics.median(txn) + statistics.median(window)))


# --------------------------------------------------------------- flash sale

def phase_flash(fake, bucket, bname):
    n = 200
    q0 = 1000
    setup_stores(fake, n, quantity=q0, bucket=bucket)
    agent = new_agent(fake, {'interval': '1s'}, 'flash')
    agent.start()
    agent.wait_synced(timeout=60)
    time.sleep(1.0)
    rng = random.Random(11)
    sold = {}
    s0, o0 = stats(fake), by_op(fake, STORES)
    t0 = time.monotonic()
    for k in range(500):
        target = t0 + 10.0 * k / 500
        d = target - time.monotonic()
        if d > 0:
            time.sleep(d)
        i = rng.randint(1, n)
        s = STORES[rng.randrange(2)]
        fake.op('sell', {'store': s, 'handle': handle(i), 'qty': 1})
        sold[handle(i)] = sold.get(handle(i), 0) + 1
    t_last = time.monotonic()
    hs = [handle(i) for i in range(1, n + 1)]

    def done():
        a = {r['handle']: r['available'] for r in fake.op('levels', {'store': 'source'})}
        b = {r['handle']: r['available'] for r in fake.op('levels', {'store': 'destination'})}
        return all(a[h] == b[h] == q0 - sold.get(h, 0) for h in hs)
    try:
        wait_until(done, 90, interval=0.1, what='flash sale converged')
    except harness.TestFailure:
        st = agent.status()
        agent.stop()
        row('flash', '500 sales / 10 s / 200 variants, %s bucket' % bname, 'not converged in 90 s',
            'paused by the guard: %s' % st.get('paused') if st.get('paused') else 'see agent log')
        return
    t_end = time.monotonic()
    s1, o1 = stats(fake), by_op(fake, STORES)
    st = agent.status()
    agent.stop()
    pend = sum(s.get('pending_changes') or 0 for s in st.get('stores', []))
    pts, q, m = cost_delta(s0, s1)
    thr = sum(s1[s]['throttled'] - s0[s]['throttled'] for s in STORES)
    row('flash', '500 sales / 10 s / 200 variants, %s bucket: converged after first sale (s)' % bname,
        '%.1f' % (t_end - t0), 'interval 1 s')
    row('flash', '%s bucket: converged after the last sale (s)' % bname, '%.1f' % (t_end - t_last),
        'every level = 1000 - its sales in both stores; %d pending' % pend)
    row('flash', '%s bucket: THROTTLED replies, requests, points' % bname,
        '%d of %d, %d points' % (thr, q + m, pts), '%d queries, %d mutations; points: %s' % (
            q, m, ', '.join('%s %d' % kv for kv in section_points(o0, o1, STORES).items())))


# -------------------------------------------------------------- small bucket

def phase_small(fake, seconds=30, rate=2.0):
    """A 100-point bucket restoring 10 a second (issue 16) while 2 changes a second flow, both
    directions, interval 1 s: THROTTLED replies among requests, and conservation at the end."""
    n = 200
    small = {'max': 100, 'restore': 10}
    setup_stores(fake, n, quantity=1000)
    agent = new_agent(fake, {'interval': '1s'}, 'small')
    agent.start()
    agent.wait_synced(timeout=120)
    throttle(fake, small)           # loaded on Standard: the small bucket is for the flow
    time.sleep(3)
    rng = random.Random(7)
    sold = {}
    s0, o0 = stats(fake), by_op(fake, STORES)
    t0 = time.monotonic()
    for k in range(int(seconds * rate)):
        d = t0 + k / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
        h = handle(rng.randint(1, n))
        fake.op('sell', {'store': STORES[k % 2], 'handle': h, 'qty': 1})
        sold[h] = sold.get(h, 0) + 1
    hs = [handle(i) for i in range(1, n + 1)]

    def done():
        a = {r['handle']: r['available'] for r in fake.op('levels', {'store': 'source'})}
        b = {r['handle']: r['available'] for r in fake.op('levels', {'store': 'destination'})}
        return all(a[h] == b[h] == 1000 - sold.get(h, 0) for h in hs)
    t_last = time.monotonic()
    try:
        wait_until(done, 120, interval=0.2, what='small bucket converged')
        conv = '%.1f' % (time.monotonic() - t_last)
    except harness.TestFailure:
        conv = 'not in 120 s'
    s1, o1 = stats(fake), by_op(fake, STORES)
    agent.stop()
    pts, q, m = cost_delta(s0, s1)
    thr = sum(s1[s]['throttled'] - s0[s]['throttled'] for s in STORES)
    mthr = sum(o1[s].get('Adjust', {}).get('throttled', 0) - o0[s].get('Adjust', {}).get('throttled', 0)
               for s in STORES)
    row('small', '100 / 10 pts/s bucket, %d changes a second for %d s: THROTTLED replies of requests'
        % (rate, seconds), '%d of %d (%.1f %%)' % (thr, q + m, 100.0 * thr / max(1, q + m)),
        '%d of them to writes; interval 1 s; %d points; in step %s s after the last change' % (mthr, pts, conv))


# --------------------------------------------------------------------- scale

def sell_many(fake, k, first=1):
    for i in range(first, first + k):
        fake.op('sell', {'store': 'source', 'handle': handle(i), 'qty': 1})


def once_cycle(agent):
    t = time.monotonic()
    p = subprocess.run([agent.bin, '-c', agent.conf, '-vv', 'once'], capture_output=True, text=True,
                       timeout=600)
    wall = time.monotonic() - t
    with open(agent.logpath, 'a') as f:
        f.write('==== once (rc %d)\n%s' % (p.returncode, p.stderr))
    m = re.search(r'cycle: (\d+) changes seen, (\d+) written in (\d+) ms', p.stderr)
    if p.returncode != 0 or not m:
        raise harness.TestFailure('once failed (rc %d): %s' % (p.returncode, p.stderr[-500:]))
    return wall, int(m.group(1)), int(m.group(2)), int(m.group(3))


def sighted(agent):
    """Stores whose links all had a first sighting: a paged full pass or a levels bulk file."""
    try:
        with open(agent.logpath, errors='replace') as f:
            text = f.read()
    except OSError:
        return 0
    return text.count('full level pass done') + len(re.findall(r'levels bulk operation \S+ applied', text))


def first_load(fake, n, name, sync, bucket):
    """Starts an agent on fresh stores of n variants and waits for its first full load.
    Returns the agent, the seconds, the points per store, the queries, agent CPU and /proc status."""
    setup_stores(fake, n, bucket=bucket)
    agent = new_agent(fake, dict({'interval': '5s', 'reconcile': '1h'}, **sync), name)
    s0 = stats(fake)
    t0 = time.monotonic()
    start_vv(agent)
    anon = [0]

    def loaded():
        # the heap's high-water mark, sampled: a file held whole would show here
        anon[0] = max(anon[0], proc_sample(agent.proc.pid)[1].get('RssAnon', 0))
        return sighted(agent) >= 2
    wait_until(loaded, 3600, interval=0.1, what='first full load')
    t_load = time.monotonic() - t0
    pts, q, _ = cost_delta(s0, stats(fake))
    cpu, ps = proc_sample(agent.proc.pid)
    ps['RssAnonPeak'] = anon[0]
    return agent, t_load, pts // 2, q, cpu, ps


def set_reconcile(agent, value):
    with open(agent.conf) as f:
        conf = re.sub(r'(?m)^reconcile = .*$', 'reconcile = ' + value, f.read())
    with open(agent.conf, 'w') as f:
        f.write(conf)


def label_n(label):
    return int(label.rstrip('k')) * 1000


def phase_reconcile(fake, agent, label, window=40):
    """At rest on a Standard bucket with reconcile = 15s: a full catalog re-read (a bulk operation)
    every 15 s plus the paced level pass, against the 10 % of the restore rate docs/design.md §9 allows."""
    set_reconcile(agent, '15s')
    start_vv(agent)
    time.sleep(6)
    a = stats(fake)
    passes = []                      # seconds of each store's bulk level passes, by its log
    began = {}                       # store -> (monotonic start, passes done then)
    t_end = time.monotonic() + window
    while time.monotonic() < t_end:
        with open(agent.logpath, errors='replace') as f:
            text = f.read()
        for st in STORES:
            n_start = text.count('store %s: reconciliation by bulk operation (epoch' % st)
            n_done = text.count('store %s: reconciliation by bulk operation done' % st)
            if st not in began and n_start > n_done:
                began[st] = (time.monotonic(), n_done)
            elif st in began and n_done > began[st][1]:
                passes.append(time.monotonic() - began.pop(st)[0])
        time.sleep(0.05)
    b = stats(fake)
    # no operation left in flight: the next `once` would follow it to its end
    wait_until(lambda: not any(s.get('bulk_operations') for s in agent.status()['stores']), 120,
               interval=0.2, what='the bulk operations in flight applied')
    agent.stop()
    set_reconcile(agent, '1h')
    pts, q, m = cost_delta(a, b)
    ops = sum(b[s]['bulk_ops'] - a[s]['bulk_ops'] for s in STORES) / 2
    per_min = pts / 2 * 60 / window
    row('reconcile', '%s: points per minute per store at rest, reconcile = 15s' % label, '%.0f' % per_min,
        '%.1f %% of Standard\'s 6000/min; %.0f bulk operations (catalog and levels) per store in %d s; idle '
        'polls 36/min' % (per_min / 60, ops, window))
    if passes:
        row('reconcile', '%s: a full level pass by bulk snapshot, Standard bucket (s)' % label,
            '%.1f' % statistics.median(passes), 'median of %d passes of a store, from the operation\'s start '
            'to its file applied, seen in the log every 50 ms; in pages at 10 %% of 100 pts/s it would take '
            '%.1f h (2 points a level)' % (len(passes), label_n(label) * 2 / 10.0 / 3600))


def phase_scale(fake, n):
    label = '%dk' % (n // 1000)
    if n == 10000:
        say('scale %s: a first load in pages (bulk_threshold = 0), unthrottled, for comparison' % label)
        paged, t_p, pts_p, q_p, _, _ = first_load(fake, n, 'scale%s-paged' % label, {'bulk_threshold': '0'},
                                                  UNTHROTTLED)
        paged.stop()
    say('scale %s: two stores of %d variants, first load by bulk operations, Standard bucket' % (label, n))
    agent, t_load, pts, q, cpu_load, ps = first_load(fake, n, 'scale%s' % label, {}, STANDARD)
    ops = sum(stats(fake)[s]['bulk_ops'] for s in STORES)
    biggest = max([e.get('bytes', 0) for s in STORES for e in fake.log(s, 'bulk_operation')] or [0])
    row('load', '%s: first full load (catalog + levels), both stores, by bulk operations (s)' % label,
        '%.1f' % t_load, 'Standard bucket (100 pts/s); %d queries, %d bulk operations; agent CPU %.1f s; '
        'peak RSS %d kB, of it heap (RssAnon, sampled every 0.1 s) %d kB' % (q, ops, cpu_load, ps['VmHWM'],
                                                                          ps['RssAnonPeak']))
    row('load', '%s: first full load points, per store (bulk)' % label, '%d' % pts,
        '%.3f points per variant; the biggest JSONL file %.1f MB, streamed' % (pts / n, biggest / 1e6))
    if n == 10000:
        row('load', '%s: the same load in pages: points per store / seconds unthrottled' % label,
            '%d / %.1f' % (pts_p, t_p), '%d queries; %.0fx the points of the bulk load; ≥ %.0f s per store '
            'at 100 pts/s (Standard)' % (q_p, pts_p / max(pts, 1), pts_p / 100))
    # idle
    throttle(fake, STANDARD)
    time.sleep(6)                    # the first incremental cycle after the load
    a = stats(fake)
    c0, _ = proc_sample(agent.proc.pid)
    time.sleep(IDLE_S)
    c1, ps = proc_sample(agent.proc.pid)
    b = stats(fake)
    pts, q, m = cost_delta(a, b)
    pts, q, m = pts * 60 / IDLE_S, q * 60 / IDLE_S, m * 60 / IDLE_S      # a minute's
    row('idle', '%s: agent CPU over 60 s idle (s)' % label, '%.2f' % ((c1 - c0) * 60 / IDLE_S),
        'interval 5 s; %d s measured' % IDLE_S)
    row('idle', '%s: RSS idle / peak (VmRSS / VmHWM, kB)' % label, '%d / %d' % (ps['VmRSS'], ps['VmHWM']),
        'anon %d kB, file (LMDB map) %d kB' % (ps.get('RssAnon', 0), ps.get('RssFile', 0)))
    row('idle', '%s: points per idle poll per store (actualQueryCost)' % label,
        '%.1f' % (pts / q if q else float('nan')), '%d queries, %d mutations a minute' % (q, m))
    row('idle', '%s: points per minute at rest, per store' % label, '%.0f' % (pts / 2))
    agent.stop()
    mdb = os.path.join(agent.state_dir, 'invsync.mdb')
    if os.path.exists(mdb):
        used = os.stat(mdb).st_blocks * 512
        row('idle', '%s: LMDB state on disk (invsync.mdb, allocated)' % label, '%.1f MB' % (used / 1e6),
            '%.0f bytes per link (links, level index, audit, meta)' % (used / n))
    if n >= 10000:                   # bulk snapshots: the stores big enough
        phase_reconcile(fake, agent, label)
    # per cycle
    throttle(fake, PLUS)
    sizes = [1]                      # more changes: phase_points
    first = 1
    for k in sizes:
        a = stats(fake)
        sell_many(fake, k, first)
        cyc = []
        for _ in range(12):
            b0 = stats(fake)
            wall, seen, written, ms = once_cycle(agent)
            b1 = stats(fake)
            cyc.append((wall, seen, written, ms, cost_delta(b0, b1)[0]))
            if written == 0 and seen == 0 and len(cyc) > 1:
                break
        b = stats(fake)
        pts, q, m = cost_delta(a, b)
        ok = levels_equal(fake, [handle(i) for i in range(first, first + min(k, 50))])
        w1, s1_, wr1, ms1, p1 = cyc[0]
        work = [c for c in cyc if c[1] or c[2]]
        row('cycle', '%s, %d changed: first cycle ms / points (both stores)' % (label, k),
            '%d / %d' % (ms1, p1), '%d seen, %d written; `once` wall %.2f s' % (s1_, wr1, w1))
        row('cycle', '%s, %d changed: cycles with work, ms, points until in step' % (label, k),
            '%d, %d, %d' % (len(work), sum(c[3] for c in work), pts),
            '%d queries, %d mutations incl. a quiet last cycle%s' % (q, m, '' if ok else '; NOT CONVERGED'))
        first += k


# ------------------------------------------------------ points per change

POINT_SECTIONS = (('polls', ('Levels', 'LevelsLean')), ('reads before writes', ('LevelsById',)), ('writes', ('Adjust',)),
                  ('catalog and other', None))


def by_op(fake, names):
    return {s: fake.op('stats', {'store': s})['by_op'] for s in names}


def section_points(a, b, names):
    """Points between two by_op() snapshots, by section of POINT_SECTIONS."""
    out = dict((sec, 0) for sec, _ in POINT_SECTIONS)
    for s in names:
        for op, v in b[s].items():
            pts = v['actual_cost'] - a[s].get(op, {}).get('actual_cost', 0)
            sec = next((sec for sec, ops in POINT_SECTIONS if ops and op in ops), 'catalog and other')
            out[sec] += pts
    return out


def phase_points(fake, nstores, n=10000, interval=2.5):
    """Points per propagated change (issue 16): n links in nstores stores, k levels changed in the
    first store between cycles (k = 1, 100, 1000, 10000), `once` cycles at the default interval
    until a quiet one; Plus bucket.  Also how often each changed level was read."""
    names = ['source', 'destination', 'third'][:nstores]
    harness.generated(fake, names, n, 100000, PLUS)
    agent = Agent(args.bin, fake, names, sync={'interval': '5s', 'reconcile': '1h'},
                  name='points%d' % nstores)
    once_cycle(agent)                      # the first load: `once` follows it to its end
    ids = {s: {r['handle']: r['level_id'] for r in fake.op('levels', {'store': s})} for s in names}
    for k in (1, 100, 1000, 10000):
        for s in names:
            fake.op('level_reads', {'store': s, 'reset': True})
        a = by_op(fake, names)
        sa = {s: fake.op('stats', {'store': s}) for s in names}
        sell_many(fake, k)
        cycles = 0
        while cycles < 20:
            t = time.monotonic()
            _, seen, written, _ = once_cycle(agent)
            cycles += 1
            if seen == 0 and written == 0 and cycles > 1:
                break
            time.sleep(max(0.0, interval - (time.monotonic() - t)))
        b = by_op(fake, names)
        sec = section_points(a, b, names)
        total = sum(sec.values())
        thr = sum(fake.op('stats', {'store': s})['throttled'] - sa[s]['throttled'] for s in names)
        reads = {s: fake.op('level_reads', {'store': s}) for s in names}
        changed = [handle(i) for i in range(1, k + 1)]
        src = max(reads['source'].get(ids['source'][h], 0) for h in changed)
        dst = max(reads[s].get(ids[s][h], 0) for s in names[1:] for h in changed)
        ok = levels_equal(fake, changed[::max(1, k // 50)], names)
        row('points', '%d stores, %d changed: points per change' % (nstores, k), '%.1f' % (total / k),
            '%.1f per change and store written; %d points in %d cycles (%s); each changed level read at most '
            '%d times where it changed, %d where written; %d THROTTLED%s'
            % (total / k / (nstores - 1), total, cycles, ', '.join('%s %d' % kv for kv in sec.items()),
               src, dst, thr, '' if ok else '; NOT CONVERGED'))
    agent.stop()


# ---------------------------------------------------------------- binary size

def make_var(arch, var):
    mk = 'print-var:\n\t@echo $(%s)\n' % var
    p = subprocess.run(['make', '--no-print-directory', '-s', 'ARCH=' + arch, '-f', 'Makefile', '-f', '-',
                        'print-var'], input=mk, capture_output=True, text=True, cwd=ROOT)
    return p.stdout.strip() if p.returncode == 0 else ''


def phase_size():
    for a in ['x86_64', 'aarch64', 'armhf', 'armel']:
        p = subprocess.run(['make', '--no-print-directory', 'ARCH=' + a], capture_output=True, text=True,
                           cwd=ROOT)
        if p.returncode != 0:
            row('size', '%s stripped static binary' % a, 'skipped', 'make ARCH=%s failed' % a)
            continue
        src = os.path.join(ROOT, 'build', 'invsync' if a == 'x86_64' else '%s/invsync' % a)
        strip = make_var(a, 'STRIP') or 'strip'
        out = tempfile.mktemp(prefix='invsync-strip-')
        s = subprocess.run([strip, '-o', out, src], capture_output=True, text=True)
        if s.returncode != 0:
            row('size', '%s stripped static binary' % a, 'skipped', '%s failed' % strip)
            continue
        size = os.path.getsize(out)
        os.unlink(out)
        row('size', '%s stripped static binary (bytes)' % a, '%d' % size,
            '%.2f MiB; budget 2 MB %s' % (size / 1048576.0, 'met' if size < 2000000 else 'MISSED'))


# ----------------------------------------------------------------- report

def machine():
    model = '?'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    mem = '?'
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemTotal'):
                mem = '%.1f GiB' % (int(line.split()[1]) / 1048576.0)
    return ('%d cores (nproc), %s, %s RAM, Linux %s, Python %s' %
            (os.cpu_count(), model, mem, platform.release(), platform.python_version()))


def write_results(path, took, cmd):
    rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                         cwd=ROOT).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no', 'agent'],
                           capture_output=True, text=True, cwd=ROOT).stdout.strip()
    lines = ['# invsync benchmark results', '',
             'Measured by `make bench` (bench/bench.py) against the fake Shopify (tests/fakeshop) on this machine.',
             'Numbers are medians/percentiles of one run; they describe the agent *and* the Python fake, which',
             'is the slower of the two at scale.  Nothing here is asserted by `make test`.', '',
             '* Date: %s' % datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'),
             '* Machine: %s' % machine(),
             '* Tree: %s%s' % (rev, ' (agent/ modified in the working tree)' if dirty else ''),
             '* Command: `%s` (took %.0f s)' % (cmd, took),
             '* Buckets: latency, flash, idle, first load (bulk operations), reconcile: Standard 2000 / 100',
             '  pts/s; the paged first load at 10k for comparison: unthrottled (points reported, time at a',
             '  plan\'s restore rate = points / rate); per-cycle and points per change: Plus 20000 / 1000;',
             '  small: 100 / 10.', '',
             '| section | metric | value | note |', '|---|---|---|---|']
    for s, m, v, n in rows:
        lines.append('| %s | %s | %s | %s |' % (s, m, v, n.replace('|', '/')))
    kept = ''
    try:                            # the hand-kept sections after the table stay
        with open(path) as f:
            old = f.read()
        if KEPT in old:
            kept = '\n' + old[old.index(KEPT):]
    except OSError:
        pass
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n' + kept)


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', default=os.path.join(ROOT, 'build', 'invsync'))
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results.md'))
    ap.add_argument('--only', default='latency,sent,flash,small,points,scale,size')
    ap.add_argument('--sizes', default='1000,10000,100000')
    ap.add_argument('--points-stores', default='2,3')
    args = ap.parse_args()
    only = args.only.split(',')
    t0 = time.monotonic()
    fake = Fake(seed=1, lifetime=3600)
    try:
        if 'latency' in only:
            for iv in ('1s', '5s'):
                say('latency at interval %s' % iv)
                phase_latency(fake, iv)
            for skew in (600, -600):       # issue 14: the local clock 10 min off
                say("latency at interval 1s, Shopify's clock %+d s" % skew)
                phase_latency(fake, '1s', skew)
        if 'sent' in only:
            say('the sent window (strace)')
            phase_sent(fake)
        if 'flash' in only:
            for b, bn in ((PLUS, 'Plus'), (STANDARD, 'Standard')):
                say('flash sale, %s bucket' % bn)
                phase_flash(fake, b, bn)
        if 'small' in only:
            say('a small bucket (100 / 10 pts/s)')
            phase_small(fake)
        if 'points' in only:
            for ns in [int(x) for x in args.points_stores.split(',') if x]:
                say('points per change, %d stores' % ns)
                phase_points(fake, ns)
        if 'scale' in only:
            for n in [int(x) for x in args.sizes.split(',') if x]:
                phase_scale(fake, n)
        if 'size' in only:
            say('binary sizes')
            phase_size()
    finally:
        fake.stop()
    took = time.monotonic() - t0
    full = only == ['latency', 'sent', 'flash', 'small', 'points', 'scale', 'size']
    cmd = 'make bench' if full and args.sizes == '1000,10000,100000' and args.points_stores == '2,3' else \
        'python3 bench/bench.py ' + ' '.join(sys.argv[1:])
    write_results(args.out, took, cmd)
    print()
    with open(args.out) as f:
        print(f.read())
    say('wrote %s in %.0f s' % (os.path.relpath(args.out, ROOT), took))


if __name__ == '__main__':
    main()
