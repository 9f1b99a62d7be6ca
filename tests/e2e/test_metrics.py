#!/usr/bin/env python3
"""End-to-end tests of metrics_file (issue 17, Metrics): the agent against the fake Shopify
writes the Prometheus text exposition format 0.0.4 after each cycle, and every file it writes
passes a strict format check written here; the values move with what happens (a sale, a
store down, a throttled store, a pause); a path that cannot be written is a warning said
once, and syncing goes on.

    python3 tests/e2e/test_metrics.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

node_exporter's textfile collector reads the file too, and `promtool check metrics` lints
it: the Debian builds of both that deps/testdeps.sh unpacks into build/py/ (or
NODE_EXPORTER=/path, PROMTOOL=/path; else one in PATH; with none, those tests say SKIP).

Prints PASS/FAIL lines; exits 1 when a test failed.  Each test prints its seed.
"""
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (catalogs, all_primary, ROOT, run_suite, Skip, TestFailure, check, mkdtemp,  # noqa: E402
                     wait_until)

def pinned(tool):
    """The tool deps/testdeps.sh unpacked from Debian into build/py/, if any."""
    path = os.path.join(ROOT, 'build', 'py', 'usr', 'bin', tool)
    return path if os.access(path, os.X_OK) else None


# ---------------------------------------------------------------- the strict checker

NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE_RE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^\n]*\})? (\S+)(?: (-?[0-9]+))?\Z')
FLOAT_RE = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|Inf)\Z'
                      r'|NaN\Z')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


class BadExposition(TestFailure):
    pass


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), v)


def parse_labels(body, where):
    """'{a="x",b="y"}' -> {'a': 'x', 'b': 'y'}; the whole body must be labels."""
    inner = body[1:-1]
    labels, pos = {}, 0
    while pos < len(inner):
        m = LABEL_RE.match(inner, pos)
        if not m:
            raise BadExposition('%s: bad label syntax at %r' % (where, inner[pos:pos + 40]))
        name, value = m.group(1), unescape(m.group(2))
        if name.startswith('__'):
            raise BadExposition('%s: reserved label name %s' % (where, name))
        if name in labels:
            raise BadExposition('%s: label %s twice' % (where, name))
        labels[name] = value
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ',' or pos + 1 == len(inner):
                raise BadExposition('%s: expected "," between labels at %r' % (where, inner[pos:pos + 40]))
            pos += 1
    return labels


def parse_value(s, where):
    if not FLOAT_RE.match(s):
        raise BadExposition('%s: value %r is not a float' % (where, s))
    return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))


def family_of(name, fams):
    """The family a sample name belongs to: itself, or a histogram's _bucket/_sum/_count."""
    if name in fams:
        return name
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and base in fams and fams[base]['type'] in ('histogram', 'summary'):
            if suffix == '_bucket' and fams[base]['type'] != 'histogram':
                continue
            return base
    return None


def check_histogram(name, fam):
    series = {}
    for sname, labels, value in fam['samples']:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))
        s = series.setdefault(key, {'buckets': [], 'sum': None, 'count': None})
        if sname == name + '_bucket':
            if 'le' not in labels:
                raise BadExposition('%s: a bucket without le: %r' % (name, labels))
            s['buckets'].append((parse_value(labels['le'], name + ' le'), value))
        elif 'le' in labels:
            raise BadExposition('%s: le on %s' % (name, sname))
        elif sname == name + '_sum':
            s['sum'] = value
        elif sname == name + '_count':
            s['count'] = value
        else:
            raise BadExposition('%s: sample %s of a histogram' % (name, sname))
    if not series:
        raise BadExposition('%s: a histogram with no samples' % name)
    for key, s in series.items():
        les = [le for le, _ in s['buckets']]
        if not les or les[-1] != math.inf:
            raise BadExposition('%s%r: the buckets do not end in le="+Inf"' % (name, key))
        if any(b <= a for a, b in zip(les, les[1:])):
            raise BadExposition('%s%r: le not ascending: %r' % (name, key, les))
        counts = [c for _, c in s['buckets']]
        if any(b < a for a, b in zip(counts, counts[1:])):
            raise BadExposition('%s%r: bucket counts not cumulative: %r' % (name, key, counts))
        if s['sum'] is None or s['count'] is None:
            raise BadExposition('%s%r: no _sum or no _count' % (name, key))
        if s['count'] != counts[-1]:
            raise BadExposition('%s%r: _count %r is not the +Inf bucket %r' % (name, key, s['count'],
                                                                             counts[-1]))


