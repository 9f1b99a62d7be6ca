#!/usr/bin/env python3
"""fakeshop: a faithful fake of the Shopify Admin GraphQL API for invsync's tests.

Standard library + graphql-core only. See README.md in this directory for the interface.
"""
import argparse
import base64
import bisect
import datetime
import functools
import hashlib
import http.server
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

from graphql import (GraphQLError, build_schema, execute, parse, validate, GraphQLObjectType,
                     GraphQLInterfaceType, GraphQLUnionType, GraphQLList, GraphQLNonNull)
from graphql.execution.values import get_variable_values, get_argument_values
from graphql.language import (FieldNode, InlineFragmentNode, FragmentSpreadNode,
                              OperationDefinitionNode, FragmentDefinitionNode)

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = build_schema(open(os.path.join(HERE, 'schema.graphql')).read())
SUPPORTED_VERSIONS = ['2026-01', '2026-04', '2026-07', '2026-10']
VERSION_NAMES = {'2026-01': '2026-01', '2026-04': '2026-04', '2026-07': '2026-07',
                 '2026-10': '2026-10 (Latest)', 'unstable': 'unstable'}
IDEMPOTENCY_TTL = 24 * 3600  # default key retention (store `key_ttl`)
REPLAY_MODES = ('stale', 'original', 'reexecute')
FAULT_KINDS = ('502', '503', 'reset', 'stall', 'truncate', 'invalid_json', 'wrong_types', 'oversize', 'lost_reply',
               'throttled', '429')
MAX_QUERY_COST = 1000
QUANTITY_NAMES = ('available', 'on_hand', 'committed', 'reserved', 'incoming', 'damaged',
                  'safety_stock', 'quality_control')
UNAVAILABLE = ('reserved', 'damaged', 'safety_stock', 'quality_control')
REASONS = ('correction, cycle_count_available, damaged, movement_canceled, movement_created, '
           'movement_received, movement_updated, other, promotion, quality_control, received, '
           'reservation_created, reservation_deleted, reservation_updated, restock, safety_stock, '
           'shrinkage').split(', ')
ADJUST_NAMES = ('available', 'damaged', 'incoming', 'quality_control', 'reserved', 'safety_stock')
RATE_DOC = 'https://shopify.dev/api/usage/rate-limits'
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
# 403 of a request from outside the app's IP allowlist: the status is Shopify's, the body invented
IP_BLOCKED = "[API] This request's IP address (%s) is not in the app's IP allowlist."
# token grant errors: app_not_installed's text as reported by users of the grant; the other invented
TOKEN_ERRORS = {'app_not_installed': 'The application is not installed on this shop.',
                'shop_not_permitted': 'Client credentials cannot be used for this shop.'}


def token_error_reply(spec):
    """spec: an error code, or {error, description?, status?}. Returns (status, body)."""
    if isinstance(spec, str):
        spec = {'error': spec}
    code = spec.get('error')
    if not isinstance(code, str) or not code:
        raise ValueError('token_error needs an error code')
    desc = spec.get('description', TOKEN_ERRORS.get(code))
    if desc is None:
        raise ValueError('token_error %r needs a description' % code)
    status = int(spec.get('status', 400))
    if not 400 <= status <= 599:
        raise ValueError('status must be 4xx/5xx')
    return status, {'error': code, 'error_description': desc}
BULK_MAX_RUNNING = 5        # bulk query operations at a time per shop (2026-01+)
BULK_MAX_CONNECTIONS = 5
BULK_MAX_DEPTH = 2
BULK_DELAY = 0.3            # default seconds (fake clock) from creation to completion
BULK_URL_TTL = 7 * 86400    # url/partialDataUrl lifetime
BULK_CHUNK = 3              # parents emitted per batch before their children (groupObjects:false)
BULK_KEEP_FILES = 16        # files kept per store; older finished operations lose theirs (EXPIRED)
BULK_ERROR_CODES = ('ACCESS_DENIED', 'INTERNAL_SERVER_ERROR', 'TIMEOUT')
BULK_DOC = 'https://shopify.dev/docs/api/usage/bulk-operations/queries'
BULK_DENIED_MESSAGE = ('Access denied for bulkOperationRunQuery field. This app is not allowed to run bulk '
                       'operations: enable "Allow bulk queries" for the app.')


class Clock:
    """Wall clock plus an adjustable offset (control op `clock`)."""
    def __init__(self):
        self.offset = 0.0

    def now(self):
        return time.time() + self.offset


def iso(t):
    if t is None:
        return None
    return _iso_s(int(t))