def parse_exposition(text):
    """Checks text strictly against the text exposition format 0.0.4 and Prometheus's naming
    conventions; returns {family: {'type', 'help', 'samples': [(name, labels, value)]}}.
    Raises BadExposition naming the line."""
    if not text.endswith('\n'):
        raise BadExposition('the text does not end in a newline')
    fams, closed, current, seen = {}, set(), None, set()
    for n, line in enumerate(text[:-1].split('\n'), 1):
        where = 'line %d' % n
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) < 3 or parts[0] != '#' or parts[1] not in ('HELP', 'TYPE'):
                raise BadExposition('%s: a comment that is not HELP or TYPE: %r' % (where, line))
            kind, name = parts[1], parts[2]
            if not NAME_RE.match(name):
                raise BadExposition('%s: bad metric name %r' % (where, name))
            if name in closed:
                raise BadExposition('%s: %s for %s after its family ended' % (where, kind, name))
            fam = fams.setdefault(name, {'type': None, 'help': None, 'samples': []})
            if fam['samples']:
                raise BadExposition('%s: %s of %s after its samples' % (where, kind, name))
            if current is not None and current != name:
                closed.add(current)
            current = name
            key = 'help' if kind == 'HELP' else 'type'
            if fam[key] is not None:
                raise BadExposition('%s: a second %s line for %s' % (where, kind, name))
            text_ = parts[3] if len(parts) == 4 else ''
            if kind == 'TYPE' and text_ not in TYPES:
                raise BadExposition('%s: unknown type %r' % (where, text_))
            if kind == 'HELP' and not re.fullmatch(r'(?:[^\\\n]|\\[\\n])+', text_):
                raise BadExposition('%s: empty or badly escaped HELP %r' % (where, text_))
            fam[key] = text_
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise BadExposition('%s: not a sample line: %r' % (where, line))
        sname, body, value = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(body, where) if body else {}
        fname = family_of(sname, fams)
        if fname is None:
            raise BadExposition('%s: sample %s has no TYPE line before it' % (where, sname))
        if fname in closed or fname != current:
            raise BadExposition('%s: sample %s apart from its family' % (where, sname))
        fam = fams[fname]
        if fam['help'] is None or fam['type'] is None:
            raise BadExposition('%s: %s needs one HELP and one TYPE line before its samples' % (where, fname))
        series = (sname, tuple(sorted(labels.items())))
        if series in seen:
            raise BadExposition('%s: a second sample of %r' % (where, series))
        seen.add(series)
        fam['samples'].append((sname, labels, parse_value(value, where)))
    for name, fam in fams.items():
        if fam['type'] is None or fam['help'] is None:
            raise BadExposition('%s: no TYPE or no HELP' % name)
        if not fam['samples']:
            raise BadExposition('%s: a family with no samples' % name)
        if fam['type'] == 'counter':
            if not name.endswith('_total'):
                raise BadExposition('counter %s does not end in _total' % name)
            if any(not v >= 0 for _, _, v in fam['samples']):
                raise BadExposition('counter %s has a negative or NaN value' % name)
        elif name.endswith('_total'):
            raise BadExposition('%s %s ends in _total' % (fam['type'], name))
        if fam['type'] == 'histogram':
            check_histogram(name, fam)
        if not name.startswith('invsync_'):
            raise BadExposition('%s has no invsync_ prefix' % name)
    return fams


def val(fams, name, **labels):
    """The value of the sample name{labels}; TestFailure when there is none."""
    fname = family_of(name, fams)
    for sname, lb, v in fams[fname]['samples'] if fname else []:
        if sname == name and lb == labels:
            return v
    raise TestFailure('no sample %s%r' % (name, labels))