@functools.lru_cache(maxsize=65536)
def _iso_s(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def iso_ms(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


@functools.lru_cache(maxsize=4096)
def parse_time(s):
    """Returns (epoch, date_only)."""
    s = s.strip()
    date_only = bool(re.fullmatch(r'\d{4}-\d{2}-\d{2}', s))
    if date_only:
        s += 'T00:00:00Z'
    if s.endswith('Z'):
        s = s[:-1] + '+00:00'
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp(), date_only


# ---------------------------------------------------------------- model

class Tracked:
    """Mixin: updated time with a short history so a lagging search index can be emulated."""
    __slots__ = ()

    def touch(self, store, now):
        if store.index_lag > 0:
            h = self.hist or []
            h.append(self.upd)
            cut = now - store.index_lag
            # keep only the newest entry at or before the horizon, plus later ones
            i = bisect.bisect_right(h, cut)
            self.hist = h[max(0, i - 1):]
        else:
            self.hist = None
        self.upd = now

    def indexed_upd(self, store, now):
        lag = store.index_lag
        if lag <= 0 or now - self.upd >= lag:
            return self.upd
        cut = now - lag
        for t in reversed(self.hist or ()):
            if t <= cut:
                return t
        if self.created <= cut:
            return self.created
        return None   # not yet in the index at all


class Location(Tracked):
    __slots__ = ('id', 'name', 'active', 'fulfillment', 'created', 'upd', 'hist', 'levels', 'level_keys')

    def __init__(self, lid, name, now, active=True, fulfillment=False):
        self.id, self.name, self.active, self.fulfillment = lid, name, active, fulfillment
        self.created = self.upd = now
        self.hist = None
        self.levels = {}        # item id -> Level (insertion order = item id order)
        self.level_keys = []    # sorted item ids


class Product(Tracked):
    __slots__ = ('id', 'handle', 'title', 'status', 'options', 'variants', 'created', 'upd', 'hist')

    def __init__(self, pid, handle, title, status, options, now):
        self.id, self.handle, self.title, self.status, self.options = pid, handle, title, status, options
        self.variants = []
        self.created = self.upd = now
        self.hist = None


class Variant(Tracked):
    __slots__ = ('id', 'product', 'sku', 'barcode', 'opts', 'requires_components', 'item', 'created', 'upd', 'hist')

    def __init__(self, vid, product, sku, barcode, opts, requires_components, now):
        self.id, self.product, self.sku, self.barcode = vid, product, sku, barcode
        self.opts, self.requires_components = opts, requires_components
        self.item = None
        self.created = self.upd = now
        self.hist = None

    @property
    def title(self):
        return ' / '.join(v for _, v in self.opts) if self.opts else 'Default Title'


class Item(Tracked):
    __slots__ = ('id', 'variant', 'tracked', 'levels', 'created', 'upd', 'hist')

    def __init__(self, iid, variant, tracked, now):
        self.id, self.variant, self.tracked = iid, variant, tracked
        self.levels = {}        # location id -> Level
        self.created = self.upd = now
        self.hist = None


class Level(Tracked):
    __slots__ = ('id', 'item', 'loc', 'active', 'available', 'on_hand', 'committed', 'reserved',
                 'incoming', 'damaged', 'safety_stock', 'quality_control', 'qupd', 'created', 'upd', 'hist')

    def __init__(self, lvid, item, loc, available, now):
        self.id, self.item, self.loc, self.active = lvid, item, loc, True
        self.available = available
        self.on_hand = available
        self.committed = self.reserved = self.incoming = 0
        self.damaged = self.safety_stock = self.quality_control = 0
        self.qupd = {'available': now} if available else None
        self.created = self.upd = now
        self.hist = None

    @property
    def gid(self):
        return 'gid://shopify/InventoryLevel/%d?inventory_item_id=%d' % (self.id, self.item.id)

    def qget(self, name):
        return getattr(self, name)

    def qadd(self, name, delta, now):
        setattr(self, name, getattr(self, name) + delta)
        if self.qupd is None:
            self.qupd = {}
        self.qupd[name] = now


class BulkOp:
    """A bulk query operation. The file is built (snapshot) when the operation is created; the status
    follows the fake clock: CREATED, RUNNING after min(0.1 s, delay/2), then COMPLETED (or FAILED/CANCELED
    when a fault said so) once `delay` seconds have passed; EXPIRED 7 days after completion, or once
    BULK_KEEP_FILES newer files of the store hold their data (data None: evicted to bound memory)."""
    __slots__ = ('id', 'query', 'created', 'delay', 'fail', 'cancel', 'data', 'objects', 'roots', 'token')

    def __init__(self, bid, query, now, delay, fail, cancel, data, objects, roots):
        self.id, self.query, self.created, self.delay = bid, query, now, delay
        self.fail, self.cancel = fail, cancel
        self.data, self.objects, self.roots = data, objects, roots
        self.token = secrets.token_hex(16)

    def state(self, now):
        age = now - self.created
        if age <= 0:
            return 'CREATED'    # the mutation's own reply, even with delay 0
        if age >= self.delay:
            if self.fail:
                return 'FAILED'
            if self.cancel:
                return 'CANCELED'
            if age - self.delay >= BULK_URL_TTL or self.data is None:
                return 'EXPIRED'
            return 'COMPLETED'
        return 'RUNNING' if age >= min(0.1, self.delay / 2) else 'CREATED'

    def counts(self, now):
        """(objectCount, rootObjectCount) as reported now: running totals while RUNNING, half of the
        total for FAILED/CANCELED (they stopped part-way)."""
        s = self.state(now)
        if s in ('COMPLETED', 'EXPIRED'):
            return self.objects, self.roots
        if s == 'CREATED':
            return 0, 0
        if s == 'RUNNING':
            f = (now - self.created) / self.delay if self.delay > 0 else 1
        else:
            f = 0.5
        return int(self.objects * f), int(self.roots * f)

    def has_file(self, now):
        return self.state(now) == 'COMPLETED' and self.objects > 0


class Store:
    def __init__(self, fs, name, idx, cfg):
        self.fs = fs
        self.name = name
        self.shop = cfg.get('shop') or '%s.myshopify.com' % name
        self.title = cfg.get('title') or name
        self.timezone = cfg.get('timezone', 'Europe/Berlin')
        self.tokens = {}
        tok = cfg.get('token', 'shpat_' + name)
        if tok:
            self.tokens[tok] = None
        self.client_id = cfg.get('client_id', 'client-' + name)
        self.client_secret = cfg.get('client_secret', 'secret-' + name)
        self.token_ttl = cfg.get('token_ttl', 86399)
        self.scopes = list(cfg.get('scopes', ['read_inventory', 'write_inventory', 'read_products', 'read_locations']))
        b = cfg.get('bucket', {})
        self.bucket_max = float(b.get('max', 2000))
        self.restore = float(b.get('restore', 100))
        self.bucket = self.bucket_max
        self.bucket_t = time.monotonic()
        self.throttle_status = int(b.get('status', 200))
        self.index_lag = float(cfg.get('index_lag', 0))
        # a level's id without "?inventory_item_id=" (control op level_gids; no capture shows it)
        self.bare_level_gids = bool(cfg.get('bare_level_gids', False))
        # idempotency keys: kept key_ttl seconds (0: forgotten at once); each lookup of a known
        # key forgets it first with probability key_evict; a replay of a key whose request
        # succeeded answers `replay`: stale (CHANGE_FROM_QUANTITY_STALE, as seen live), original
        # (the original result again) or reexecute (runs again, under compare-and-set)
        self.key_ttl = float(cfg.get('key_ttl', IDEMPOTENCY_TTL))
        self.key_evict = float(cfg.get('key_evict', 0))
        self.replay = cfg.get('replay', 'stale')
        if self.replay not in REPLAY_MODES or self.key_ttl < 0 or not 0 <= self.key_evict <= 1:
            raise ValueError('bad key_ttl/key_evict/replay')
        self.clock_skew = float(cfg.get('clock_skew', 0))    # this store's clock = fake clock + skew
        # productVariantsCount answers null (nullable in 2026-07) instead of a Count
        self.variants_count_null = bool(cfg.get('variants_count_null', False))
        self.faults = []
        self.rng = random.Random('%s/%s' % (fs.seed, name))
        r = self.rng
        self.next = {
            'Product': 10220000000000 + idx * 3000000000 + r.randrange(1000000),
            'ProductVariant': 51360000000000 + idx * 3000000000 + r.randrange(1000000),
            'InventoryItem': 53460000000000 + idx * 3000000000 + r.randrange(1000000),
            'Location': 106300000000 + idx * 30000000 + r.randrange(100000),
            'InventoryLevel': 143200000000 + idx * 300000000 + r.randrange(1000000),
            'InventoryAdjustmentGroup': 54640000000000 + idx * 3000000000 + r.randrange(1000000),
            # own RNG: adding it must not move the fault RNG's sequence
            'BulkOperation': 5010000000000 + idx * 3000000000 +
                             random.Random('bulk/%s/%s' % (fs.seed, name)).randrange(1000000),
        }
        self.locations = {}
        self.products = {}
        self.by_handle = {}
        self.variants = {}
        self.items = {}
        self.levels = {}
        self.idem = {}          # key -> [params, status, time]
        self.inflight = {}      # key -> request id
        self.log = []
        self.stats = {'requests': {}, 'requested_cost': 0, 'actual_cost': 0, 'throttled': 0,
                      'faults': 0, 'writes': 0, 'bulk_ops': 0, 'bulk_downloads': 0,
                      'by_op': {}}      # operation name -> {'requests', 'actual_cost', 'throttled'}
        self.level_reads = {}       # level gid -> times a query returned it (the bench)
        self.before = []            # one-shot [operation name, control op, body] (op_before)
        self.bulk_ops = {}          # number -> BulkOp
        self.bulk_files = {}        # url token -> BulkOp
        self.bulk_delay = BULK_DELAY
        self.bulk_fail = None       # one-shot: error code for the next operation
        self.bulk_cancel = False    # one-shot: the next operation ends CANCELED
        self.bulk_truncate = False  # one-shot: the next file GET is cut in half
        self.bulk_expired = False   # sticky: file GETs answer 403 ExpiredToken
        # sticky: bulkOperationRunQuery answers top-level ACCESS_DENIED (app without bulk access)
        self.bulk_access = bool(cfg.get('bulk_access', True))
        # sticky: every bulkOperationRunQuery answers userError LIMIT_REACHED (operations never start)
        self.bulk_limit_reached = bool(cfg.get('bulk_limit_reached', False))
        # IP allowlist: GraphQL requests with a valid token answer 403 (and the token grant, if ip_block_token)
        self.ip_blocked = bool(cfg.get('ip_blocked', False))
        self.ip_block_token = bool(cfg.get('ip_block_token', False))
        # token grant failure: None, or (status, {"error": code, "error_description": text})
        self.token_error = None
        if cfg.get('token_error'):
            self.token_error = token_error_reply(cfg['token_error'])
        now = self.now()
        for loc in cfg.get('locations', [{'name': 'Main Warehouse'}]):
            self.add_location(loc['name'], now, loc.get('active', True), loc.get('fulfillment_service', False))
        for p in cfg.get('products', []):
            self.add_product(p, now)

    def now(self):
        """The store's own clock: updatedAt, createdAt, search, token expiry, the Date header."""
        return self.fs.clock.now() + self.clock_skew

    def nid(self, kind):
        self.next[kind] += 1
        return self.next[kind]

    def add_location(self, name, now, active=True, fulfillment=False):
        loc = Location(self.nid('Location'), name, now, active, fulfillment)
        self.locations[loc.id] = loc
        return loc

    def loc_by_name(self, name):
        for loc in self.locations.values():
            if loc.name == name:
                return loc
        return None

    def add_level(self, item, loc, available, now):
        return self.attach_level(Level(self.nid('InventoryLevel'), item, loc, available, now))

    def attach_level(self, lv):
        item, loc = lv.item, lv.loc
        self.levels[lv.id] = lv
        item.levels[loc.id] = lv
        loc.levels[item.id] = lv
        if loc.level_keys and loc.level_keys[-1] > item.id:
            bisect.insort(loc.level_keys, item.id)
        else:
            loc.level_keys.append(item.id)
        return lv

    def add_product(self, p, now):
        handle = p['handle']
        if handle in self.by_handle:
            raise ValueError('duplicate handle %r in store %s' % (handle, self.name))
        prod = Product(self.nid('Product'), handle, p.get('title', handle), p.get('status', 'ACTIVE').upper(),
                       tuple(p.get('options', [])), now)
        self.products[prod.id] = prod
        self.by_handle[handle] = prod
        for v in p.get('variants', [{}]):
            opts = v.get('options', {})
            var = Variant(self.nid('ProductVariant'), prod, v.get('sku', ''), v.get('barcode'),
                          tuple((k, opts[k]) for k in prod.options if k in opts) or tuple(opts.items()),
                          bool(v.get('requires_components', False)), now)
            prod.variants.append(var)
            self.variants[var.id] = var
            item = Item(self.nid('InventoryItem'), var, bool(v.get('tracked', True)), now)
            var.item = item
            self.items[item.id] = item
            levels = v.get('levels')
            if levels is None:
                levels = {self.first_location().name: 0}
            inactive = set(v.get('inactive', ()))
            for lname, qty in levels.items():
                loc = self.loc_by_name(lname)
                if loc is None:
                    raise ValueError('unknown location %r in store %s' % (lname, self.name))
                lv = self.add_level(item, loc, int(qty), now)
                lv.active = lname not in inactive
        return prod

    def first_location(self):
        return next(iter(self.locations.values()))

    def refill(self):
        t = time.monotonic()
        self.bucket = min(self.bucket_max, self.bucket + (t - self.bucket_t) * self.restore)
        self.bucket_t = t

    def throttle_status_obj(self):
        def num(x):
            return int(x) if x == int(x) else x
        return {'maximumAvailable': num(self.bucket_max), 'currentlyAvailable': int(self.bucket),
                'restoreRate': num(self.restore)}

    def count(self, kind):
        self.stats['requests'][kind] = self.stats['requests'].get(kind, 0) + 1

    def op_stat(self, op, opname):
        """stats['by_op'][name]: the bench's points by operation (reads, writes, sweeps)."""
        name = op.name.value if op.name else (opname or '(anonymous)')
        return self.stats['by_op'].setdefault(name, {'requests': 0, 'actual_cost': 0, 'throttled': 0})

    def add_log(self, entry):
        t = self.fs.clock.now()
        e = {'time': iso_ms(t), 't': t}
        e.update(entry)
        self.log.append(e)
        return e


# ---------------------------------------------------------------- search syntax

TERM_RE = re.compile(r'''\s*(?:(OR|AND)\b|(-|NOT\s+)?(?:([A-Za-z_]+):(>=|<=|>|<|=)?)?('([^']*)'|"([^"]*)"|([^\s()]+)))''')


def parse_search(q):
    """Returns a list of OR-groups, each a list of (neg, field, op, value, quoted)."""
    groups, cur = [], []
    pos = 0
    q = q or ''
    while pos < len(q):
        if q[pos:].strip() == '':
            break
        m = TERM_RE.match(q, pos)
        if not m or m.end() == pos:
            pos += 1
            continue
        pos = m.end()
        if m.group(1) == 'OR':
            groups.append(cur)
            cur = []
            continue
        if m.group(1) == 'AND':
            continue
        neg = bool(m.group(2))
        field = (m.group(3) or '').lower()
        op = m.group(4) or ':'
        quoted = m.group(6) is not None or m.group(7) is not None
        val = m.group(6) if m.group(6) is not None else (m.group(7) if m.group(7) is not None else m.group(8))
        cur.append((neg, field, op, val, quoted))
    groups.append(cur)
    return [g for g in groups if g] or [[]]


def gid_num(v):
    m = re.search(r'(\d+)(\?.*)?$', str(v))
    return int(m.group(1)) if m else None


def term_match(getters, obj, field, op, val, quoted, ctx):
    g = getters.get(field)
    if g is None:
        return True     # Shopify ignores unknown filters (with a search warning)
    kind, fn = g
    have = fn(obj, ctx)
    if kind == 'time':
        if have is None:
            return False
        try:
            t, date_only = parse_time(val)
        except ValueError:
            return False
        if op in (':', '='):
            if date_only:
                return t <= have < t + 86400
            return int(have) == int(t)
        return {'>': have > t, '>=': have >= t, '<': have < t, '<=': have <= t}[op]
    if kind == 'int':
        vals = [gid_num(x) for x in val.split(',')]
        if op in (':', '='):
            return have in vals
        v = vals[0]
        return {'>': have > v, '>=': have >= v, '<': have < v, '<=': have <= v}[op]
    # string / enum, comma list = any of
    opts = [x.strip().lower() for x in val.split(',')]
    if have is None:
        return False
    have = str(have).lower()
    if val.endswith('*'):
        return have.startswith(val[:-1].lower())
    return have in opts


def make_filter(query, getters, ctx):
    groups = parse_search(query)
    if groups == [[]]:
        return None

    def f(obj):
        for g in groups:
            ok = True
            for neg, field, op, val, quoted in g:
                if field == '':
                    field = 'default'
                r = term_match(getters, obj, field, op, val, quoted, ctx)
                if r == neg:
                    ok = False
                    break
            if ok:
                return True
        return False
    return f


def _upd(o, ctx):
    return o.indexed_upd(ctx.store, ctx.now)


LEVEL_SEARCH = {'updated_at': ('time', _upd), 'created_at': ('time', lambda o, c: o.created),
                'id': ('int', lambda o, c: o.id), 'inventory_item_id': ('int', lambda o, c: o.item.id),
                'location_id': ('int', lambda o, c: o.loc.id)}
ITEM_SEARCH = {'updated_at': ('time', _upd), 'created_at': ('time', lambda o, c: o.created),
               'id': ('int', lambda o, c: o.id), 'sku': ('str', lambda o, c: o.variant.sku)}
PRODUCT_SEARCH = {'updated_at': ('time', _upd), 'created_at': ('time', lambda o, c: o.created),
                  'id': ('int', lambda o, c: o.id), 'handle': ('str', lambda o, c: o.handle),
                  'status': ('str', lambda o, c: o.status), 'title': ('str', lambda o, c: o.title),
                  'sku': ('str', lambda o, c: None), 'default': ('str', lambda o, c: o.title)}
VARIANT_SEARCH = {'updated_at': ('time', _upd), 'created_at': ('time', lambda o, c: o.created),
                  'id': ('int', lambda o, c: o.id), 'sku': ('str', lambda o, c: o.sku),
                  'barcode': ('str', lambda o, c: o.barcode), 'product_id': ('int', lambda o, c: o.product.id),
                  'handle': ('str', lambda o, c: o.product.handle),
                  'product_status': ('str', lambda o, c: o.product.status),
                  'status': ('str', lambda o, c: o.product.status),
                  'inventory_item_id': ('int', lambda o, c: o.item.id), 'default': ('str', lambda o, c: o.sku)}
LOCATION_SEARCH = {'id': ('int', lambda o, c: o.id), 'name': ('str', lambda o, c: o.name),
                   'active': ('str', lambda o, c: 'true' if o.active else 'false'),
                   'default': ('str', lambda o, c: o.name)}


def _product_sku_match(o, c):
    return None


# ---------------------------------------------------------------- connections

def b64(s):
    return base64.b64encode(s.encode()).decode()


def connection(items, key, args, ctx, flt=None):
    """items: a list of objects sorted ascending by key(obj). Inside a bulk operation (ctx.bulk) there is
    no paging: {'nodes': every matching object}."""
    if ctx.bulk:
        seq = reversed(items) if args.get('reverse') else items
        return {'nodes': list(seq) if flt is None else [o for o in seq if flt(o)]}
    first, last = args.get('first'), args.get('last')
    if first is None and last is None:
        raise GraphQLError('you must provide one of first or last', extensions={'code': 'BAD_REQUEST'})
    for n in (first, last):
        if n is not None and (n < 0 or n > 250):
            raise GraphQLError('The maximum number of items per page is 250.', extensions={'code': 'BAD_REQUEST'})
    seq = items if not args.get('reverse') else list(reversed(items))
    rev = bool(args.get('reverse'))

    def after_ok(o, cur):
        return key(o) < cur if rev else key(o) > cur

    def dec(c):
        try:
            return json.loads(base64.b64decode(c))['last_id']
        except Exception:
            raise GraphQLError('Invalid cursor for current pagination sort.', extensions={'code': 'BAD_REQUEST'})
    after = dec(args['after']) if args.get('after') else None
    before = dec(args['before']) if args.get('before') else None
    out = []
    has_prev = has_next = False
    if first is not None:
        start = 0
        if after is not None and not rev and items is seq:
            keys = ctx.keys_cache(items, key)
            start = bisect.bisect_right(keys, after)
        for o in seq[start:] if start else seq:
            if after is not None and not after_ok(o, after):
                continue
            if before is not None and after_ok(o, before) is not False and not (key(o) < before if not rev else key(o) > before):
                break
            if flt is not None and not flt(o):
                continue
            if len(out) == first:
                has_next = True
                break
            out.append(o)
        has_prev = after is not None
    else:
        cand = []
        for o in seq:
            if before is not None and not (key(o) < before if not rev else key(o) > before):
                break
            if after is not None and not after_ok(o, after):
                continue
            if flt is not None and not flt(o):
                continue
            cand.append(o)
        out = cand[-last:] if last else []
        has_prev = len(cand) > len(out)
        has_next = before is not None
    curs = [b64(json.dumps({'last_id': key(o), 'last_value': key(o)}, separators=(',', ':'))) for o in out]
    return {'edges': [{'cursor': c, 'node': o} for c, o in zip(curs, out)], 'nodes': out,
            'pageInfo': {'hasNextPage': has_next, 'hasPreviousPage': has_prev,
                         'startCursor': curs[0] if curs else None, 'endCursor': curs[-1] if curs else None}}


# ---------------------------------------------------------------- GraphQL resolvers

class Ctx:
    def __init__(self, fs, store, version, req_id):
        self.fs, self.store, self.version, self.req_id = fs, store, version, req_id
        self.now = store.now()
        self.fnow = self.now - store.clock_skew     # the fake clock: bulk operation lifecycles
        self._keys = {}
        self.variables = {}
        self.bulk = False       # resolving a bulk query: connections return every node
        self.host = None        # Host header of the request (for bulk file URLs)
        self.op_name = None     # GraphQL operation name of the request
        self.pending_levels = {}    # (item id, location id) -> Level a 2026-10 write would create

    def keys_cache(self, items, key):
        k = id(items)
        if k not in self._keys:
            self._keys[k] = [key(o) for o in items]
        return self._keys[k]


def need_scope(info, scope, what=None):
    st = info.context.store
    ok = scope in st.scopes or (scope.startswith('read_') and 'write_' + scope[5:] in st.scopes)
    if not ok:
        name = what or info.field_name
        raise GraphQLError('Access denied for %s field. Required access: `%s` access scope.' % (name, scope),
                           extensions={'code': 'ACCESS_DENIED',
                                       'documentation': 'https://shopify.dev/api/usage/access-scopes',
                                       'requiredAccess': '`%s` access scope.' % scope})


def lookup(store, gid, kind):
    if not isinstance(gid, str):
        return None
    m = re.fullmatch(r'gid://shopify/(\w+)/(\d+)(\?inventory_item_id=(\d+))?', gid)
    if not m or m.group(1) != kind:
        return None
    n = int(m.group(2))
    table = {'Product': store.products, 'ProductVariant': store.variants, 'InventoryItem': store.items,
             'Location': store.locations, 'InventoryLevel': store.levels, 'BulkOperation': store.bulk_ops}[kind]
    o = table.get(n)
    if kind == 'InventoryLevel' and o is not None and m.group(4) and int(m.group(4)) != o.item.id:
        return None
    return o


def node_by_gid(store, gid):
    m = re.fullmatch(r'gid://shopify/(\w+)/(\d+)(\?.*)?', gid or '')
    if not m or m.group(1) not in ('Product', 'ProductVariant', 'InventoryItem', 'Location', 'InventoryLevel',
                                   'BulkOperation'):
        return None
    return lookup(store, gid, m.group(1))


def typename(o):
    return {Product: 'Product', Variant: 'ProductVariant', Item: 'InventoryItem', Location: 'Location',
            Level: 'InventoryLevel', BulkOp: 'BulkOperation'}.get(type(o))


def gid(o):
    if isinstance(o, Level):
        return o.gid
    return 'gid://shopify/%s/%d' % (typename(o), o.id)


def sorted_by_id(d):
    return list(d.values())


def levels_of_location(loc, args, ctx):
    inc = args.get('includeInactive', False)
    items = [loc.levels[i] for i in loc.level_keys]
    base = make_filter(args.get('query'), LEVEL_SEARCH, ctx)
    flt = (lambda o: (inc or o.active) and (base is None or base(o)))
    return connection(items, lambda o: o.item.id, args, ctx, flt)


def levels_of_item(item, args, ctx):
    inc = args.get('includeInactive', False)
    items = sorted(item.levels.values(), key=lambda l: l.id)
    base = make_filter(args.get('query'), LEVEL_SEARCH, ctx)
    flt = (lambda o: (inc or o.active) and (base is None or base(o)))
    return connection(items, lambda o: o.id, args, ctx, flt)


def R_query(field):
    def deco(fn):
        RESOLVERS[('QueryRoot', field)] = fn
        return fn
    return deco


RESOLVERS = {}
R = RESOLVERS


@R_query('shop')
def _shop(root, info):
    st = info.context.store
    return {'id': 'gid://shopify/Shop/%d' % (60000000000 + st.next['Location'] % 1000000), 'name': st.title,
            'myshopifyDomain': st.shop, 'ianaTimezone': st.timezone, 'timezoneOffset': '+0000',
            'timezoneOffsetMinutes': 0}


@R_query('publicApiVersions')
def _versions(root, info):
    return [{'handle': v, 'displayName': VERSION_NAMES[v], 'supported': True} for v in SUPPORTED_VERSIONS] + \
        [{'handle': 'unstable', 'displayName': 'unstable', 'supported': False}]


@R_query('currentAppInstallation')
def _install(root, info):
    st = info.context.store
    return {'id': 'gid://shopify/AppInstallation/%d' % (700000000 + len(st.name)),
            'accessScopes': [{'handle': s, 'description': s.replace('_', ' ')} for s in st.scopes]}


@R_query('locations')
def _locations(root, info, **a):
    need_scope(info, 'read_locations')
    ctx = info.context
    base = make_filter(a.get('query'), LOCATION_SEARCH, ctx)
    inc, leg = a.get('includeInactive', False), a.get('includeLegacy', False)
    locs = list(ctx.store.locations.values())
    if a.get('sortKey', 'NAME') == 'NAME':
        locs.sort(key=lambda l: (l.name, l.id))
        keyf = lambda l: [l.name, l.id]
    else:
        keyf = lambda l: l.id
    flt = lambda l: (inc or l.active) and (leg or not l.fulfillment) and (base is None or base(l))
    return connection(locs, keyf, a, ctx, flt)


@R_query('location')
def _location(root, info, id=None):
    need_scope(info, 'read_locations')
    st = info.context.store
    if id is None:
        return st.first_location()
    return lookup(st, id, 'Location')


@R_query('inventoryLevel')
def _inventory_level(root, info, id):
    need_scope(info, 'read_inventory')
    return lookup(info.context.store, id, 'InventoryLevel')


@R_query('inventoryItem')
def _inventory_item(root, info, id):
    need_scope(info, 'read_inventory')
    return lookup(info.context.store, id, 'InventoryItem')


@R_query('inventoryItems')
def _inventory_items(root, info, **a):
    need_scope(info, 'read_inventory')
    ctx = info.context
    return connection(list(ctx.store.items.values()), lambda o: o.id, a, ctx,
                      make_filter(a.get('query'), ITEM_SEARCH, ctx))


@R_query('node')
def _node(root, info, id):
    return node_by_gid(info.context.store, id)


@R_query('nodes')
def _nodes(root, info, ids):
    if len(ids) > 250:
        raise GraphQLError('The input array size of %d is greater than the maximum allowed of 250.' % len(ids),
                           extensions={'code': 'MAX_INPUT_SIZE_EXCEEDED'})
    return [node_by_gid(info.context.store, i) for i in ids]


@R_query('products')
def _products(root, info, **a):
    need_scope(info, 'read_products')
    ctx = info.context
    return connection(list(ctx.store.products.values()), lambda o: o.id, a, ctx,
                      make_filter(a.get('query'), PRODUCT_SEARCH, ctx))


@R_query('product')
def _product(root, info, id):
    need_scope(info, 'read_products')
    return lookup(info.context.store, id, 'Product')


@R_query('productVariants')
def _variants(root, info, **a):
    need_scope(info, 'read_products')
    ctx = info.context
    return connection(list(ctx.store.variants.values()), lambda o: o.id, a, ctx,
                      make_filter(a.get('query'), VARIANT_SEARCH, ctx))


@R_query('productVariantsCount')
def _variants_count(root, info, query=None, limit=10000):
    need_scope(info, 'read_products')
    ctx = info.context
    if ctx.store.variants_count_null:
        return None     # the field is nullable (Count, not Count!); control op variants_count
    flt = make_filter(query, VARIANT_SEARCH, ctx)
    vs = ctx.store.variants
    if flt is None:
        n = len(vs)
    else:
        n = 0
        for v in vs.values():
            if flt(v):
                n += 1
                if limit is not None and n > limit:
                    break
    if limit is not None and n > max(limit, 0):
        return {'count': max(limit, 0), 'precision': 'AT_LEAST'}
    return {'count': n, 'precision': 'EXACT'}


@R_query('bulkOperation')
def _bulk_operation(root, info, id):
    return lookup(info.context.store, id, 'BulkOperation')


@R_query('productVariant')
def _variant(root, info, id):
    need_scope(info, 'read_products')
    return lookup(info.context.store, id, 'ProductVariant')


@R_query('productByIdentifier')
def _by_ident(root, info, identifier):
    need_scope(info, 'read_products')
    st = info.context.store
    if identifier.get('id'):
        return lookup(st, identifier['id'], 'Product')
    if identifier.get('handle') is not None:
        return st.by_handle.get(identifier['handle'])
    raise GraphQLError('Invalid identifier', extensions={'code': 'BAD_REQUEST'})


def _field(tname, fname):
    def deco(fn):
        R[(tname, fname)] = fn
        return fn
    return deco


for _t in ('Product', 'ProductVariant', 'InventoryItem', 'Location', 'InventoryLevel'):
    R[(_t, 'id')] = lambda o, info: gid(o)
    R[(_t, 'createdAt')] = lambda o, info: iso(o.created)
    R[(_t, 'updatedAt')] = lambda o, info: iso(o.upd)
    R[(_t, 'legacyResourceId')] = lambda o, info: str(o.id)

R[('InventoryLevel', 'id')] = lambda o, info: ('gid://shopify/InventoryLevel/%d' % o.id
                                               if info.context.store.bare_level_gids else o.gid)
R[('Location', 'isActive')] = lambda o, info: o.active
R[('Location', 'isFulfillmentService')] = lambda o, info: o.fulfillment


@_field('Location', 'inventoryLevels')
def _loc_levels(o, info, **a):
    need_scope(info, 'read_inventory', 'inventoryLevels')
    return levels_of_location(o, a, info.context)


@_field('Location', 'inventoryLevel')
def _loc_level(o, info, inventoryItemId, includeInactive=False):
    need_scope(info, 'read_inventory', 'inventoryLevel')
    n = gid_num(inventoryItemId) if 'InventoryItem/' in str(inventoryItemId) else None
    lv = o.levels.get(n)
    return lv if lv is not None and (lv.active or includeInactive) else None


R[('InventoryLevel', 'isActive')] = lambda o, info: o.active
R[('InventoryLevel', 'canDeactivate')] = lambda o, info: len(o.item.levels) > 1
R[('InventoryLevel', 'location')] = lambda o, info: o.loc


@_field('InventoryLevel', 'quantities')
def _quantities(o, info, names):
    out = []
    for n in names:
        if n not in QUANTITY_NAMES:
            raise GraphQLError('The quantity name %s is invalid.' % n, extensions={'code': 'BAD_REQUEST'})
        u = (o.qupd or {}).get(n) if n != 'on_hand' else None
        out.append({'id': 'gid://shopify/InventoryQuantity/%d?inventory_item_id=%d&name=%s' % (o.id, o.item.id, n),
                    'name': n, 'quantity': getattr(o, n), 'updatedAt': iso(u)})
    return out


R[('InventoryItem', 'sku')] = lambda o, info: o.variant.sku
R[('InventoryItem', 'requiresShipping')] = lambda o, info: True


@_field('InventoryItem', 'inventoryLevels')
def _item_levels(o, info, **a):
    return levels_of_item(o, a, info.context)


@_field('InventoryItem', 'inventoryLevel')
def _item_level(o, info, locationId, includeInactive=False):
    n = gid_num(locationId) if 'Location/' in str(locationId) else None
    lv = o.levels.get(n)
    return lv if lv is not None and (lv.active or includeInactive) else None


@_field('Product', 'variants')
def _prod_variants(o, info, **a):
    return connection(o.variants, lambda v: v.id, a, info.context)


R[('Product', 'tracksInventory')] = lambda o, info: any(v.item.tracked for v in o.variants)
R[('Product', 'totalInventory')] = lambda o, info: sum(l.available for v in o.variants if v.item.tracked
                                                       for l in v.item.levels.values())
R[('Product', 'hasOnlyDefaultVariant')] = lambda o, info: len(o.variants) == 1 and not o.variants[0].opts
R[('ProductVariant', 'selectedOptions')] = lambda o, info: [{'name': k, 'value': v} for k, v in o.opts] or \
    [{'name': 'Title', 'value': 'Default Title'}]
R[('ProductVariant', 'requiresComponents')] = lambda o, info: o.requires_components
R[('ProductVariant', 'inventoryItem')] = lambda o, info: o.item
R[('ProductVariant', 'position')] = lambda o, info: o.product.variants.index(o) + 1
R[('ProductVariant', 'inventoryQuantity')] = lambda o, info: sum(l.available for l in o.item.levels.values())


def field_resolver(source, info, **args):
    fn = RESOLVERS.get((info.parent_type.name, info.field_name))
    if fn is not None:
        return fn(source, info, **args)
    if isinstance(source, dict):
        return source.get(info.field_name)
    return getattr(source, info.field_name, None)


def type_resolver(value, info, abstract_type):
    return typename(value)


# ---------------------------------------------------------------- mutations

def _err(field, message, code):
    return {'field': field, 'message': message, 'code': code}


def _idempotency(info, args):
    """Checks @idempotent; returns the key."""
    node = info.field_nodes[0]
    d = next((d for d in node.directives if d.name.value == 'idempotent'), None)
    if d is None:
        raise GraphQLError('The @idempotent directive is required for this mutation but was not provided.',
                           nodes=[node], path=info.path.as_list(), extensions={'code': 'BAD_REQUEST'})
    from graphql.execution.values import get_directive_values
    from graphql import GraphQLDirective
    key = None
    for a in d.arguments:
        if a.name.value == 'key':
            v = a.value
            key = info.variable_values.get(v.name.value) if v.kind == 'variable' else getattr(v, 'value', None)
    if key is None or not str(key).strip():
        raise GraphQLError('The idempotency key cannot be an empty string or whitespace only.',
                           nodes=[node], path=info.path.as_list(), extensions={'code': 'BAD_REQUEST'})
    return str(key)


def _require_cfq(info, entries, type_name):
    for e in entries:
        if 'changeFromQuantity' not in e:
            node = info.field_nodes[0]
            locs = [node]
            arg = next((a for a in node.arguments if a.name.value == 'input'), None)
            if arg is not None:
                if arg.value.kind == 'variable':
                    op = info.operation
                    vd = next((v for v in op.variable_definitions if v.variable.name.value == arg.value.name.value), None)
                    locs.append(vd or arg)
                else:
                    locs.append(arg)
            raise GraphQLError('%s must include the following argument: changeFromQuantity.' % type_name,
                               nodes=locs, path=info.path.as_list(), extensions={'code': 'INVALID_FIELD_ARGUMENTS'})


class Rejected(Exception):
    def __init__(self, errors):
        self.errors = errors


def _write(info, field, args, entries_key, build):
    """Common frame of the idempotent inventory mutations. build(ctx, input) -> (changes, errors, noop_ok).
    changes: list of (level, name, delta, ledger) to apply atomically."""
    ctx = info.context
    st = ctx.store
    need_scope(info, 'write_inventory')
    key = _idempotency(info, args)
    inp = args['input']
    entry_type = {'changes': 'InventoryChangeInput', 'quantities': 'InventoryQuantityInput'}[entries_key]
    _require_cfq(info, inp.get(entries_key) or [], entry_type)
    params = json.dumps([field, args], sort_keys=True, default=str)
    now = ctx.now
    rec = st.idem.get(key)
    forgot = None
    if rec is not None and now - rec[2] >= st.key_ttl:
        forgot = 'expired'
    elif rec is not None and st.key_evict > 0 and st.rng.random() < st.key_evict:
        forgot = 'evicted'
    if forgot:
        del st.idem[key]
        rec = None
    entries = inp.get(entries_key) or []
    log = {'kind': 'write', 'mutation': field, 'key': key, 'name': inp.get('name'), 'reason': inp.get('reason'),
           'changes': [{k: v for k, v in e.items()} for e in entries],
           # per change: did it carry a changeFromQuantity (compare-and-set)?  explicit null = no
           'cas': [e.get('changeFromQuantity') is not None for e in entries],
           'recv': time.time(), 'req_id': ctx.req_id, 'version': ctx.version}
    if forgot:
        log['key_forgotten'] = forgot
    st.stats['writes'] += 1

    def done(outcome, errors, group=None):
        log['outcome'] = outcome
        st.add_log(log)
        return {'inventoryAdjustmentGroup': group, 'userErrors': errors}
    owner = st.inflight.get(key)
    if owner is not None and owner != ctx.req_id:
        return done('IDEMPOTENCY_CONCURRENT_REQUEST', [_err(None, 'This request is currently in progress, please try again.',
                                                           'IDEMPOTENCY_CONCURRENT_REQUEST')])
    if rec is not None:
        if rec[0] != params:
            return done('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', [_err(
                None, 'The request with this idempotency key has different parameters than the original request.',
                'IDEMPOTENCY_KEY_PARAMETER_MISMATCH')])
        if rec[1] == 'failed':
            return done('IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED', [_err(
                None, 'A previous request with this idempotency key failed. Retry with a new idempotency key.',
                'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED')])
        if st.replay == 'original':     # the original result again, nothing written
            return done('replay:original', [], rec[3] if len(rec) > 3 else None)
        if st.replay == 'reexecute':    # runs again under compare-and-set, like a new request
            rec = None
            log['replay'] = 'reexecute'
    if rec is not None:
        # replay of a request that succeeded: answered as seen live, nothing written
        errs = [_err(['input', entries_key, str(i), 'changeFromQuantity'],
                     'The changeFromQuantity argument no longer matches the persisted quantity.',
                     'CHANGE_FROM_QUANTITY_STALE') for i, e in enumerate(inp.get(entries_key) or [])]
        return done('replay:CHANGE_FROM_QUANTITY_STALE', errs)
    changes, errors = build(ctx, inp)
    if errors:
        st.idem[key] = [params, 'failed', now]
        return done('userErrors:' + ','.join(sorted({e['code'] for e in errors})), errors)
    rec = st.idem[key] = [params, 'succeeded', now, None]
    changes = [c for c in changes if c[2] != 0]
    if not changes:
        return done('noop', [])
    out = []
    touched = set()
    applied = []
    for lv, name, delta, ledger, cfq in changes:
        if lv.id not in st.levels:      # 2026-10+: first write at a location that never stocked the item
            st.attach_level(lv)
            log.setdefault('created_levels', []).append(lv.gid)
        before = lv.qget(name)
        lv.qadd(name, delta, now)
        applied.append({'item_id': lv.item.id, 'location_id': lv.loc.id, 'location': lv.loc.name,
                        'handle': lv.item.variant.product.handle, 'sku': lv.item.variant.sku, 'name': name,
                        'delta': delta, 'change_from': cfq, 'cas': cfq is not None,
                        'before': before, 'after': lv.qget(name), 'active': lv.active})
        if name != 'on_hand':
            out.append({'name': name, 'delta': delta, 'quantityAfterChange': None, 'ledgerDocumentUri': ledger,
                        'item': lv.item, 'location': lv.loc})
        if name in ('available',) + UNAVAILABLE:
            lv.on_hand += delta
            out.append({'name': 'on_hand', 'delta': delta, 'quantityAfterChange': None, 'ledgerDocumentUri': None,
                        'item': lv.item, 'location': lv.loc})
        elif name == 'on_hand':   # setting on_hand moves available; listed available first (as captured)
            lv.qadd('available', delta, now)
            out.append({'name': 'available', 'delta': delta, 'quantityAfterChange': None, 'ledgerDocumentUri': None,
                        'item': lv.item, 'location': lv.loc})
            out.append({'name': 'on_hand', 'delta': delta, 'quantityAfterChange': None, 'ledgerDocumentUri': ledger,
                        'item': lv.item, 'location': lv.loc})
        if lv.id not in touched:
            touched.add(lv.id)
            lv.touch(st, now)
    group = {'id': 'gid://shopify/InventoryAdjustmentGroup/%d' % st.nid('InventoryAdjustmentGroup'),
             'createdAt': iso(now), 'reason': inp.get('reason'),
             'referenceDocumentUri': inp.get('referenceDocumentUri'), 'changes': out}
    log['applied'] = applied
    rec[3] = group
    return done('applied', [], group)


def writes_anywhere(version):
    """2026-10 removed ITEM_NOT_STOCKED_AT_LOCATION (docs/shopify-api.md §11): quantities can be adjusted at
    any location, a deactivated level included. Older versions still answer it."""
    return version == 'unstable' or version >= '2026-10'


def _resolve_pair(ctx, e, i, entries_key, errors, group_errors=True):
    st = ctx.store
    item = lookup(st, e.get('inventoryItemId'), 'InventoryItem')
    loc = lookup(st, e.get('locationId'), 'Location')
    if item is None:
        errors.append(_err(['input', entries_key, str(i), 'inventoryItemId'],
                           'The specified inventory item could not be found.', 'INVALID_INVENTORY_ITEM'))
    if loc is None:
        errors.append(_err(['input', entries_key, str(i), 'locationId'],
                           'The specified location could not be found.', 'INVALID_LOCATION'))
    if item is None or loc is None:
        return None
    if item.variant.requires_components:
        errors.append(_err(['input', entries_key, str(i), 'inventoryItemId'],
                           'The specified inventory item is not allowed to be adjusted via API. '
                           'Example: if the inventory item is a parent bundle.', 'NON_MUTABLE_INVENTORY_ITEM'))
        return None
    if not item.tracked:
        errors.append(_err(['input', entries_key, str(i), 'inventoryItemId'],
                           'The specified inventory item is not tracked.', 'INVALID_INVENTORY_ITEM'))
        return None
    lv = item.levels.get(loc.id)
    if writes_anywhere(ctx.version):
        if lv is None:  # never stocked there: a new (active) level, registered only if the write is applied
            lv = ctx.pending_levels.get((item.id, loc.id))
            if lv is None:
                lv = ctx.pending_levels[(item.id, loc.id)] = Level(st.nid('InventoryLevel'), item, loc, 0, ctx.now)
        return lv
    if lv is None or not lv.active:     # 2026-07 and older: a deactivated level is not stocked
        errors.append(_err(['input', entries_key, str(i), 'locationId'],
                           'The inventory item is not stocked at the location.', 'ITEM_NOT_STOCKED_AT_LOCATION'))
        return None
    return lv


def _check_reason(inp, errors):
    if inp.get('reason') not in REASONS:
        errors.append(_err(['input', 'reason'], 'The specified reason is invalid. Valid values are: %s.'
                           % ', '.join(REASONS), 'INVALID_REASON'))


def _build_adjust(ctx, inp):
    st = ctx.store
    errors = []
    name = inp['name']
    _check_reason(inp, errors)
    if name not in ADJUST_NAMES:
        errors.append({'field': ['input', 'name'], 'message': 'The specified quantity name is invalid. Valid values '
                       'are: %s.' % ', '.join(ADJUST_NAMES), 'code': 'INVALID_QUANTITY_NAME'})
        return [], errors
    chs = inp['changes']
    ledgers = set()
    for i, e in enumerate(chs):
        led = e.get('ledgerDocumentUri')
        f = ['input', 'changes', str(i), 'ledgerDocumentUri']
        if name == 'available' and led is not None:
            errors.append(_err(f, 'A ledger document URI is not allowed when adjusting available.',
                               'INVALID_AVAILABLE_DOCUMENT'))
        elif name != 'available' and led is None:
            errors.append(_err(f, 'A ledger document URI is required except when adjusting available.',
                               'INVALID_QUANTITY_DOCUMENT'))
        elif led is not None and led.startswith('gid://shopify/'):
            errors.append(_err(f, 'Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API.',
                               'INTERNAL_LEDGER_DOCUMENT'))
        ledgers.add(led)
    if len(ledgers) > 1:
        errors.append(_err(['input', 'changes'], 'All changes must have the same ledger document URI or, in the case '
                           'of adjusting available, no ledger document URI.', 'MAX_ONE_LEDGER_DOCUMENT'))
    if errors:
        return [], errors
    out = []
    stale = []
    for i, e in enumerate(chs):
        lv = _resolve_pair(ctx, e, i, 'changes', errors)
        if lv is None:
            continue
        cur = lv.qget(name)
        if e['changeFromQuantity'] is not None and e['changeFromQuantity'] != cur:
            stale.append(_err(['input', 'changes', str(i), 'changeFromQuantity'],
                              'The changeFromQuantity argument no longer matches the persisted quantity.',
                              'CHANGE_FROM_QUANTITY_STALE'))
            continue
        after = cur + e['delta']
        if after > 2000000000:
            errors.append(_err(['input', 'changes', str(i), 'delta'], "The quantity can't be higher than 2,000,000,000.",
                               'INVALID_QUANTITY_TOO_HIGH'))
        elif after < -2000000000:
            errors.append(_err(['input', 'changes', str(i), 'delta'], "The quantity can't be lower than -2,000,000,000.",
                               'INVALID_QUANTITY_TOO_LOW'))
        out.append((lv, name, e['delta'], e.get('ledgerDocumentUri'), e['changeFromQuantity']))
    return out, errors + stale


def _build_set(ctx, inp):
    st = ctx.store
    errors = []
    name = inp['name']
    _check_reason(inp, errors)
    if name not in ('available', 'on_hand'):
        errors.append(_err(['input', 'name'], "The quantity name must be either 'available' or 'on_hand'.", 'INVALID_NAME'))
        return [], errors
    qs = inp['quantities']
    seen = {}
    for i, e in enumerate(qs):
        k = (e['inventoryItemId'], e['locationId'])
        seen.setdefault(k, []).append(i)
    for k, idxs in seen.items():
        if len(idxs) > 1:
            for i in idxs:
                errors.append(_err(['input', 'quantities', str(i), 'locationId'],
                                   'The combination of inventoryItemId and locationId must be unique.',
                                   'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR'))
    for i, e in enumerate(qs):
        q = e['quantity']
        f = ['input', 'quantities', str(i), 'quantity']
        if q > 1000000000:
            errors.append(_err(f, "The quantity can't be higher than 1,000,000,000.", 'INVALID_QUANTITY_TOO_HIGH'))
        elif q < -1000000000:
            errors.append(_err(f, "The quantity can't be lower than -1,000,000,000.", 'INVALID_QUANTITY_TOO_LOW'))
        elif q < 0 and name == 'on_hand':
            errors.append(_err(f, "The quantity can't be negative.", 'INVALID_QUANTITY_NEGATIVE'))
    if errors:
        return [], errors
    out, stale = [], []
    for i, e in enumerate(qs):
        lv = _resolve_pair(ctx, e, i, 'quantities', errors)
        if lv is None:
            continue
        cur = lv.qget(name)
        if e['changeFromQuantity'] is not None and e['changeFromQuantity'] != cur:
            stale.append(_err(['input', 'quantities', str(i), 'changeFromQuantity'],
                              'The changeFromQuantity argument no longer matches the persisted quantity.',
                              'CHANGE_FROM_QUANTITY_STALE'))
            continue
        out.append((lv, name, e['quantity'] - cur, None, e['changeFromQuantity']))
    return out, errors + stale


def _adjust(root, info, **args):
    return _write(info, 'inventoryAdjustQuantities', args, 'changes', _build_adjust)


def _set(root, info, **args):
    return _write(info, 'inventorySetQuantities', args, 'quantities', _build_set)


def _activate(root, info, inventoryItemId, locationId, available=None, onHand=None, stockAtLegacyLocation=False):
    ctx = info.context
    st = ctx.store
    need_scope(info, 'write_inventory')
    _idempotency(info, {})
    item = lookup(st, inventoryItemId, 'InventoryItem')
    loc = lookup(st, locationId, 'Location')
    errs = []
    if item is None:
        errs.append({'field': ['inventoryItemId'], 'message': 'The specified inventory item could not be found.'})
    if loc is None:
        errs.append({'field': ['locationId'], 'message': 'The specified location could not be found.'})
    if errs:
        return {'inventoryLevel': None, 'userErrors': errs}
    if available is not None and onHand is not None:
        return {'inventoryLevel': None, 'userErrors': [
            {'field': ['available'], 'message': "The product couldn't be stocked at %s because not allowed to set "
             "available and on_hand quantities at the same time." % loc.name},
            {'field': ['onHand'], 'message': "The product couldn't be stocked at %s because not allowed to set "
             "available and on_hand quantities at the same time." % loc.name}]}
    lv = item.levels.get(loc.id)
    now = ctx.now
    if lv is not None and lv.active:
        if available is not None:
            return {'inventoryLevel': lv, 'userErrors': [{'field': ['available'], 'message':
                    'Not allowed to set available quantity when the item is already active at the location.'}]}
        if onHand is not None:
            return {'inventoryLevel': lv, 'userErrors': [{'field': ['onHand'], 'message':
                    'Not allowed to set an on_hand quantity when the item is already active at the location.'}]}
        return {'inventoryLevel': lv, 'userErrors': []}
    if lv is None:
        lv = st.add_level(item, loc, 0, now)
    lv.active = True
    q = available if available is not None else onHand
    if q:
        lv.qadd('available', q - lv.available, now)
        lv.on_hand = lv.available + lv.committed + sum(getattr(lv, n) for n in UNAVAILABLE)
    lv.touch(st, now)
    st.add_log({'kind': 'write', 'mutation': 'inventoryActivate', 'item_id': item.id, 'location_id': loc.id,
                'outcome': 'applied'})
    return {'inventoryLevel': lv, 'userErrors': []}


R[('Mutation', 'inventoryAdjustQuantities')] = _adjust
R[('Mutation', 'inventorySetQuantities')] = _set
R[('Mutation', 'inventoryActivate')] = _activate
R[('InventoryChange', 'item')] = lambda o, info: o['item']
R[('InventoryChange', 'location')] = lambda o, info: o['location']


# ---------------------------------------------------------------- bulk operations

class BulkInvalid(Exception):
    pass


class _BulkInfo:
    """The part of GraphQLResolveInfo the resolvers use (context, field_name), for bulk execution."""
    __slots__ = ('context', 'field_name')

    def __init__(self, ctx, name):
        self.context, self.field_name = ctx, name


class _BulkField:
    """One selected field of a bulk query plan. kind: 'scalar', 'object', 'list' (of objects), 'conn'."""
    __slots__ = ('key', 'name', 'kind', 'get', 'sub')


_PAGING_ARGS = ('first', 'last', 'after', 'before')
_JSONL = json.JSONEncoder(separators=(',', ':'))


def _bulk_collect(nodes, ptype, frags, out=None):
    """Fields selected on ptype by the selection sets of `nodes` (FieldNodes or operations), by response
    key in first-seen order, fragments that apply to ptype merged in."""
    out = {} if out is None else out
    ifaces = {i.name for i in getattr(ptype, 'interfaces', ())}

    def walk(ss):
        if ss is None:
            return
        for sel in ss.selections:
            if isinstance(sel, FieldNode):
                out.setdefault(sel.alias.value if sel.alias else sel.name.value, []).append(sel)
                continue
            if isinstance(sel, FragmentSpreadNode):
                fd = frags.get(sel.name.value)
                if fd is None:
                    continue
                tc, sub = fd.type_condition.name.value, fd.selection_set
            else:
                tc, sub = (sel.type_condition.name.value if sel.type_condition else None), sel.selection_set
            if tc is None or tc == ptype.name or tc in ifaces:
                walk(sub)
    for n in nodes:
        walk(n.selection_set)
    return out


def _bulk_getter(ctx, ptype, name, args):
    fn = RESOLVERS.get((ptype.name, name))
    if fn is None:
        return lambda src: src.get(name) if isinstance(src, dict) else getattr(src, name, None)
    info = _BulkInfo(ctx, name)
    if args:
        return lambda src: fn(src, info, **args)
    return lambda src: fn(src, info)


def _bulk_compile(ctx, nodes, ptype, frags, depth, in_list, state):
    """Plan (list of _BulkField) for the selections of `nodes` on ptype; depth = connections enclosing
    it. Returns (plan, names of the connections below, not counting those inside another connection)."""
    plan, conns = [], []
    for key, fnodes in _bulk_collect(nodes, ptype, frags).items():
        f = _BulkField()
        f.key, f.name, f.sub = key, fnodes[0].name.value, None
        if f.name == '__typename':
            tn = ptype.name
            f.kind, f.get = 'scalar', (lambda src: tn)
            plan.append(f)
            continue
        fdef = ptype.fields[f.name]
        args = get_argument_values(fdef, fnodes[0], {})
        nt, lst = _unwrap(fdef.type)
        if not _is_obj(nt):
            f.kind, f.get = 'scalar', _bulk_getter(ctx, ptype, f.name, args)
        elif nt.name.endswith('Connection') and 'pageInfo' in nt.fields:
            if in_list:
                raise BulkInvalid('Queries that contain a connection field within a list field are not '
                                  'currently supported.')
            state['connections'] += 1
            if depth + 1 > BULK_MAX_DEPTH:
                raise BulkInvalid('Bulk queries cannot contain connections with a nesting depth greater '
                                  'than %d.' % BULK_MAX_DEPTH)
            node_type = _unwrap(nt.fields['nodes'].type)[0]
            cs = _bulk_collect(fnodes, nt, frags)
            node_nodes = []
            for k, cn in cs.items():
                if cn[0].name.value == 'nodes':
                    node_nodes += cn
                elif cn[0].name.value == 'edges':
                    et = _unwrap(nt.fields['edges'].type)[0]
                    for k2, en in _bulk_collect(cn, et, frags).items():
                        if en[0].name.value == 'node':
                            node_nodes += en
            if not node_nodes:
                raise BulkInvalid("The connection '%s' must select 'edges { node }' or 'nodes'." % f.name)
            sub, nested = _bulk_compile(ctx, node_nodes, node_type, frags, depth + 1, False, state)
            if nested and not any(x.key == 'id' and x.name == 'id' for x in sub):
                raise BulkInvalid("The parent 'node' field for a nested connection must select the 'id' field "
                                  "without an alias and must be of 'ID' return type. Connection fields without "
                                  "'id': %s." % ', '.join(nested))
            cargs = {k: v for k, v in args.items() if k not in _PAGING_ARGS}
            f.kind, f.get, f.sub = 'conn', _bulk_getter(ctx, ptype, f.name, cargs), sub
            conns.append(f.name)
        else:
            f.sub, nested = _bulk_compile(ctx, fnodes, nt, frags, depth, in_list or lst, state)
            conns += nested
            f.kind, f.get = ('list' if lst else 'object'), _bulk_getter(ctx, ptype, f.name, args)
        plan.append(f)
    return plan, conns


def bulk_plan(ctx, text):
    """Validates a bulk query (bulkOperationRunQuery's `query`); returns its plan or raises BulkInvalid."""
    doc, verrs, ops = get_doc(text)
    if doc is None or verrs:
        raise BulkInvalid(verrs[0]['message'])
    if len(ops) != 1:
        raise BulkInvalid('A bulk query must contain exactly one operation.')
    op = ops[0]
    if op.operation.value != 'query':
        raise BulkInvalid('Bulk queries must be query operations; bulk mutations use bulkOperationRunMutation.')
    if op.variable_definitions:
        raise BulkInvalid('Bulk queries cannot declare variables.')
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    for key, fnodes in _bulk_collect([op], SCHEMA.query_type, frags).items():
        if fnodes[0].name.value in ('node', 'nodes'):
            raise BulkInvalid('Bulk queries cannot contain a top level `node` or `nodes` field.')
    state = {'connections': 0}
    plan, _ = _bulk_compile(ctx, [op], SCHEMA.query_type, frags, 0, False, state)
    if state['connections'] == 0:
        raise BulkInvalid('Bulk queries must contain at least one connection.')
    if state['connections'] > BULK_MAX_CONNECTIONS:
        raise BulkInvalid('Bulk queries cannot contain more than %d connections (this one has %d).'
                          % (BULK_MAX_CONNECTIONS, state['connections']))
    return plan


def _bulk_obj(src, plan, pend):
    """The line object of src; connections found below are queued in pend as (field, source)."""
    d = {}
    for f in plan:
        k = f.kind
        if k == 'conn':
            pend.append((f, src))
            continue
        v = f.get(src)
        if v is not None and k != 'scalar':
            if k == 'object':
                v = _bulk_obj(v, f.sub, pend)
            else:
                v = [None if x is None else _bulk_obj(x, f.sub, pend) for x in v]
        d[f.key] = v
    return d


def bulk_build(ctx, plan, chunk):
    """Runs a bulk plan now (the snapshot). Returns (jsonl bytes, object count, root object count).
    Every node of a connection is a line; nodes of a connection inside another connection's node carry
    "__parentId". Parents are emitted `chunk` at a time, each batch followed by the children of its
    parents (chunk 1 = every parent directly followed by its children)."""
    out = []
    n = [0, 0]
    enc = _JSONL.encode

    def flush(buf):
        for d, _ in buf:
            out.append(enc(d))
        n[0] += len(buf)
        for d, pend in buf:
            for f, src in pend:
                emit(f, src, d['id'])

    def emit(f, src, parent):
        res = f.get(src)
        buf = []
        sub = f.sub
        for o in res['nodes']:
            pend = []
            d = _bulk_obj(o, sub, pend)
            if parent is not None:
                d['__parentId'] = parent
            else:
                n[1] += 1
            buf.append((d, pend))
            if len(buf) >= chunk:
                flush(buf)
                buf = []
        flush(buf)
    ctx.bulk = True
    try:
        pend = []
        _bulk_obj(None, plan, pend)     # root fields; only the connections below produce lines
        for f, src in pend:
            emit(f, src, None)
    finally:
        ctx.bulk = False
    if not out:
        return b'', 0, 0
    out.append('')
    return '\n'.join(out).encode(), n[0], n[1]


def _bulk_run_query(root, info, query, groupObjects=False):
    ctx = info.context
    st = ctx.store
    log = {'kind': 'bulk_operation', 'operation': ctx.op_name, 'query': query, 'groupObjects': groupObjects}

    def reject(field, message, code):
        log['outcome'] = 'userErrors:' + code
        log['message'] = message
        st.add_log(log)
        return {'bulkOperation': None, 'userErrors': [_err(field, message, code)]}
    if not st.bulk_access:      # control op bulk {access: false}; message invented
        log['outcome'] = 'ACCESS_DENIED'
        st.add_log(log)
        raise GraphQLError(BULK_DENIED_MESSAGE, nodes=info.field_nodes, path=info.path.as_list(),
                           extensions={'code': 'ACCESS_DENIED', 'documentation': BULK_DOC})
    try:
        plan = bulk_plan(ctx, query)
    except BulkInvalid as e:
        return reject(['query'], 'Invalid bulk query: %s' % e, 'INVALID')
    if st.bulk_limit_reached:   # control op bulk {limit_reached: true}: the limit never frees
        return reject(None, 'A bulk query operation for this app and shop is already in progress: %d of %d '
                      'allowed at a time. Try again when one has finished.' % (BULK_MAX_RUNNING, BULK_MAX_RUNNING),
                      'LIMIT_REACHED')
    busy = [o for o in st.bulk_ops.values() if o.state(ctx.fnow) in ('CREATED', 'RUNNING')]
    if len(busy) >= BULK_MAX_RUNNING:
        return reject(None, 'A bulk query operation for this app and shop is already in progress: %d of %d '
                      'allowed at a time (%s). Try again when one has finished.'
                      % (len(busy), BULK_MAX_RUNNING, ', '.join(gid(o) for o in busy)), 'LIMIT_REACHED')
    fail = None
    try:
        data, objects, roots = bulk_build(ctx, plan, 1 if groupObjects else BULK_CHUNK)
    except GraphQLError as e:
        if (e.extensions or {}).get('code') != 'ACCESS_DENIED':
            return reject(['query'], 'Invalid bulk query: %s' % e.message, 'INVALID')
        # Shopify accepts the operation and it fails with errorCode ACCESS_DENIED
        fail, data, objects, roots = 'ACCESS_DENIED', b'', 0, 0
    fail = fail or st.bulk_fail
    cancel = st.bulk_cancel and not fail
    st.bulk_fail, st.bulk_cancel = None, False
    op = BulkOp(st.nid('BulkOperation'), query, ctx.fnow, st.bulk_delay, fail, cancel, data, objects, roots)
    st.bulk_ops[op.id] = op
    st.bulk_files[op.token] = op
    held = [o for o in st.bulk_ops.values() if o.data]
    for o in held[:-BULK_KEEP_FILES]:
        if o.state(ctx.fnow) not in ('CREATED', 'RUNNING'):
            o.data = None
    st.stats['bulk_ops'] += 1
    log.update({'outcome': 'created', 'id': gid(op), 'objects': objects, 'root_objects': roots,
                'bytes': len(data), 'delay': op.delay, 'fail': fail, 'cancel': cancel})
    st.add_log(log)
    return {'bulkOperation': op, 'userErrors': []}


def _bulk_url(o, info):
    ctx = info.context
    if not o.has_file(ctx.fnow):
        return None
    host = ctx.host or ctx.fs.api_host or 'localhost'
    return 'https://%s/bulk/%s/%s.jsonl' % (host, urllib.parse.quote(ctx.store.name, safe=''), o.token)


R[('Mutation', 'bulkOperationRunQuery')] = _bulk_run_query
R[('BulkOperation', 'id')] = lambda o, info: gid(o)
R[('BulkOperation', 'type')] = lambda o, info: 'QUERY'
R[('BulkOperation', 'status')] = lambda o, info: o.state(info.context.fnow)
R[('BulkOperation', 'errorCode')] = lambda o, info: o.fail if o.state(info.context.fnow) == 'FAILED' else None
R[('BulkOperation', 'objectCount')] = lambda o, info: str(o.counts(info.context.fnow)[0])
R[('BulkOperation', 'rootObjectCount')] = lambda o, info: str(o.counts(info.context.fnow)[1])
R[('BulkOperation', 'fileSize')] = lambda o, info: str(len(o.data)) if o.has_file(info.context.fnow) else None
R[('BulkOperation', 'url')] = _bulk_url
R[('BulkOperation', 'partialDataUrl')] = lambda o, info: None
R[('BulkOperation', 'createdAt')] = lambda o, info: iso(o.created + info.context.store.clock_skew)
R[('BulkOperation', 'completedAt')] = lambda o, info: iso(o.created + o.delay + info.context.store.clock_skew) \
    if o.state(info.context.fnow) in ('COMPLETED', 'EXPIRED') else None


# ---------------------------------------------------------------- cost

def _unwrap(t):
    lst = False
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        if isinstance(t, GraphQLList):
            lst = True
        t = t.of_type
    return t, lst


def _arg(node, name, variables):
    for a in node.arguments:
        if a.name.value == name:
            v = a.value
            if v.kind == 'variable':
                return variables.get(v.name.value)
            if v.kind == 'int_value':
                return int(v.value)
            if v.kind == 'list_value':
                return v.values
    return None


def _is_obj(t):
    return isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType))


def sel_cost(ss, ptype, variables, frags, data=None, actual=False):
    """Requested cost (actual=False) or actual cost of `data` (actual=True) of a selection set.
    Rules fitted to the captures: object 1, list of objects 1 (UserError lists 0), connection
    2 + first x (1 + node selection), PageInfo 0, scalars 0."""
    if ss is None:
        return 0
    plain = 0
    frag_max = 0
    for s in ss.selections:
        if isinstance(s, FieldNode):
            plain += _field_cost(s, ptype, variables, frags, data, actual)
        else:
            if isinstance(s, FragmentSpreadNode):
                fd = frags.get(s.name.value)
                if fd is None:
                    continue
                tc, sub = SCHEMA.get_type(fd.type_condition.name.value), fd.selection_set
            else:
                tc = SCHEMA.get_type(s.type_condition.name.value) if s.type_condition else ptype
                sub = s.selection_set
            if actual and data is not None and tc is not None and isinstance(tc, GraphQLObjectType) \
                    and data.get('__fake_type') not in (None, tc.name):
                continue
            frag_max = max(frag_max, sel_cost(sub, tc, variables, frags, data, actual))
    return plain + frag_max


def _field_cost(s, ptype, variables, frags, data, actual):
    name = s.name.value
    if name.startswith('__') or not hasattr(ptype, 'fields'):
        return 0
    f = ptype.fields.get(name)
    if f is None:
        return 0
    nt, lst = _unwrap(f.type)
    if not _is_obj(nt):
        return 0
    key = s.alias.value if s.alias else name
    val = None
    if actual:
        if data is None:
            return 0
        val = data.get(key)
        if val is None:
            return 0
    if nt.name == 'PageInfo':
        return 0
    if nt.name.endswith('Connection') and 'pageInfo' in nt.fields:
        node_cost = 0
        count = _arg(s, 'first', variables) or _arg(s, 'last', variables) or 0
        for c in s.selection_set.selections:
            if not isinstance(c, FieldNode):
                continue
            if c.name.value == 'nodes':
                et = _unwrap(nt.fields['nodes'].type)[0]
                ck = c.alias.value if c.alias else 'nodes'
                if actual:
                    node_cost = max(node_cost, sum(1 + sel_cost(c.selection_set, et, variables, frags, x, True)
                                                   for x in val.get(ck) or []))
                else:
                    node_cost = max(node_cost, count * (1 + sel_cost(c.selection_set, et, variables, frags)))
            elif c.name.value == 'edges':
                et = _unwrap(nt.fields['edges'].type)[0]
                ck = c.alias.value if c.alias else 'edges'
                for e in c.selection_set.selections:
                    if isinstance(e, FieldNode) and e.name.value == 'node':
                        nt2 = _unwrap(et.fields['node'].type)[0]
                        nk = e.alias.value if e.alias else 'node'
                        if actual:
                            node_cost = max(node_cost, sum(1 + sel_cost(e.selection_set, nt2, variables, frags,
                                                                        x.get(nk), True) for x in val.get(ck) or []))
                        else:
                            node_cost = max(node_cost, count * (1 + sel_cost(e.selection_set, nt2, variables, frags)))
        return 2 + node_cost
    if lst:
        base = 0 if nt.name.endswith('UserError') or nt.name == 'UserError' else 1
        if name == 'nodes' and ptype.name == 'QueryRoot':
            ids = _arg(s, 'ids', variables) or []
            if actual:
                return sum(1 + sel_cost(s.selection_set, nt, variables, frags, x, True) for x in val if x)
            return len(ids) * (1 + sel_cost(s.selection_set, nt, variables, frags))
        if actual:
            return base + max([sel_cost(s.selection_set, nt, variables, frags, x, True) for x in val if x] or [0])
        return base + sel_cost(s.selection_set, nt, variables, frags)
    return 1 + sel_cost(s.selection_set, nt, variables, frags, val, actual)