def counters(fams):
    return {(s, tuple(sorted(lb.items()))): v for n, f in fams.items() if f['type'] in ('counter', 'histogram')
            for s, lb, v in f['samples'] if not s.endswith('_sum')}


def read_metrics(path):
    """The file parsed strictly, or None while it does not exist yet."""
    try:
        with open(path) as fh:
            text = fh.read()
    except FileNotFoundError:
        return None
    return parse_exposition(text)


# ---------------------------------------------------------------- scenarios







def log_text(a):
    with open(a.logpath, errors='replace') as fh:
        return fh.read()


def synced_agent(ctx, **sync):
    """Two stores of 3 products, an agent writing metrics to a fresh directory, first sync
    done and in the file (its writes counted).  Returns (agent, metrics path, fams)."""
    path = os.path.join(mkdtemp('e2e-metrics-'), 'invsync.prom')
    ctx.load(catalogs(3))
    opts = {'metrics_file': path, 'catalog_refresh': '10m'}
    opts.update(sync)
    a = ctx.agent(['source', 'destination'], sync=opts)
    a.start()
    wait_until(lambda: all_primary(ctx.fake, 3), 20, interval=0.2, what='first sync')
    a.wait_synced(timeout=20)
    m = wait_metric(path, lambda m: val(m, 'invsync_links', state='in_step') == 3, 10,
                    'three links in step in the file')
    return a, path, m


def wait_metric(path, cond, timeout, what):
    """Waits until cond(fams) holds for the file as written; returns those fams."""
    def ok():
        m = read_metrics(path)
        return m if m is not None and cond(m) else None
    return wait_until(ok, timeout, interval=0.2, what=what)


POLLS = 'invsync_polls_total'
LAST_POLL = 'invsync_last_poll_success_timestamp_seconds'


def polls(m, s, result):
    return val(m, POLLS, store=s, result=result)


# ---------------------------------------------------------------- tests