def op_cost(doc, op, variables, data=None, actual=False):
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    if op.operation.value == 'mutation':
        tot = 0
        for s in op.selection_set.selections:
            if not isinstance(s, FieldNode) or s.name.value.startswith('__'):
                continue
            f = SCHEMA.mutation_type.fields.get(s.name.value)
            nt = _unwrap(f.type)[0]
            k = s.alias.value if s.alias else s.name.value
            if actual:
                v = (data or {}).get(k)
                tot += max(10, 9 + (sel_cost(s.selection_set, nt, variables, frags, v, True) if v else 0))
            else:
                tot += max(10, 9 + sel_cost(s.selection_set, nt, variables, frags))
        return tot
    return sel_cost(op.selection_set, SCHEMA.query_type, variables, frags, data, actual)


# ---------------------------------------------------------------- request processing

DOC_CACHE = {}
DOC_LOCK = threading.Lock()


def _shopify_validation_error(e):
    d = e.formatted
    m = re.match(r"Cannot query field '(\w+)' on type '(\w+)'\.", e.message)
    if m:
        d = {'message': "Field '%s' doesn't exist on type '%s'" % (m.group(1), m.group(2)),
             'locations': d.get('locations'), 'path': None,
             'extensions': {'code': 'undefinedField', 'typeName': m.group(2), 'fieldName': m.group(1)}}
        d['path'] = ['query']
        return d
    d = {'message': e.message, 'locations': d.get('locations'), 'extensions': {'code': 'GRAPHQL_VALIDATION_FAILED'}}
    return d


def get_doc(text):
    hit = DOC_CACHE.get(text)
    if hit is not None:
        return hit
    try:
        doc = parse(text)
    except GraphQLError as e:
        res = (None, [{'message': e.message, 'locations': e.formatted.get('locations'),
                       'extensions': {'code': 'PARSE_ERROR'}}], None)
    else:
        errs = validate(SCHEMA, doc)
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        res = (doc, [_shopify_validation_error(e) for e in errs], ops)
    with DOC_LOCK:
        if len(DOC_CACHE) > 5000:
            DOC_CACHE.clear()
        DOC_CACHE[text] = res
    return res


def _variable_errors(op, variables):
    r = get_variable_values(SCHEMA, op.variable_definitions, variables or {})
    if isinstance(r, dict):
        return None
    out = []
    for e in r:
        m = re.match(r"Variable '\$(\w+)' got invalid value (.*?)(?: at '([^']*)')?; (.*)$", e.message, re.S)
        if not m:
            out.append({'message': e.message, 'locations': e.formatted.get('locations'),
                        'extensions': {'code': 'INVALID_VARIABLE'}})
            continue
        var, path, expl = m.group(1), m.group(3), m.group(4)
        vd = next(v for v in op.variable_definitions if v.variable.name.value == var)
        from graphql import print_ast
        tname = print_ast(vd.type)
        rel = path.split('.')[1:] if path else []
        rel = [x.split('[')[0] for x in rel]
        fm = re.match(r"Field '(\w+)' is not defined by type '(\w+)'\.", expl)
        if fm:
            expl = 'Field is not defined on %s' % fm.group(2)
            rel = rel + [fm.group(1)]
        out.append({'message': 'Variable $%s of type %s was provided invalid value%s (%s)' %
                    (var, tname, (' for ' + '.'.join(rel)) if rel else '', expl),
                    'locations': e.formatted.get('locations'),
                    'extensions': {'code': 'INVALID_VARIABLE', 'value': (variables or {}).get(var),
                                   'problems': [{'path': rel, 'explanation': expl}]}})
    return out