BAD_TEXTS = [
    ('no newline at the end', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a 1'),
    ('no TYPE', '# HELP invsync_a x\ninvsync_a 1\n'),
    ('no HELP', '# TYPE invsync_a gauge\ninvsync_a 1\n'),
    ('two HELP lines', '# HELP invsync_a x\n# HELP invsync_a y\n# TYPE invsync_a gauge\ninvsync_a 1\n'),
    ('TYPE after the samples', '# HELP invsync_a x\ninvsync_a 1\n# TYPE invsync_a gauge\n'),
    ('a bad name', '# HELP invsync-a x\n# TYPE invsync-a gauge\ninvsync-a 1\n'),
    ('a bad sample name', '# HELP invsync_a x\n# TYPE invsync_a gauge\n9invsync_a 1\n'),
    ('a counter without _total', '# HELP invsync_a x\n# TYPE invsync_a counter\ninvsync_a 1\n'),
    ('a gauge with _total', '# HELP invsync_a_total x\n# TYPE invsync_a_total gauge\ninvsync_a_total 1\n'),
    ('an unescaped quote', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a{s="a"b"} 1\n'),
    ('a bad escape', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a{s="a\\tb"} 1\n'),
    ('a trailing comma', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a{s="a",} 1\n'),
    ('a bad label name', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a{store-name="a"} 1\n'),
    ('a bad HELP escape', '# HELP invsync_a x \\t\n# TYPE invsync_a gauge\ninvsync_a 1\n'),
    ('a bad value', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a 1,5\n'),
    ('a bad timestamp', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a 1 1.5\n'),
    ('a duplicate series', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a 1\ninvsync_a 2\n'),
    ('a family split', '# HELP invsync_a x\n# TYPE invsync_a gauge\ninvsync_a{s="1"} 1\n'
     '# HELP invsync_b x\n# TYPE invsync_b gauge\ninvsync_b 1\ninvsync_a{s="2"} 1\n'),
    ('no invsync_ prefix', '# HELP a x\n# TYPE a gauge\na 1\n'),
]
HIST = ('# HELP invsync_h x\n# TYPE invsync_h histogram\n'
        'invsync_h_bucket{le="1"} %s\ninvsync_h_bucket{le="%s"} %s\n%s')
BAD_TEXTS += [
    ('buckets not cumulative', HIST % ('2', '+Inf', '1', 'invsync_h_sum 1\ninvsync_h_count 1\n')),
    ('no +Inf bucket', HIST % ('1', '2', '1', 'invsync_h_sum 1\ninvsync_h_count 1\n')),
    ('le descending', HIST % ('1', '0.5', '1', 'invsync_h_bucket{le="+Inf"} 1\n'
                              'invsync_h_sum 1\ninvsync_h_count 1\n')),
    ('no _sum', HIST % ('1', '+Inf', '1', 'invsync_h_count 1\n')),
    ('_count not the +Inf bucket', HIST % ('1', '+Inf', '1', 'invsync_h_sum 1\ninvsync_h_count 2\n')),
]
GOOD_TEXT = ('# HELP invsync_a_total x \\\\ y\\n\n# TYPE invsync_a_total counter\n'
             'invsync_a_total{s="q\\"\\\\\\n",t="2"} 1.5e3 1700000000000\n'
             + HIST % ('1', '+Inf', '1', 'invsync_h_sum 0.5\ninvsync_h_count 1\n'))


def test_checker(ctx):
    """The strict checker itself: it takes good text and rejects each kind of bad text, so
    that its silence on the agent's files means something."""
    try:
        fams = parse_exposition(GOOD_TEXT)
    except BadExposition as e:
        raise TestFailure('the checker rejects good text: %s' % e)
    check(val(fams, 'invsync_a_total', s='q"\\\n', t='2') == 1500, 'label values unescaped')
    check(fams['invsync_a_total']['help'] == 'x \\\\ y\\n', 'HELP kept as written')
    for what, text in BAD_TEXTS:
        try:
            parse_exposition(text)
        except BadExposition:
            continue
        raise TestFailure('the checker takes %s: %r' % (what, text))


def test_sale(ctx):
    """A sale: the file parses strictly after every cycle, the destination's ok writes and
    its latency histogram grow, the last good polls are recent, counters never go back."""
    f = ctx.fake
    a, path, m0 = synced_agent(ctx)
    check(val(m0, 'invsync_build_info', version=a.cmd('version')[1].split()[1]) == 1,
          'build_info names the version: %r' % m0['invsync_build_info']['samples'])
    check(val(m0, 'invsync_paused') == 0, 'not paused')
    w0 = val(m0, 'invsync_writes_total', store='destination', result='ok')
    n0 = val(m0, 'invsync_propagation_latency_seconds_count', store='destination')
    f.op('sell', {'store': 'source', 'handle': 'item-01', 'qty': 2})
    wait_until(lambda: f.level('destination', 'item-01') == 19, 10, what='the sale propagated')
    m1 = wait_metric(path, lambda m: val(m, 'invsync_writes_total', store='destination',
                                         result='ok') > w0, 10, 'the ok writes grow')
    n1 = val(m1, 'invsync_propagation_latency_seconds_count', store='destination')
    check(n1 > n0, 'the latency histogram counted the write: %r -> %r' % (n0, n1))
    check(val(m1, 'invsync_propagation_latency_seconds_bucket', store='destination', le='60') == n1,
          'the sale took under a minute to propagate')
    now = time.time()
    for s in ('source', 'destination'):
        t = val(m1, LAST_POLL, store=s)
        check(now - 30 < t <= now + 1, '%s: the last good poll %.3f is recent (now %.3f)' % (s, t, now))
        check(polls(m1, s, 'ok') > 0 and polls(m1, s, 'failed') == 0, '%s polls: %r' % (s, m1[POLLS]))
        check(val(m1, 'invsync_api_cost_points_total', store=s) > 0, '%s: cost points spent' % s)
    check(val(m1, 'invsync_pending_batch_age_seconds') == 0, 'no batch pending')
    check(val(m1, 'invsync_uncertain_writes_total') == 0, 'no uncertain write')
    # counters never go back across cycles
    prev, stamp = counters(m1), val(m1, 'invsync_last_cycle_timestamp_seconds')
    for _ in range(3):
        m = wait_metric(path, lambda m: val(m, 'invsync_last_cycle_timestamp_seconds') > stamp, 10,
                        'a later cycle')
        stamp = val(m, 'invsync_last_cycle_timestamp_seconds')
        cur = counters(m)
        for k, v in prev.items():
            check(cur.get(k, -1) >= v, 'counter %r went from %r to %r' % (k, v, cur.get(k)))
        prev = cur
    left = [n for n in os.listdir(os.path.dirname(path)) if n != 'invsync.prom']
    check(not left, 'only the metrics file in its directory: %r' % left)
    check(oct(os.stat(path).st_mode & 0o777) == oct(0o644), 'the file is 0644')
    a.stop()


def test_store_down(ctx):
    """A store down: its failed polls grow and its last good poll stands still while the
    other store polls on; back up, its ok polls grow again, and a sale made while it was
    down shows its wait in the latency histogram."""
    f = ctx.fake
    a, path, m0 = synced_agent(ctx)
    failed0 = polls(m0, 'destination', 'failed')
    lat = 'invsync_propagation_latency_seconds'
    n0 = val(m0, lat + '_count', store='destination')
    sum0 = val(m0, lat + '_sum', store='destination')
    f.op('faults', {'store': 'destination', 'kind': '503', 'rate': 1.0, 'ops': ['query', 'mutation']})
    f.op('sell', {'store': 'source', 'handle': 'item-00', 'qty': 1})
    sold = time.monotonic()
    m1 = wait_metric(path, lambda m: polls(m, 'destination', 'failed') > failed0, 30,
                     'a failed poll of the store down')
    last1 = val(m1, LAST_POLL, store='destination')
    src1 = polls(m1, 'source', 'ok')
    m2 = wait_metric(path, lambda m: polls(m, 'destination', 'failed') > polls(m1, 'destination', 'failed')
                     and polls(m, 'source', 'ok') > src1, 40, 'another failed poll, the source polled')
    check(val(m2, LAST_POLL, store='destination') == last1,
          'the last good poll stands still while the store is down')
    check(polls(m2, 'destination', 'throttled') == 0, 'a 503 is no throttle')
    f.faults_off(['destination'])
    held = time.monotonic() - sold
    ok2 = polls(m2, 'destination', 'ok')
    m3 = wait_metric(path, lambda m: polls(m, 'destination', 'ok') > ok2, 90, 'good polls again')
    check(val(m3, LAST_POLL, store='destination') > last1, 'the last good poll moved on')
    wait_until(lambda: f.level('destination', 'item-00') == 19, 30, what='the sale propagated')
    applied = time.time()
    m4 = wait_metric(path, lambda m: val(m, 'invsync_last_cycle_timestamp_seconds') > applied, 10,
                     'a cycle after the write')
    n4, sum4 = val(m4, lat + '_count', store='destination'), val(m4, lat + '_sum', store='destination')
    check(n4 == n0 + 1, 'one write observed: %r -> %r' % (n0, n4))
    check(sum4 - sum0 >= held - 2, 'the latency %.3fs counts the %.1fs the store was down'
          % (sum4 - sum0, held))
    a.stop()


def test_throttled(ctx):
    """A store that answers only THROTTLED: its polls count as throttled, not failed."""
    f = ctx.fake
    a, path, m0 = synced_agent(ctx)
    failed0 = polls(m0, 'destination', 'failed')
    f.op('faults', {'store': 'destination', 'kind': 'throttled', 'rate': 1.0, 'ops': ['query']})
    m1 = wait_metric(path, lambda m: polls(m, 'destination', 'throttled') > 0, 60, 'a throttled poll')
    check(polls(m1, 'destination', 'failed') == failed0, 'throttled polls are not counted failed')
    f.faults_off(['destination'])
    a.stop()


def test_paused(ctx):
    """invsync pause and resume show in invsync_paused."""
    a, path, _ = synced_agent(ctx)
    wait_metric(path, lambda m: val(m, 'invsync_paused') == 0, 10, 'not paused')
    a.pause()
    wait_metric(path, lambda m: val(m, 'invsync_paused') == 1, 10, 'paused in the file')
    a.resume()
    wait_metric(path, lambda m: val(m, 'invsync_paused') == 0, 10, 'resumed in the file')
    a.stop()


def test_unwritable(ctx):
    """A metrics_file in a directory that does not exist: one warning, syncing goes on; once
    the directory exists the file is written and that is said."""
    f = ctx.fake
    top = mkdtemp('e2e-metrics-')
    path = os.path.join(top, 'missing', 'invsync.prom')
    ctx.load(catalogs(3))
    a = ctx.agent(['source', 'destination'], sync={'metrics_file': path})
    a.start()
    wait_until(lambda: all_primary(f, 3), 20, interval=0.2, what='first sync without metrics')
    a.wait_synced(timeout=20)
    f.op('sell', {'store': 'source', 'handle': 'item-02', 'qty': 1})
    wait_until(lambda: f.level('destination', 'item-02') == 21, 10, what='a sale propagated')
    a.wait_synced(timeout=20, since_ms=time.time() * 1000)
    text = log_text(a)
    n = text.count('metrics_file %s not written' % path)
    check(n == 1, 'the warning is said once, said %d times' % n)
    check('No such file or directory' in text, 'the warning says why')
    check(a.running(), 'the agent runs on')
    os.mkdir(os.path.dirname(path))
    m = wait_metric(path, lambda m: True, 10, 'the file written once the directory exists')
    check(val(m, 'invsync_links', state='in_step') == 3, 'the file says 3 links in step')
    wait_until(lambda: 'metrics_file %s: written again' % path in log_text(a), 10,
               what='the recovery said')
    check(os.listdir(top) == ['missing'], 'nothing left beside the missing directory: %r' % os.listdir(top))
    a.stop()




def free_port():
    with socket.socket() as so:
        so.bind(('127.0.0.1', 0))
        return so.getsockname()[1]


def test_node_exporter(ctx):
    """The real textfile collector reads the agent's file without an error."""
    binary = os.environ.get('NODE_EXPORTER') or pinned('prometheus-node-exporter') or \
        shutil.which('prometheus-node-exporter') or shutil.which('node_exporter')
    if not binary:
        raise Skip('no node_exporter (apt install prometheus-node-exporter, or NODE_EXPORTER=PATH)')
    a, path, _ = synced_agent(ctx)
    port = free_port()
    ne = subprocess.Popen([binary, '--collector.disable-defaults', '--collector.textfile',
                           '--collector.textfile.directory=' + os.path.dirname(path),
                           '--web.listen-address=127.0.0.1:%d' % port],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def scrape():
            try:
                with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port, timeout=5) as r:
                    return r.read().decode()
            except OSError:
                return None
        text = wait_until(scrape, 20, interval=0.2, what='node_exporter answering')
        check('node_textfile_scrape_error 0' in text.splitlines(),
              'node_exporter could not read the file: %s' % [ln for ln in text.splitlines()
                                                             if 'textfile' in ln])
        check(re.search(r'^invsync_build_info\{version="[^"]+"\} 1$', text, re.M),
              'node_exporter serves invsync_build_info')
        check(re.search(r'^invsync_polls_total\{result="ok",store="source"\} [1-9]', text, re.M),
              'node_exporter serves the polls')
    finally:
        ne.terminate()
        ne.wait(10)
    a.stop()


def test_promtool(ctx):
    """promtool check metrics (Prometheus's own linter of names, units and types) finds
    nothing to say of the agent's file."""
    binary = os.environ.get('PROMTOOL') or pinned('promtool') or shutil.which('promtool')
    if not binary:
        raise Skip('no promtool (apt install prometheus, or PROMTOOL=PATH)')
    a, path, _ = synced_agent(ctx)
    with open(path, 'rb') as fh:
        p = subprocess.run([binary, 'check', 'metrics'], stdin=fh, capture_output=True, text=True,
                           timeout=60)
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          'promtool check metrics: rc %d: %s' % (p.returncode, (p.stdout + p.stderr)[-800:]))
    a.stop()


TESTS = [(n[5:], fn) for n, fn in sorted(globals().items()) if n.startswith('test_') and callable(fn)]


def main():
    return run_suite('metrics', TESTS)


if __name__ == '__main__':
    sys.exit(main())