def idempotency_keys(doc, op, variables):
    keys = []
    for s in op.selection_set.selections:
        if isinstance(s, FieldNode):
            for d in s.directives:
                if d.name.value == 'idempotent':
                    for a in d.arguments:
                        if a.name.value == 'key':
                            v = a.value
                            k = (variables or {}).get(v.name.value) if v.kind == 'variable' else getattr(v, 'value', None)
                            if k:
                                keys.append(str(k))
    return keys


def format_error(e):
    d = {'message': e.message}
    f = e.formatted
    if f.get('locations'):
        d['locations'] = f['locations']
    if e.extensions:
        d['extensions'] = e.extensions
    if f.get('path') is not None:
        d['path'] = f['path']
    return d


def resolve_version(v):
    if v in SUPPORTED_VERSIONS or v == 'unstable':
        return v
    return SUPPORTED_VERSIONS[0]


class FakeShop:
    """In-process control of the fake. Every control op is a method; op(name, body) dispatches."""

    def __init__(self, seed=1):
        self.seed = seed
        self.clock = Clock()
        self.lock = threading.RLock()
        self.stores = {}
        self.req_seq = 0
        self.api_host = None    # 'localhost:<port>' once serve() runs (bulk URLs without a Host header)
        self.hooks = {}         # receiver name -> [request records] (alerts, pings: /hook/<name>)
        self.hook_modes = {}    # receiver name -> {'status', 'retry_after', 'stall'}

    # ------------------------------------------------ helpers
    def store(self, name):
        st = self.stores.get(name)
        if st is None:
            raise KeyError('unknown store %r' % name)
        return st

    def _level(self, b):
        st = self.store(b['store'])
        prod = st.by_handle.get(b['handle'])
        if prod is None:
            raise KeyError('unknown handle %r' % b['handle'])
        if b.get('sku') is not None:
            var = next((v for v in prod.variants if v.sku == b['sku']), None)
            if var is None:
                raise KeyError('unknown sku %r' % b['sku'])
        else:
            var = prod.variants[0]
        loc = st.loc_by_name(b['location']) if b.get('location') else None
        if b.get('location') and loc is None:
            raise KeyError('unknown location %r' % b['location'])
        if loc is None:
            lv = next(iter(var.item.levels.values()), None)
        else:
            lv = var.item.levels.get(loc.id)
        if lv is None:
            raise KeyError('variant not stocked at that location')
        return st, lv

    def op(self, name, body=None):
        fn = getattr(self, 'op_' + name, None)
        if fn is None:
            raise KeyError('unknown op %r' % name)
        with self.lock:
            return fn(body or {})

    # ------------------------------------------------ ops
    def op_reset(self, b):
        self.stores = {}
        self.clock.offset = 0.0
        self.hooks = {}
        self.hook_modes = {}
        return {'ok': True}

    # -- the receiver of alerts and pings (any method on /hook/<name>[/...][?query])
    def hook_receive(self, method, path, headers, body, scheme):
        """Records one request to /hook/<name>...; returns (status, extra headers, stall seconds)."""
        parts = urllib.parse.urlsplit(path)
        name = parts.path[len('/hook/'):].split('/')[0]
        with self.lock:
            mode = dict(self.hook_modes.get(name) or {})
            self.hooks.setdefault(name, []).append({
                'method': method, 'path': parts.path, 'query': parts.query, 'scheme': scheme,
                'headers': {k.lower(): v for k, v in headers.items()},
                'body': body.decode('utf-8', 'replace'), 'time': time.time(),
                'status': int(mode.get('status', 200))})
        extra = {}
        if mode.get('retry_after') is not None:
            extra['Retry-After'] = str(mode['retry_after'])
        return int(mode.get('status', 200)), extra, float(mode.get('stall', 0))

    def op_hooks(self, b):
        """{name?, clear?}: the requests a receiver got (all receivers' without name)."""
        name = b.get('name')
        got = list(self.hooks.get(name, [])) if name is not None else \
            [dict(r, name=n) for n, rs in self.hooks.items() for r in rs]
        if b.get('clear'):
            if name is None:
                self.hooks = {}
            else:
                self.hooks.pop(name, None)
        return {'ok': True, 'requests': got}

    def op_hook_mode(self, b):
        """{name, status? (200), retry_after?, stall? (seconds before answering)}."""
        mode = {'status': int(b.get('status', 200)), 'retry_after': b.get('retry_after'),
                'stall': float(b.get('stall', 0))}
        if not 100 <= mode['status'] <= 599:
            raise ValueError('status must be an HTTP status')
        self.hook_modes[str(b['name'])] = mode
        return {'ok': True}

    def op_seed(self, b):
        self.seed = int(b['n'])
        for st in self.stores.values():
            st.rng = random.Random('%s/%s' % (self.seed, st.name))
        return {'ok': True, 'seed': self.seed}

    def op_load(self, b):
        self.op_reset({})
        if 'seed' in b:
            self.seed = int(b['seed'])
        for s in b.get('stores', []):
            self.stores[s['name']] = Store(self, s['name'], len(self.stores), s)
        return {'ok': True, 'stores': list(self.stores)}

    def op_add_store(self, b):
        if b['name'] in self.stores:
            raise ValueError('store exists')
        self.stores[b['name']] = Store(self, b['name'], len(self.stores), b)
        return {'ok': True}

    def op_add_product(self, b):
        st = self.store(b['store'])
        p = st.add_product(b['product'], st.now())
        return {'ok': True, 'product_id': gid(p)}

    def op_add_location(self, b):
        st = self.store(b['store'])
        loc = st.add_location(b['name'], st.now(), b.get('active', True), b.get('fulfillment_service', False))
        return {'ok': True, 'location_id': gid(loc)}

    def op_location_rename(self, b):
        st = self.store(b['store'])
        loc = st.loc_by_name(b['name'])
        if loc is None:
            raise KeyError('unknown location %r' % b['name'])
        loc.name = b['new_name']
        return {'ok': True}

    def op_generate(self, b):
        name = b['store']
        if name not in self.stores:
            self.stores[name] = Store(self, name, len(self.stores), {'locations': []})
        st = self.stores[name]
        now = st.now()
        nloc = int(b.get('locations', 1))
        while len(st.locations) < nloc:
            st.add_location('Location %d' % (len(st.locations) + 1), now)
        locs = list(st.locations.values())[:nloc]
        q = int(b.get('quantity', 10))
        prefix = b.get('prefix', 'gen')
        nv = int(b.get('variants_per_product', 1))
        start = len(st.products)
        for i in range(int(b.get('products', 1))):
            n = start + i + 1
            prod = Product(st.nid('Product'), '%s-product-%06d' % (prefix, n), 'Generated product %d' % n,
                           'ACTIVE', ('Size',) if nv > 1 else (), now)
            st.products[prod.id] = prod
            st.by_handle[prod.handle] = prod
            for j in range(nv):
                var = Variant(st.nid('ProductVariant'), prod, '%s-%06d-%02d' % (prefix.upper(), n, j + 1),
                              None, (('Size', 'S%d' % (j + 1)),) if nv > 1 else (), False, now)
                prod.variants.append(var)
                st.variants[var.id] = var
                item = Item(st.nid('InventoryItem'), var, True, now)
                var.item = item
                st.items[item.id] = item
                for loc in locs:
                    st.add_level(item, loc, q, now)
        return {'ok': True, 'products': len(st.products), 'variants': len(st.variants), 'levels': len(st.levels)}

    def _external(self, b, kind, fn):
        st, lv = self._level(b)
        now = st.now()
        before = {n: getattr(lv, n) for n in ('available', 'on_hand', 'committed')}
        fn(lv, now)
        lv.touch(st, now)
        after = {n: getattr(lv, n) for n in ('available', 'on_hand', 'committed')}
        e = st.add_log({'kind': kind, 'handle': lv.item.variant.product.handle, 'sku': lv.item.variant.sku,
                        'item_id': lv.item.id, 'location_id': lv.loc.id, 'location': lv.loc.name,
                        'qty': b.get('qty', b.get('available')), 'before': before, 'after': after})
        return {'ok': True, 'level': self._level_row(lv), 'log': e}

    def op_sell(self, b):
        q = int(b.get('qty', 1))

        def f(lv, now):
            lv.qadd('available', -q, now)
            lv.qadd('committed', q, now)
        return self._external(b, 'sell', f)

    def op_restock(self, b):
        q = int(b.get('qty', 1))

        def f(lv, now):
            lv.qadd('available', q, now)
            lv.on_hand += q
        return self._external(b, 'restock', f)

    def op_refund(self, b):
        q = int(b.get('qty', 1))

        def f(lv, now):
            c = min(q, max(lv.committed, 0))
            if c:
                lv.qadd('committed', -c, now)
            lv.qadd('available', q, now)
            lv.on_hand += q - c
        return self._external(b, 'refund', f)

    def op_set(self, b):
        v = int(b['available'])

        def f(lv, now):
            d = v - lv.available
            lv.qadd('available', d, now)
            lv.on_hand += d
        return self._external(b, 'set', f)

    def _level_row(self, lv):
        var = lv.item.variant
        return {'handle': var.product.handle, 'sku': var.sku, 'variant_id': gid(var), 'item_id': gid(lv.item),
                'location_id': gid(lv.loc), 'location': lv.loc.name, 'level_id': lv.gid,
                'available': lv.available, 'on_hand': lv.on_hand, 'committed': lv.committed,
                'active': lv.active, 'tracked': lv.item.tracked, 'updated_at': iso_ms(lv.upd),
                'options': dict(var.opts)}

    def op_levels(self, b):
        st = self.store(b['store'])
        rows = []
        for p in st.products.values():
            if b.get('handle') and p.handle != b['handle']:
                continue
            for v in p.variants:
                for lv in v.item.levels.values():
                    rows.append(self._level_row(lv))
        return rows

    def op_product_update(self, b):
        st = self.store(b['store'])
        prod = st.by_handle.get(b['handle'])
        if prod is None:
            raise KeyError('unknown handle %r' % b['handle'])
        now = st.now()
        if b.get('delete'):
            del st.by_handle[prod.handle]
            del st.products[prod.id]
            for v in prod.variants:
                st.variants.pop(v.id, None)
                st.items.pop(v.item.id, None)
                for lv in v.item.levels.values():
                    st.levels.pop(lv.id, None)
                    lv.loc.levels.pop(v.item.id, None)
                    try:
                        lv.loc.level_keys.remove(v.item.id)
                    except ValueError:
                        pass
            st.add_log({'kind': 'product_delete', 'handle': prod.handle})
            return {'ok': True}
        changes = {}
        if b.get('new_handle'):
            del st.by_handle[prod.handle]
            prod.handle = b['new_handle']
            st.by_handle[prod.handle] = prod
            changes['handle'] = prod.handle
        for k in ('title', 'status'):
            if k in b:
                setattr(prod, k, b[k].upper() if k == 'status' else b[k])
                changes[k] = b[k]
        var = None
        if any(k in b for k in ('new_sku', 'tracked', 'requires_components', 'barcode')):
            var = next((v for v in prod.variants if v.sku == b['sku']), None) if b.get('sku') is not None \
                else prod.variants[0]
            if var is None:
                raise KeyError('unknown sku')
            if 'new_sku' in b:
                var.sku = b['new_sku']
                changes['sku'] = var.sku
            if 'barcode' in b:
                var.barcode = b['barcode']
            if 'requires_components' in b:
                var.requires_components = bool(b['requires_components'])
            if 'tracked' in b:
                var.item.tracked = bool(b['tracked'])
                var.item.touch(st, now)
                changes['tracked'] = var.item.tracked
            var.touch(st, now)
        prod.touch(st, now)
        st.add_log({'kind': 'product_update', 'handle': prod.handle, 'changes': changes})
        return {'ok': True}

    def op_level_deactivate(self, b):
        st, lv = self._level(b)
        lv.active = bool(b.get('active', False))
        lv.touch(st, st.now())
        st.add_log({'kind': 'level_activate' if lv.active else 'level_deactivate', 'level_id': lv.gid})
        return {'ok': True, 'level': self._level_row(lv)}

    def op_level_remove(self, b):
        """{store, handle, sku?, location?}: the item stops being stocked at the location: its
        level is gone (reads by id answer null), as when a merchant removes a location from a
        product; the item and its other levels stay."""
        st, lv = self._level(b)
        st.levels.pop(lv.id, None)
        lv.item.levels.pop(lv.loc.id, None)
        lv.loc.levels.pop(lv.item.id, None)
        try:
            lv.loc.level_keys.remove(lv.item.id)
        except ValueError:
            pass
        lv.item.touch(st, st.now())
        st.add_log({'kind': 'level_remove', 'level_id': lv.gid})
        return {'ok': True}

    def op_faults(self, b):
        st = self.store(b['store'])
        if b.get('kind') in (None, 'none', 'clear'):
            st.faults = []
            return {'ok': True, 'faults': []}
        kinds = FAULT_KINDS
        k = str(b['kind'])
        if k not in kinds:
            raise ValueError('unknown fault kind %r' % k)
        f = {'kind': k, 'ops': list(b.get('ops', ['query', 'mutation'])), 'rate': b.get('rate'),
             'count': b.get('count'), 'seconds': float(b.get('seconds', 5)), 'bytes': int(b.get('bytes', 16 << 20)),
             'apply': b.get('apply', k in ('truncate', 'invalid_json', 'wrong_types', 'oversize', 'lost_reply', 'stall'))}
        if k in ('throttled', '429'):
            f['apply'] = False
        if f['rate'] is None and f['count'] is None:
            f['count'] = 1
        st.faults.append(f)
        return {'ok': True, 'faults': st.faults}

    def op_throttle(self, b):
        st = self.store(b['store'])
        st.refill()
        if 'max' in b:
            st.bucket_max = float(b['max'])
            st.bucket = min(st.bucket, st.bucket_max)
        if 'restore' in b:
            st.restore = float(b['restore'])
        if 'available' in b:
            st.bucket = float(b['available'])
        if 'status' in b:
            st.throttle_status = int(b['status'])
        return {'ok': True, 'throttleStatus': st.throttle_status_obj(), 'status': st.throttle_status}

    def op_idempotency(self, b):
        """{store, ttl?, evict?, replay?}: key retention in seconds (0: none), random eviction rate,
        the answer to a replay of a key whose request succeeded (stale, original, reexecute)."""
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'ttl', 'evict', 'replay'}
        if unknown:
            raise ValueError('unknown idempotency keys %s' % sorted(unknown))
        ttl = float(b.get('ttl', st.key_ttl))
        evict = float(b.get('evict', st.key_evict))
        replay = b.get('replay', st.replay)
        if ttl < 0 or not 0 <= evict <= 1 or replay not in REPLAY_MODES:
            raise ValueError('ttl >= 0, 0 <= evict <= 1, replay one of %s' % ', '.join(REPLAY_MODES))
        st.key_ttl, st.key_evict, st.replay = ttl, evict, replay
        return {'ok': True, 'ttl': ttl, 'evict': evict, 'replay': replay}

    def op_variants_count(self, b):
        """{store, null: bool}: productVariantsCount answers null (true) or the count (false)."""
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'null'}
        if unknown or 'null' not in b:
            raise ValueError('variants_count takes {store, null: true/false}')
        st.variants_count_null = bool(b['null'])
        return {'ok': True, 'null': st.variants_count_null}

    def op_ip_allowlist(self, b):
        """{store, blocked: bool, token_endpoint?: bool}: every GraphQL request of the store with a valid
        token answers HTTP 403 (the token grant too if token_endpoint)."""
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'blocked', 'token_endpoint'}
        if unknown or 'blocked' not in b:
            raise ValueError('ip_allowlist takes {store, blocked, token_endpoint?}')
        st.ip_blocked = bool(b['blocked'])
        if 'token_endpoint' in b:
            st.ip_block_token = bool(b['token_endpoint'])
        return {'ok': True, 'blocked': st.ip_blocked, 'token_endpoint': st.ip_block_token}

    def op_token_error(self, b):
        """{store, error: code or null, description?, status?}: the client-credentials grant answers
        `status` (default 400) {"error": code, "error_description": ...} until {error: null}."""
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'error', 'description', 'status'}
        if unknown or 'error' not in b:
            raise ValueError('token_error takes {store, error, description?, status?}')
        if b['error'] in (None, '', False):
            st.token_error = None
            return {'ok': True, 'error': None}
        st.token_error = token_error_reply({k: v for k, v in b.items() if k != 'store'})
        return {'ok': True, 'status': st.token_error[0], 'reply': st.token_error[1]}

    def op_clock_skew(self, b):
        """{store, seconds}: the store's own clock runs `seconds` ahead (negative: behind) of the
        fake clock: every updatedAt/createdAt it writes from now on, the `now` its search filters and
        index lag are judged against, token expiry, idempotency-key age, bulk operation status, and the
        Date header of its replies. Replies {ok, now: the store's clock}."""
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'seconds'}
        if unknown or 'seconds' not in b:
            raise ValueError('clock_skew takes {store, seconds}')
        secs = float(b['seconds'])
        if not math.isfinite(secs):
            raise ValueError('seconds must be finite')
        st.clock_skew = secs
        return {'ok': True, 'seconds': secs, 'now': iso_ms(st.now())}

    def op_index_lag(self, b):
        self.store(b['store']).index_lag = float(b['seconds'])
        return {'ok': True}

    def op_scopes(self, b):
        self.store(b['store']).scopes = list(b['scopes'])
        return {'ok': True}

    def op_token(self, b):
        st = self.store(b['store'])
        if 'token' in b:
            st.tokens = {b['token']: None} if b['token'] else {}
        if 'ttl' in b:
            st.token_ttl = int(b['ttl'])
        if 'client_secret' in b:
            st.client_secret = b['client_secret']
        return {'ok': True}

    def op_clock(self, b):
        self.clock.offset += float(b.get('advance', 0))
        return {'ok': True, 'now': iso_ms(self.clock.now())}

    def op_log(self, b):
        st = self.store(b['store'])
        since = float(b.get('since', 0))
        return [e for e in st.log if e['t'] >= since and (not b.get('kind') or e['kind'] == b['kind'])]

    def op_before(self, b):
        """{store, operation, op, body}: once, when the store's next request of GraphQL operation
        `operation` (e.g. LevelsById) arrives, control op `op` runs with `body` before it executes:
        a sale between the agent's plan and its send."""
        st = self.store(b['store'])
        if not hasattr(self, 'op_' + str(b['op'])):
            raise ValueError('unknown op %r' % b['op'])
        st.before.append([str(b['operation']), str(b['op']), dict(b.get('body') or {})])
        return {'ok': True, 'before': st.before}

    def run_before(self, st, name):
        with self.lock:
            hit = next((h for h in st.before if h[0] == name), None)
            if hit is None:
                return
            st.before.remove(hit)
        self.op(hit[1], hit[2])

    def op_level_gids(self, b):
        """{store, bare}: GraphQL answers give InventoryLevel ids without "?inventory_item_id="
        while bare is true (scenario key bare_level_gids); lookups take either form."""
        st = self.store(b['store'])
        st.bare_level_gids = bool(b.get('bare', True))
        return {'ok': True, 'bare': st.bare_level_gids}

    def op_level_reads(self, b):
        """{level gid: times read} since the last reset; 'reset': true starts over."""
        st = self.store(b['store'])
        out = dict(st.level_reads)
        if b.get('reset'):
            st.level_reads = {}
        return out

    def op_stats(self, b):
        st = self.store(b['store'])
        st.refill()
        d = json.loads(json.dumps(st.stats))
        d['throttleStatus'] = st.throttle_status_obj()
        return d

    def op_bulk(self, b):
        st = self.store(b['store'])
        unknown = set(b) - {'store', 'delay', 'fail', 'truncate', 'expire', 'cancel', 'access', 'limit_reached'}
        if unknown:
            raise ValueError('unknown bulk keys %s' % sorted(unknown))
        if 'delay' in b:
            d = float(b['delay'])
            if d < 0:
                raise ValueError('delay must be >= 0')
            st.bulk_delay = d
        if 'fail' in b:
            f = b['fail']
            if f in (None, '', False):
                st.bulk_fail = None
            elif f not in BULK_ERROR_CODES:
                raise ValueError('fail must be one of %s' % ', '.join(BULK_ERROR_CODES))
            else:
                st.bulk_fail = f
        if 'truncate' in b:
            st.bulk_truncate = bool(b['truncate'])
        if 'expire' in b:
            st.bulk_expired = bool(b['expire'])
        if 'cancel' in b:
            st.bulk_cancel = bool(b['cancel'])
        if 'access' in b:
            st.bulk_access = bool(b['access'])
        if 'limit_reached' in b:
            st.bulk_limit_reached = bool(b['limit_reached'])
        return {'ok': True}

    def op_ping(self, b):
        return {'ok': True}

    # ------------------------------------------------ API entry points (used by the HTTP layer)
    def next_req(self):
        with self.lock:
            self.req_seq += 1
            return self.req_seq

    def pick_fault(self, st, kind):
        for f in list(st.faults):
            if kind not in f['ops']:
                continue
            if f['count'] is not None:
                if f['count'] <= 0:
                    continue
                f['count'] -= 1
                if f['count'] == 0 and f['rate'] is None:
                    st.faults.remove(f)
                st.stats['faults'] += 1
                return f
            if st.rng.random() < float(f['rate']):
                st.stats['faults'] += 1
                return f
        return None

    def token_grant(self, st, form):
        if form.get('grant_type') != 'client_credentials':
            return 400, {'error': 'unsupported_grant_type',
                         'error_description': 'The authorization grant type is not supported by the authorization server.'}
        if st.token_error is not None:      # control op token_error
            status, body = st.token_error
            st.add_log({'kind': 'token_grant', 'outcome': body['error'], 'status': status})
            return status, dict(body)
        if form.get('client_id') != st.client_id or form.get('client_secret') != st.client_secret:
            return 400, {'error': 'invalid_client',
                         'error_description': 'Client authentication failed due to unknown client, no client '
                                              'authentication included, or unsupported authentication method.'}
        tok = 'shpat_' + hashlib.sha256(('%s/%s/%s' % (st.name, time.time(), st.rng.random())).encode()).hexdigest()[:32]
        st.tokens[tok] = st.now() + st.token_ttl
        st.add_log({'kind': 'token_grant', 'expires_in': st.token_ttl})
        return 200, {'access_token': tok, 'scope': ','.join(st.scopes), 'expires_in': st.token_ttl}

    def bulk_file(self, store_name, token):
        """A GET of a bulk file: returns (status, body bytes, content type, truncate?)."""
        st = self.stores.get(store_name)
        op = st.bulk_files.get(token) if st is not None else None
        now = self.clock.now()      # bulk lifecycles run on the fake clock (clock_skew only shifts their times)
        if op is not None and (st.bulk_expired or op.state(now) == 'EXPIRED'):
            st.add_log({'kind': 'bulk_download', 'id': gid(op), 'outcome': 'expired'})
            return 403, BULK_EXPIRED_XML % iso(now), 'application/xml; charset=UTF-8', False
        if op is None or not op.has_file(now):
            if st is not None:
                st.add_log({'kind': 'bulk_download', 'id': gid(op) if op else None, 'outcome': 'not_found'})
            return 404, BULK_NO_KEY_XML, 'application/xml; charset=UTF-8', False
        cut = st.bulk_truncate
        st.bulk_truncate = False
        st.stats['bulk_downloads'] += 1
        st.add_log({'kind': 'bulk_download', 'id': gid(op), 'bytes': len(op.data),
                    'outcome': 'truncated' if cut else 'ok'})
        return 200, op.data, 'application/jsonl', cut

    def token_ok(self, st, tok):
        if tok is None or tok not in st.tokens:
            return False
        exp = st.tokens[tok]
        return exp is None or st.now() < exp

    def graphql(self, st, version, body, req_id, pre_execute=None, host=None):
        """Returns (http_status, reply dict, headers, kind). pre_execute(keys) is called (without the
        lock) before executing a mutation, to emulate stalls while the request is in flight. host: the
        request's Host header (bulk file URLs point there)."""
        text = body.get('query') if isinstance(body, dict) else None
        variables = body.get('variables') if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return 400, {'errors': {'query': 'Required parameter missing or invalid'}}, {}, 'query'
        if variables is not None and not isinstance(variables, dict):
            return 400, {'errors': {'query': 'Required parameter missing or invalid'}}, {}, 'query'
        doc, verrs, ops = get_doc(text)
        if doc is None or verrs:
            return 200, {'errors': verrs}, {}, 'query'
        opname = body.get('operationName')
        if len(ops) > 1:
            op = next((o for o in ops if o.name and o.name.value == opname), None)
            if op is None:
                return 200, {'errors': [{'message': 'An operation name is required',
                                         'extensions': {'code': 'BAD_REQUEST'}}]}, {}, 'query'
        else:
            op = ops[0]
        kind = 'mutation' if op.operation.value == 'mutation' else 'query'
        vert = _variable_errors(op, variables)
        if vert:
            return 200, {'errors': vert}, {}, kind
        requested = op_cost(doc, op, variables or {})
        with self.lock:
            st.count(kind)
            st.refill()
            if requested > MAX_QUERY_COST:
                return 200, {'errors': [{'message': 'Query cost is %d, which exceeds the single query max cost limit '
                                         '(%d).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more '
                                         'information on how the\ncost of a query is calculated.\n\nTo query larger '
                                         'amounts of data with fewer limits, bulk operations should be used instead.\n'
                                         'See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for '
                                         'usage details.\n' % (requested, MAX_QUERY_COST),
                                         'extensions': {'code': 'MAX_COST_EXCEEDED', 'cost': requested,
                                                        'maxCost': MAX_QUERY_COST, 'documentation': RATE_DOC}}],
                             'extensions': {'cost': {'requestedQueryCost': requested, 'actualQueryCost': None,
                                                     'throttleStatus': st.throttle_status_obj()}}}, {}, kind
            if requested > st.bucket:
                st.stats['throttled'] += 1
                st.op_stat(op, opname)['throttled'] += 1
                hdr = {}
                status = st.throttle_status
                if status == 429:
                    hdr['Retry-After'] = str(max(1, math.ceil((requested - st.bucket) / st.restore)))
                return status, {'errors': [{'message': 'Throttled', 'extensions': {
                    'code': 'THROTTLED', 'documentation': RATE_DOC}}],
                    'extensions': {'cost': {'requestedQueryCost': requested, 'actualQueryCost': None,
                                            'throttleStatus': st.throttle_status_obj()}}}, hdr, kind
            st.bucket -= requested
            keys = idempotency_keys(doc, op, variables) if kind == 'mutation' else []
            mine = []
            for k in keys:
                if k not in st.inflight:
                    st.inflight[k] = req_id
                    mine.append(k)
        try:
            if pre_execute is not None:
                pre_execute()
            self.run_before(st, op.name.value if op.name else opname)
            with self.lock:
                ctx = Ctx(self, st, version, req_id)
                ctx.host = host
                ctx.op_name = op.name.value if op.name else opname
                res = execute(SCHEMA, doc, root_value=None, context_value=ctx, variable_values=variables,
                              operation_name=opname if len(ops) > 1 else None,
                              field_resolver=field_resolver, type_resolver=type_resolver)
                out = {}
                if res.errors:
                    out['errors'] = [format_error(e) for e in res.errors]
                out['data'] = res.data
                actual = op_cost(doc, op, variables or {}, res.data or {}, True)
                if kind == 'mutation':
                    actual = max(actual, 10)
                actual = min(actual, requested)
                st.refill()
                st.bucket = min(st.bucket_max, st.bucket + requested - actual)
                st.stats['requested_cost'] += requested
                st.stats['actual_cost'] += actual
                per = st.op_stat(op, opname)
                per['requests'] += 1
                per['actual_cost'] += actual
                if kind == 'query':
                    count_level_reads(st.level_reads, res.data)
                out['extensions'] = {'cost': {'requestedQueryCost': requested, 'actualQueryCost': actual,
                                              'throttleStatus': st.throttle_status_obj()}}
                return 200, out, {}, kind
        finally:
            with self.lock:
                for k in mine:
                    if st.inflight.get(k) == req_id:
                        del st.inflight[k]


def count_level_reads(counts, data):
    """Counts each InventoryLevel a query's data carries with its quantities: a level read."""
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            i = v.get('id')
            if isinstance(i, str) and i.startswith('gid://shopify/InventoryLevel/') and 'quantities' in v:
                counts[i] = counts.get(i, 0) + 1
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)


# ---------------------------------------------------------------- JSON encoding of replies

def to_json(obj):
    return json.dumps(obj, separators=(',', ':'), default=_json_default).encode()


def _json_default(o):
    if isinstance(o, (Level, Item, Location, Product, Variant)):
        return gid(o)
    raise TypeError(type(o))


def wrong_types(v):
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return {str(i): wrong_types(x) for i, x in enumerate(v)}
    if isinstance(v, dict):
        return {k: wrong_types(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------- HTTP layer

API_RE = re.compile(r'^/store/([^/]+)/admin/api/([^/]+)/graphql\.json$')
BULK_RE = re.compile(r'^/bulk/([^/]+)/([0-9a-f]+)\.jsonl$')
HOST_RE = re.compile(r'^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$')
# what Google Cloud Storage answers for an expired / unknown signed URL
BULK_EXPIRED_XML = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code>"
                    "<Message>The provided token has expired.</Message><Details>Request signature expired at: "
                    "%s</Details></Error>")
BULK_NO_KEY_XML = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                   b"<Message>The specified key does not exist.</Message></Error>")
TOKEN_RE = re.compile(r'^/store/([^/]+)/admin/oauth/access_token$')


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'nginx'
    sys_version = ''
    timeout = 60

    def log_message(self, *a):
        pass

    def _send(self, status, body, headers=None, ctype='application/json; charset=utf-8'):
        data = body if isinstance(body, bytes) else to_json(body)
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._headers_buffer.append(b'\r\n')
        self.wfile.write(b''.join(self._headers_buffer) + data)
        self._headers_buffer = []

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            raw = self.connection
            if isinstance(raw, ssl.SSLSocket):
                raw = socket.socket(fileno=os.dup(raw.fileno()))
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                raw.close()
            self.connection.close()
        except OSError:
            pass

    def do_GET(self):
        self._skew = self.server.fs.clock.offset     # bulk files: the storage's clock is the fake clock
        if self.path.startswith('/hook/'):
            return hook_reply(self, b'', 'https')
        m = BULK_RE.match(self.path.split('?')[0])
        if not m:
            return self._send(404, {'errors': 'Not Found'})
        fs = self.server.fs
        with fs.lock:
            status, data, ctype, cut = fs.bulk_file(urllib.parse.unquote(m.group(1)), m.group(2))
        if isinstance(data, str):
            data = data.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        view = memoryview(data)[:len(data) // 2 if cut else len(data)]
        try:
            for i in range(0, len(view), 1 << 20):
                self.wfile.write(view[i:i + (1 << 20)])
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if cut:     # short body, then FIN (no TLS close_notify): the client sees a short read
            self.close_connection = True

    def do_POST(self):
        fs = self.server.fs
        self._skew = fs.clock.offset
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n > 0 else b''
        if self.path.startswith('/hook/'):
            return hook_reply(self, raw, 'https')
        m = API_RE.match(self.path.split('?')[0])
        t = TOKEN_RE.match(self.path.split('?')[0])
        if not m and not t:
            return self._send(404, {'errors': 'Not Found'})
        st = fs.stores.get((m or t).group(1))
        if st is None:
            return self._send(404, {'errors': 'Not Found'})
        self._skew = st.clock_skew + fs.clock.offset    # every reply of the store: its own clock
        req_id = fs.next_req()
        hdr = {'X-Request-Id': '%08x-fake-%d' % (hash(st.name) & 0xffffffff, req_id)}
        if t:
            with fs.lock:
                st.count('token')
                blocked = st.ip_blocked and st.ip_block_token
                if blocked:
                    st.count('ip_blocked')
            if blocked:
                return self._send(403, {'errors': IP_BLOCKED % self.client_address[0]}, hdr)
            with fs.lock:
                fault = fs.pick_fault(st, 'token')
            if fault and self._fault_before(fault):
                return
            ctype = self.headers.get('Content-Type', '')
            try:
                if 'json' in ctype:
                    form = json.loads(raw or b'{}')
                else:
                    form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            except Exception:
                form = {}
            with fs.lock:
                status, reply = fs.token_grant(st, form)
            return self._reply_with_fault(status, reply, hdr, fault)
        version = resolve_version(m.group(2))
        hdr['X-Shopify-API-Version'] = version
        tok = self.headers.get('X-Shopify-Access-Token')
        with fs.lock:
            ok = fs.token_ok(st, tok)
            if not ok:
                st.count('unauthorized')
        if not ok:
            return self._send(401, UNAUTHORIZED, hdr)
        with fs.lock:
            blocked = st.ip_blocked
            if blocked:
                st.count('ip_blocked')
        if blocked:     # control op ip_allowlist: not executed, no faults, no cost
            return self._send(403, {'errors': IP_BLOCKED % self.client_address[0]}, hdr)
        try:
            body = json.loads(raw or b'null')
        except Exception:
            return self._send(400, {'errors': {'query': 'Required parameter missing or invalid'}}, hdr)
        kind = 'query'
        keys = []
        if isinstance(body, dict) and isinstance(body.get('query'), str):
            doc, verrs, ops = get_doc(body['query'])
            if ops and any(o.operation.value == 'mutation' for o in ops):
                kind = 'mutation'
                try:
                    for o in ops:
                        if o.operation.value == 'mutation':
                            keys += idempotency_keys(doc, o, body.get('variables') if isinstance(
                                body.get('variables'), dict) else None)
                except Exception:
                    pass
        with fs.lock:
            fault = fs.pick_fault(st, kind)
            if fault and kind == 'mutation':
                # what a test needs to tell a lost reply from a bug: which keys met which fault
                st.add_log({'kind': 'fault', 'fault': fault['kind'], 'op': kind, 'keys': keys, 'req_id': req_id,
                            'executed': bool(fault['apply']) or fault['kind'] == 'stall', 'recv': time.time()})
        if fault and fault['kind'] in ('throttled', '429'):
            return self._throttled(st, fault, hdr)
        pre = None
        if fault and fault['kind'] == 'stall':
            pre = (lambda: time.sleep(fault['seconds']))
        elif fault and not fault['apply'] and self._fault_before(fault):
            return
        try:
            host = self.headers.get('Host', '')
            status, reply, h2, kind = fs.graphql(st, version, body, req_id, pre,
                                                 host if HOST_RE.match(host) else None)
        except Exception as e:  # never crash the server; report like an internal error
            import traceback
            traceback.print_exc(file=sys.stderr)
            status, reply, h2 = 500, {'errors': [{'message': 'Internal error. Looks like something went wrong on '
                                                  'our end.', 'extensions': {'code': 'INTERNAL_SERVER_ERROR'}}]}, {}
        hdr.update(h2)
        if fault and fault['kind'] == 'stall':
            fault = None
        self._reply_with_fault(status, reply, hdr, fault)

    def _throttled(self, st, fault, hdr):
        """A THROTTLED answer (not executed): HTTP 200, or 429 with Retry-After."""
        with self.server.fs.lock:
            st.stats['throttled'] += 1
            st.refill()
            tso = st.throttle_status_obj()
        body = {'errors': [{'message': 'Throttled', 'extensions': {'code': 'THROTTLED', 'documentation': RATE_DOC}}],
                'extensions': {'cost': {'requestedQueryCost': 10, 'actualQueryCost': None, 'throttleStatus': tso}}}
        if fault['kind'] == '429':
            return self._send(429, body, dict(hdr, **{'Retry-After': '1'}))
        return self._send(200, body, hdr)

    def date_time_string(self, timestamp=None):
        """The Date header follows the store's clock (fake clock offset + the store's clock_skew), set
        per request in do_POST/do_GET."""
        if timestamp is None:
            timestamp = time.time() + getattr(self, '_skew', 0.0)
        return super().date_time_string(timestamp)

    def _fault_before(self, fault):
        """Faults that happen before the request reaches the app. Returns True if handled."""
        k = fault['kind']
        if k in ('502', '503'):
            body = ('<html><head><title>%s</title></head><body><h1>%s</h1></body></html>' %
                    ((k, 'Bad Gateway') if k == '502' else (k, 'Service Unavailable'))).encode()
            self._send(int(k), body, {'Connection': 'close'}, 'text/html')
            self.close_connection = True
            return True
        if k in ('reset', 'lost_reply'):
            self._reset()
            return True
        if k == 'stall':
            time.sleep(fault['seconds'])
            return False
        if k in ('truncate', 'invalid_json', 'wrong_types', 'oversize'):
            return False
        return False

    def _reply_with_fault(self, status, reply, hdr, fault):
        if not fault:
            return self._send(status, reply, hdr)
        k = fault['kind']
        if k in ('502', '503'):
            self._fault_before(fault)
        elif k in ('reset', 'lost_reply'):
            self._reset()
        elif k == 'truncate':
            data = to_json(reply)
            self.send_response(status)
            self.send_header('Content-Type', 'application/json; charset=utf-8')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data[:max(1, len(data) // 2)])
            self.wfile.flush()
            self._reset()
        elif k == 'invalid_json':
            data = to_json(reply)
            self._send(status, data[:max(1, len(data) // 2)] + b'\x00}{"oops": ,]', hdr)
        elif k == 'wrong_types':
            self._send(status, wrong_types(reply), hdr)
        elif k == 'oversize':
            data = to_json(reply)
            pad = fault['bytes']
            head = data[:-1] + b',"padding":"'
            tail = b'"}'
            self.send_response(status)
            self.send_header('Content-Type', 'application/json; charset=utf-8')
            self.send_header('Content-Length', str(len(head) + pad + len(tail)))
            self.end_headers()
            try:
                self.wfile.write(head)
                chunk = b'x' * 65536
                left = pad
                while left > 0:
                    self.wfile.write(chunk[:min(left, 65536)])
                    left -= 65536
                self.wfile.write(tail)
            except OSError:
                self.close_connection = True
        else:
            self._send(status, reply, hdr)


def hook_reply(h, raw, scheme):
    """Answers a request to the alert and ping receiver (/hook/<name>) on handler h."""
    status, extra, stall = h.server.fs.hook_receive(h.command, h.path, h.headers, raw, scheme)
    if stall > 0:
        time.sleep(stall)
    data = to_json({'ok': 200 <= status < 300})
    try:
        h.send_response(status)
        h.send_header('Content-Type', 'application/json')
        h.send_header('Content-Length', str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
    except OSError:
        h.close_connection = True


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def _send(self, status, obj):
        data = to_json(obj)
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else b''
        if self.path.startswith('/hook/'):
            return hook_reply(self, raw, 'http')
        name = self.path.strip('/').split('?')[0]
        try:
            body = json.loads(raw) if raw.strip() else {}
            res = self.server.fs.op(name, body)
        except (KeyError, ValueError, TypeError) as e:
            return self._send(400, {'ok': False, 'error': str(e)})
        self._send(200, res)

    do_GET = do_POST


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, fs, sslctx):
        self.fs, self.sslctx = fs, sslctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.sslctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


class ControlServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, fs):
        self.fs = fs
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        pass


def ensure_certs(tls_dir):
    if not os.path.exists(os.path.join(tls_dir, 'ca.pem')):
        script = os.path.join(HERE, '..', 'tls', 'mkcerts.sh')
        subprocess.run(['sh', script, tls_dir], check=True)


def serve(fs, tls_dir, port=0, control_port=0):
    """Starts both servers in background threads; returns (api_server, control_server)."""
    ensure_certs(tls_dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(tls_dir, 'localhost.pem'), os.path.join(tls_dir, 'localhost.key'))
    api = TLSServer(('127.0.0.1', port), ApiHandler, fs, ctx)
    ctl = ControlServer(('127.0.0.1', control_port), ControlHandler, fs)
    fs.api_host = 'localhost:%d' % api.server_address[1]
    for s in (api, ctl):
        threading.Thread(target=s.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
    return api, ctl


def main(argv=None):
    ap = argparse.ArgumentParser(description='fake Shopify Admin API')
    ap.add_argument('--tls-dir', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--control-port', type=int, default=0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--scenario')
    ap.add_argument('--lifetime', type=float, default=3600)
    a = ap.parse_args(argv)
    fs = FakeShop(a.seed)
    if a.scenario:
        with open(a.scenario) as f:
            fs.op('load', json.load(f))
    tls_dir = os.path.abspath(a.tls_dir)
    api, ctl = serve(fs, tls_dir, a.port, a.control_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: stop.set())
    signal.signal(signal.SIGINT, lambda *x: stop.set())
    sys.stdout.write('READY port=%d control=%d ca=%s\n' % (api.server_address[1], ctl.server_address[1],
                                                          os.path.join(tls_dir, 'ca.pem')))
    sys.stdout.flush()
    stop.wait(a.lifetime)
    api.shutdown()
    ctl.shutdown()
    api.server_close()
    ctl.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
