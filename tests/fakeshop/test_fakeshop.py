#!/usr/bin/env python3
"""Tests of the fake Shopify Admin API. Run: make test, or by hand with Debian's python3 and
the pinned graphql-core: $PY tests/fakeshop/test_fakeshop.py [TEST...] (tests/fakeshop/README.md)
Prints PASS/FAIL/SKIP lines; exits non-zero on any failure."""
import copy
import glob
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'shopify'))
import fakeshop as F  # noqa: E402
import schema as shopify_schema  # noqa: E402
# the real schema and the real replies (tests/shopify/README.md)
CAPTURES = shopify_schema.CAPTURES

RESULTS = {'PASS': 0, 'FAIL': 0, 'SKIP': 0}


class Skip(Exception):
    pass


def check(cond, why):
    if not cond:
        raise AssertionError(why)


def eq(a, b, what):
    if a != b:
        raise AssertionError('%s: got %r, want %r' % (what, a, b))


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


SCENARIO = {"stores": [
    {"name": "source", "shop": "urbanwear-eu.myshopify.com", "token": "shpat_source", "client_id": "cid-source",
     "client_secret": "csecret-source", "scopes": ["read_inventory", "write_inventory", "read_products", "read_locations"],
     "bucket": {"max": 2000, "restore": 100}, "locations": [{"name": "Main Warehouse"}, {"name": "Outlet"}],
     "products": [
         {"handle": "slim-fit-denim-jacket", "title": "Slim Fit Denim Jacket", "status": "ACTIVE", "options": ["Size"],
          "variants": [{"sku": "SFDJ-M", "barcode": "0001", "options": {"Size": "M"}, "tracked": True,
                        "requires_components": False, "levels": {"Main Warehouse": 50}},
                       {"sku": "SFDJ-L", "barcode": "0002", "options": {"Size": "L"}, "levels": {"Main Warehouse": 5, "Outlet": 7}}]},
         {"handle": "untracked-tee", "title": "Untracked Tee", "variants": [{"sku": "UT-1", "tracked": False, "levels": {"Main Warehouse": 0}}]},
         {"handle": "gift-bundle", "title": "Gift Bundle", "status": "DRAFT",
          "variants": [{"sku": "GB-1", "requires_components": True, "levels": {"Main Warehouse": 3}}]}]},
    {"name": "destination", "shop": "urbanwear-us.myshopify.com", "token": "shpat_destination",
     "locations": [{"name": "US Warehouse"}],
     "products": [{"handle": "slim-fit-denim-jacket", "title": "Slim Fit Denim Jacket", "options": ["Size"],
                   "variants": [{"sku": "SFDJ-M", "options": {"Size": "M"}, "levels": {"US Warehouse": 50}}]}]}]}

ADJUST = '''mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id createdAt reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id name } } }
    userErrors { field message code }
  }
}'''
ADJUST_NO_KEY = ADJUST.replace(' @idempotent(key: $key)', '').replace(', $key: String!', '')
LEVELS = '''query Levels($loc: ID!, $q: String, $after: String, $inc: Boolean) {
  location(id: $loc) { id name isActive
    inventoryLevels(first: 250, after: $after, query: $q, includeInactive: $inc) {
      nodes { id isActive updatedAt item { id sku tracked } quantities(names: ["available","on_hand","committed"]) { name quantity updatedAt } }
      pageInfo { hasNextPage endCursor } } } }'''


def new_fs(scn=SCENARIO):
    fs = F.FakeShop(7)
    fs.op('load', copy.deepcopy(scn))
    return fs


def gql(fs, store, query, variables=None, version='2026-07'):
    st, rid = fs.store(store), fs.next_req()
    status, body, hdr, kind = fs.graphql(st, version, {'query': query, 'variables': variables or {}}, rid)
    return json.loads(F.to_json(body)), status


def level(fs, store, sku, location=None):
    for r in fs.op('levels', {'store': store}):
        if r['sku'] == sku and (location is None or r['location'] == location):
            return r
    raise KeyError(sku)


def adj_vars(r, delta, cfq, key, name='available'):
    return {'input': {'name': name, 'reason': 'correction', 'changes': [
        {'inventoryItemId': r['item_id'], 'locationId': r['location_id'], 'delta': delta, 'changeFromQuantity': cfq}]},
        'key': key}


def user_codes(reply, field='inventoryAdjustQuantities'):
    return [e.get('code') for e in reply['data'][field]['userErrors']]


# ------------------------------------------------------------------ 2026 write rules (in process)

@test
def rules_missing_idempotent():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    v = adj_vars(r, 1, 50, 'x')
    del v['key']
    rep, _ = gql(fs, 'source', ADJUST_NO_KEY, v)
    e = rep['errors'][0]
    eq(e['message'], 'The @idempotent directive is required for this mutation but was not provided.', 'message')
    eq(e['extensions']['code'], 'BAD_REQUEST', 'code')
    eq(e['path'], ['inventoryAdjustQuantities'], 'path')
    eq(rep['data'], {'inventoryAdjustQuantities': None}, 'data')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 50, 'nothing written')


@test
def rules_missing_change_from_quantity():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    v = adj_vars(r, 1, 50, 'x')
    del v['input']['changes'][0]['changeFromQuantity']
    rep, _ = gql(fs, 'source', ADJUST, v)
    e = rep['errors'][0]
    eq(e['message'], 'InventoryChangeInput must include the following argument: changeFromQuantity.', 'message')
    eq(e['extensions']['code'], 'INVALID_FIELD_ARGUMENTS', 'code')
    eq(len(e['locations']), 2, 'two locations')
    # explicit null is allowed (opt out of compare-and-set)
    v['input']['changes'][0]['changeFromQuantity'] = None
    rep, _ = gql(fs, 'source', ADJUST, v)
    eq(rep['data']['inventoryAdjustQuantities']['userErrors'], [], 'null accepted')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 51, 'applied')


@test
def rules_cas_stale_all_or_nothing():
    fs = new_fs()
    m, l = level(fs, 'source', 'SFDJ-M'), level(fs, 'source', 'SFDJ-L', 'Main Warehouse')
    v = {'input': {'name': 'available', 'reason': 'correction', 'changes': [
        {'inventoryItemId': m['item_id'], 'locationId': m['location_id'], 'delta': -1, 'changeFromQuantity': 50},
        {'inventoryItemId': l['item_id'], 'locationId': l['location_id'], 'delta': -1, 'changeFromQuantity': 99}]},
        'key': 'k-stale'}
    rep, _ = gql(fs, 'source', ADJUST, v)
    p = rep['data']['inventoryAdjustQuantities']
    eq(p['inventoryAdjustmentGroup'], None, 'group')
    eq(p['userErrors'], [{'field': ['input', 'changes', '1', 'changeFromQuantity'],
                          'message': 'The changeFromQuantity argument no longer matches the persisted quantity.',
                          'code': 'CHANGE_FROM_QUANTITY_STALE'}], 'userErrors')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 50, 'first change not written')
    # same key again: the previous attempt failed
    rep, _ = gql(fs, 'source', ADJUST, v)
    eq(user_codes(rep), ['IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED'], 'retry of failed key')
    # after 24 h (fake clock) the key is forgotten and the request is judged afresh
    fs.op('clock', {'advance': 24 * 3600 + 1})
    rep, _ = gql(fs, 'source', ADJUST, v)
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], 'after 24h')


@test
def rules_success_replay_mismatch_zero_delta():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 5, 50, 'k1'))
    p = rep['data']['inventoryAdjustQuantities']
    eq(p['userErrors'], [], 'ok')
    eq([(c['name'], c['delta'], c['quantityAfterChange']) for c in p['inventoryAdjustmentGroup']['changes']],
       [('available', 5, None), ('on_hand', 5, None)], 'changes')
    after = level(fs, 'source', 'SFDJ-M')
    eq((after['available'], after['on_hand']), (55, 55), 'available moves on_hand')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 5, 50, 'k1'))
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], 'same-key replay of a success')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 55, 'replay wrote nothing')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, 55, 'k1'))
    eq(user_codes(rep), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'], 'same key other params')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, 12345, 'fresh-key'))
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], 'zero delta still compare-and-set checked')
    # zero delta with a wrong changeFromQuantity is still checked; with the right one it is a no-op
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, 55, 'zero-key'))
    p = rep['data']['inventoryAdjustQuantities']
    eq((p['inventoryAdjustmentGroup'], p['userErrors']), (None, []), 'zero-delta no-op')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 55, 'no-op')
    log = fs.op('log', {'store': 'source', 'kind': 'write'})
    eq([e['outcome'] for e in log][:3], ['applied', 'replay:CHANGE_FROM_QUANTITY_STALE',
                                         'IDEMPOTENCY_KEY_PARAMETER_MISMATCH'], 'log outcomes')
    check(all('time' in e and 'key' in e for e in log), 'log has time and key')


@test
def rules_user_errors_untracked_unknown_bundle_unstocked():
    fs = new_fs()
    ut, gb = level(fs, 'source', 'UT-1'), level(fs, 'source', 'GB-1')
    m = level(fs, 'source', 'SFDJ-M')
    outlet = next(r for r in fs.op('levels', {'store': 'source'}) if r['location'] == 'Outlet')
    cases = [
        (adj_vars(ut, 1, 0, 'a'), 'INVALID_INVENTORY_ITEM'),
        (adj_vars(gb, 1, 3, 'b'), 'NON_MUTABLE_INVENTORY_ITEM'),
        (adj_vars(dict(m, location_id=outlet['location_id']), 1, 0, 'c'), 'ITEM_NOT_STOCKED_AT_LOCATION'),
        (adj_vars(dict(m, item_id='gid://shopify/InventoryItem/42'), 1, 0, 'd'), 'INVALID_INVENTORY_ITEM'),
        (adj_vars(dict(m, location_id='gid://shopify/Location/515151515151'), 1, 0, 'e'), 'INVALID_LOCATION'),
    ]
    for v, code in cases:
        rep, _ = gql(fs, 'source', ADJUST, v)
        eq(user_codes(rep), [code], 'case ' + v['key'])
        eq(rep['data']['inventoryAdjustQuantities']['inventoryAdjustmentGroup'], None, 'group null')
    eq(level(fs, 'source', 'GB-1')['available'], 3, 'bundle untouched')


LEVEL_BY_ITEM = '''query($loc: ID!, $item: ID!, $lv: ID!) { location(id: $loc) {
  a: inventoryLevel(inventoryItemId: $item) { id isActive }
  b: inventoryLevel(inventoryItemId: $item, includeInactive: true) { id isActive quantities(names: ["available"]) { quantity } } }
  inventoryItem(id: $item) { inventoryLevels(first: 5) { nodes { id } } all: inventoryLevels(first: 5, includeInactive: true) {
    nodes { id isActive } } }
  inventoryLevel(id: $lv) { id isActive } }'''
SET_DOC = '''mutation S($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { field message code } } }'''


@test
def rules_inactive_level_by_version():
    """A deactivated level: hidden unless includeInactive, quantities kept, on every version; a write to it
    answers ITEM_NOT_STOCKED_AT_LOCATION on 2026-07 (and older) and succeeds on 2026-10 (and unstable),
    where the level stays inactive (docs/shopify-api.md §11)."""
    fs = new_fs()
    d = fs.op('level_deactivate', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-L',
                                   'location': 'Outlet'})
    eq(d['level']['active'], False, 'op reply')
    r = level(fs, 'source', 'SFDJ-L', 'Outlet')
    eq(r['active'], False, 'inactive')
    for v in ('2026-07', '2026-10'):
        rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id']}, version=v)
        eq(rep['data']['location']['inventoryLevels']['nodes'], [], 'hidden by default ' + v)
        rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id'], 'inc': True}, version=v)
        n = rep['data']['location']['inventoryLevels']['nodes']
        eq([(x['isActive'], x['quantities'][0]['quantity']) for x in n], [(False, 7)],
           'includeInactive keeps quantities ' + v)
        rep, _ = gql(fs, 'source', LEVEL_BY_ITEM, {'loc': r['location_id'], 'item': r['item_id'], 'lv': r['level_id']},
                     version=v)
        check('errors' not in rep, rep.get('errors'))
        dd = rep['data']
        eq((dd['location']['a'], dd['location']['b']), (None, {'id': r['level_id'], 'isActive': False,
                                                              'quantities': [{'quantity': 7}]}),
           'Location.inventoryLevel(includeInactive:) ' + v)
        eq(([x['id'] for x in dd['inventoryItem']['inventoryLevels']['nodes']],
            sorted((x['id'], x['isActive']) for x in dd['inventoryItem']['all']['nodes'])),
           ([level(fs, 'source', 'SFDJ-L', 'Main Warehouse')['level_id']],
            sorted([(level(fs, 'source', 'SFDJ-L', 'Main Warehouse')['level_id'], True), (r['level_id'], False)])),
           'InventoryItem.inventoryLevels(includeInactive:) ' + v)
        eq(dd['inventoryLevel'], {'id': r['level_id'], 'isActive': False}, 'inventoryLevel(id) by id ' + v)
    for v in ('2026-01', '2026-04', '2026-07'):
        rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 1, 7, 'inact-' + v), version=v)
        p = rep['data']['inventoryAdjustQuantities']
        eq((p['userErrors'], p['inventoryAdjustmentGroup']),
           ([{'field': ['input', 'changes', '0', 'locationId'], 'message': 'The inventory item is not stocked at the '
              'location.', 'code': 'ITEM_NOT_STOCKED_AT_LOCATION'}], None), 'adjust on an inactive level, ' + v)
        sv = {'input': {'name': 'available', 'reason': 'correction', 'quantities': [
            {'inventoryItemId': r['item_id'], 'locationId': r['location_id'], 'quantity': 9, 'changeFromQuantity': 7}]},
            'key': 'inact-set-' + v}
        rep, _ = gql(fs, 'source', SET_DOC, sv, version=v)
        eq(user_codes(rep, 'inventorySetQuantities'), ['ITEM_NOT_STOCKED_AT_LOCATION'], 'set, ' + v)
    eq(level(fs, 'source', 'SFDJ-L', 'Outlet')['available'], 7, 'nothing written')
    w = fs.op('log', {'store': 'source', 'kind': 'write'})[0]
    eq((w['outcome'], w['version']), ('userErrors:ITEM_NOT_STOCKED_AT_LOCATION', '2026-01'), 'logged with the version')
    for v, key, delta, cfq in (('2026-10', 'inact-10', 1, 7), ('unstable', 'inact-u', 1, 8)):
        rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, delta, cfq, key), version=v)
        p = rep['data']['inventoryAdjustQuantities']
        eq(p['userErrors'], [], 'adjust on an inactive level succeeds on ' + v)
        check(p['inventoryAdjustmentGroup'] is not None, 'group')
    after = level(fs, 'source', 'SFDJ-L', 'Outlet')
    eq((after['available'], after['on_hand'], after['active']), (9, 9, False), 'applied, still inactive')
    a = fs.op('log', {'store': 'source', 'kind': 'write'})[-1]['applied'][0]
    eq((a['active'], a['before'], a['after']), (False, 8, 9), 'the write log says the level was inactive')
    # reactivated: writable on 2026-07 again
    d = fs.op('level_deactivate', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-L',
                                   'location': 'Outlet', 'active': True})
    eq(d['level']['active'], True, 'reactivated')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, -1, 9, 'react-07'))
    eq(user_codes(rep), [], 'reactivated level writable on 2026-07')
    rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id']})
    eq([x['isActive'] for x in rep['data']['location']['inventoryLevels']['nodes']], [True], 'listed again')


@test
def rules_never_stocked_by_version():
    """A location that never stocked the item: ITEM_NOT_STOCKED_AT_LOCATION on 2026-07; on 2026-10 the write
    succeeds and stocks the item there (a new active level; invented, Shopify's exact behaviour unknown);
    a rejected 2026-10 write creates nothing."""
    fs = new_fs()
    m = level(fs, 'source', 'SFDJ-M')
    outlet = level(fs, 'source', 'SFDJ-L', 'Outlet')['location_id']
    v = adj_vars(dict(m, location_id=outlet), 3, 0, 'ns-07')
    rep, _ = gql(fs, 'source', ADJUST, v)
    eq(user_codes(rep), ['ITEM_NOT_STOCKED_AT_LOCATION'], '2026-07')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(dict(m, location_id=outlet), 3, 5, 'ns-10-stale'), version='2026-10')
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], '2026-10, compare-and-set against 0')
    eq([x['location'] for x in fs.op('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'], ['Main Warehouse'],
       'a rejected write creates no level')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(dict(m, location_id=outlet), 3, 0, 'ns-10'), version='2026-10')
    eq(user_codes(rep), [], '2026-10: accepted')
    n = level(fs, 'source', 'SFDJ-M', 'Outlet')
    eq((n['available'], n['on_hand'], n['active']), (3, 3, True), 'stocked there')
    check(fs.op('log', {'store': 'source', 'kind': 'write'})[-1]['created_levels'] == [n['level_id']], 'logged')
    rep, _ = gql(fs, 'source', LEVELS, {'loc': outlet}, version='2026-10')
    eq(sorted(x['item']['sku'] for x in rep['data']['location']['inventoryLevels']['nodes']), ['SFDJ-L', 'SFDJ-M'],
       'listed at the location')


@test
def rules_set_quantities_and_bounds():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    SET = '''mutation S($input: InventorySetQuantitiesInput!, $key: String!) {
      inventorySetQuantities(input: $input) @idempotent(key: $key) {
        inventoryAdjustmentGroup { changes { name delta } } userErrors { field message code } } }'''

    def sv(q, cfq, key, name='available'):
        return {'input': {'name': name, 'reason': 'correction', 'quantities': [
            {'inventoryItemId': r['item_id'], 'locationId': r['location_id'], 'quantity': q, 'changeFromQuantity': cfq}]},
            'key': key}
    rep, _ = gql(fs, 'source', SET, sv(40, 50, 's1'))
    eq(rep['data']['inventorySetQuantities']['inventoryAdjustmentGroup']['changes'],
       [{'name': 'available', 'delta': -10}, {'name': 'on_hand', 'delta': -10}], 'set changes')
    rep, _ = gql(fs, 'source', SET, sv(-1, 40, 's2', 'on_hand'))
    eq(user_codes(rep, 'inventorySetQuantities'), ['INVALID_QUANTITY_NEGATIVE'], 'negative on_hand')
    rep, _ = gql(fs, 'source', SET, sv(5, 40, 's3', 'damaged'))
    eq(user_codes(rep, 'inventorySetQuantities'), ['INVALID_NAME'], 'name')
    rep, _ = gql(fs, 'source', SET, sv(1, 1, 's4'))
    eq(user_codes(rep, 'inventorySetQuantities'), ['CHANGE_FROM_QUANTITY_STALE'], 'stale set')
    v = sv(1, 40, 's5')
    del v['input']['quantities'][0]['changeFromQuantity']
    rep, _ = gql(fs, 'source', SET, v)
    eq(rep['errors'][0]['message'], 'InventoryQuantityInput must include the following argument: changeFromQuantity.', 'msg')


@test
def external_changes_sell_restock_refund():
    fs = new_fs()
    b = {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'qty': 5}
    fs.op('sell', b)
    r = level(fs, 'source', 'SFDJ-M')
    eq((r['available'], r['on_hand'], r['committed']), (45, 50, 5), 'sell')
    fs.op('restock', dict(b, qty=10))
    r = level(fs, 'source', 'SFDJ-M')
    eq((r['available'], r['on_hand'], r['committed']), (55, 60, 5), 'restock')
    fs.op('refund', dict(b, qty=7))
    r = level(fs, 'source', 'SFDJ-M')
    eq((r['available'], r['on_hand'], r['committed']), (62, 62, 0), 'refund: 5 uncommitted + 2 returned')
    fs.op('set', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-L', 'location': 'Outlet', 'available': 1})
    eq(level(fs, 'source', 'SFDJ-L', 'Outlet')['available'], 1, 'set')
    kinds = [e['kind'] for e in fs.op('log', {'store': 'source'})]
    eq(kinds, ['sell', 'restock', 'refund', 'set'], 'logged')


# ------------------------------------------------------------------ reads, search, paging, cost

@test
def reads_catalog_queries():
    fs = new_fs()
    q = '''{ shop { id name myshopifyDomain ianaTimezone } publicApiVersions { handle displayName supported }
      currentAppInstallation { accessScopes { handle } }
      locations(first: 10) { edges { cursor node { id name } } nodes { id } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } }
      productByIdentifier(identifier: {handle: "slim-fit-denim-jacket"}) { id handle status title updatedAt
        variants(first: 10) { nodes { id title sku barcode selectedOptions { name value } requiresComponents updatedAt
          inventoryItem { id tracked inventoryLevel(locationId: "gid://shopify/Location/1") { id } } product { id handle } } } } }'''
    rep, _ = gql(fs, 'source', q)
    check('errors' not in rep, rep.get('errors'))
    d = rep['data']
    eq(d['shop']['myshopifyDomain'], 'urbanwear-eu.myshopify.com', 'shop')
    eq(len(d['locations']['nodes']), 2, 'locations')
    p = d['productByIdentifier']
    eq([v['sku'] for v in p['variants']['nodes']], ['SFDJ-M', 'SFDJ-L'], 'variants')
    eq(p['variants']['nodes'][0]['selectedOptions'], [{'name': 'Size', 'value': 'M'}], 'options')
    check(p['id'].startswith('gid://shopify/Product/'), 'gid')
    r = level(fs, 'source', 'SFDJ-M')
    q2 = '''query($ids: [ID!]!, $lv: ID!, $it: ID!, $loc: ID!) { nodes(ids: $ids) { __typename id ... on InventoryLevel { quantities(names: ["available"]) { quantity } } }
      inventoryLevel(id: $lv) { id isActive item { id } location { id } }
      inventoryItem(id: $it) { sku inventoryLevel(locationId: $loc) { id } variant { sku } } }'''
    rep, _ = gql(fs, 'source', q2, {'ids': [r['level_id'], r['item_id'], r['variant_id'], r['location_id'],
                                            'gid://shopify/Product/1'], 'lv': r['level_id'], 'it': r['item_id'], 'loc': r['location_id']})
    check('errors' not in rep, rep.get('errors'))
    eq([n and n['__typename'] for n in rep['data']['nodes']],
       ['InventoryLevel', 'InventoryItem', 'ProductVariant', 'Location', None], 'nodes')
    eq(rep['data']['inventoryItem']['inventoryLevel']['id'], r['level_id'], 'level via item')
    check('?inventory_item_id=' in r['level_id'], 'level gid shape')
    # distinct gids per store
    d_ = level(fs, 'destination', 'SFDJ-M')
    check(d_['item_id'] != r['item_id'] and d_['location_id'] != r['location_id'], 'distinct ids per store')


@test
def search_syntax():
    fs = new_fs()
    def handles(q):
        rep, _ = gql(fs, 'source', 'query($q: String) { products(first: 50, query: $q) { nodes { handle } } }', {'q': q})
        return sorted(n['handle'] for n in rep['data']['products']['nodes'])
    eq(handles('handle:slim-fit-denim-jacket,gift-bundle'), ['gift-bundle', 'slim-fit-denim-jacket'], 'handle list')
    eq(handles('status:draft'), ['gift-bundle'], 'status')
    eq(handles('status:active,draft handle:gift-bundle'), ['gift-bundle'], 'AND')
    eq(handles("updated_at:>'2000-01-01T00:00:00Z'"), ['gift-bundle', 'slim-fit-denim-jacket', 'untracked-tee'], 'updated_at')
    eq(handles("updated_at:<2000-01-01T00:00:00Z"), [], 'unquoted <')
    rep, _ = gql(fs, 'source', 'query($q: String) { productVariants(first: 50, query: $q) { nodes { sku } } }', {'q': 'sku:SFDJ-L'})
    eq([n['sku'] for n in rep['data']['productVariants']['nodes']], ['SFDJ-L'], 'sku')
    rep, _ = gql(fs, 'source', 'query($q: String) { productVariants(first: 50, query: $q) { nodes { sku } } }', {'q': 'barcode:0001'})
    eq([n['sku'] for n in rep['data']['productVariants']['nodes']], ['SFDJ-M'], 'barcode')
    rep, _ = gql(fs, 'source', 'query($q: String) { inventoryItems(first: 50, query: $q) { nodes { sku } } }', {'q': 'sku:GB-1'})
    eq([n['sku'] for n in rep['data']['inventoryItems']['nodes']], ['GB-1'], 'inventoryItems sku')


@test
def updated_at_with_index_lag():
    fs = new_fs()
    fs.op('index_lag', {'store': 'source', 'seconds': 30})
    r = level(fs, 'source', 'SFDJ-M')
    t0 = F.iso(fs.clock.now() + 1)
    fs.op('clock', {'advance': 5})
    fs.op('sell', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'qty': 2})
    q = "updated_at:>='%s'" % t0
    rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id'], 'q': q})
    eq(rep['data']['location']['inventoryLevels']['nodes'], [], 'not yet in the index')
    rep, _ = gql(fs, 'source', 'query($id: ID!) { inventoryLevel(id: $id) { quantities(names: ["available"]) { quantity } } }',
                 {'id': r['level_id']})
    eq(rep['data']['inventoryLevel']['quantities'][0]['quantity'], 48, 'read by id is fresh')
    fs.op('clock', {'advance': 31})
    rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id'], 'q': q})
    n = rep['data']['location']['inventoryLevels']['nodes']
    eq([x['item']['sku'] for x in n], ['SFDJ-M'], 'visible after lag')
    eq(n[0]['quantities'][0]['quantity'], 48, 'quantity')
    # without lag a change is visible at once, and a mutation moves updatedAt too
    fs.op('index_lag', {'store': 'source', 'seconds': 0})
    fs.op('clock', {'advance': 10})
    t1 = F.iso(fs.clock.now())
    fs.op('clock', {'advance': 2})
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 1, 48, 'lag-k'))
    rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id'], 'q': "updated_at:>'%s'" % t1})
    eq([x['item']['sku'] for x in rep['data']['location']['inventoryLevels']['nodes']], ['SFDJ-M'], 'mutation moves updatedAt')


@test
def paging_to_the_end():
    fs = F.FakeShop(3)
    t = time.time()
    fs.op('generate', {'store': 'big', 'products': 300, 'variants_per_product': 2, 'locations': 2, 'quantity': 4})
    gen = time.time() - t
    fs.op('throttle', {'store': 'big', 'max': 100000, 'restore': 100000, 'available': 100000})
    loc = fs.op('levels', {'store': 'big'})[0]['location_id']
    seen, after, pages = [], None, 0
    while True:
        rep, _ = gql(fs, 'big', LEVELS, {'loc': loc, 'after': after})
        c = rep['data']['location']['inventoryLevels']
        seen += [n['id'] for n in c['nodes']]
        pages += 1
        if not c['pageInfo']['hasNextPage']:
            break
        after = c['pageInfo']['endCursor']
    eq((len(seen), len(set(seen)), pages), (600, 600, 3), 'pages')
    rep, _ = gql(fs, 'big', '{ products(first: 2, reverse: true) { nodes { handle } pageInfo { hasNextPage } } }')
    eq(rep['data']['products']['nodes'][0]['handle'], 'gen-product-000300', 'reverse')
    print('  (generate: 600 variants x 2 locations in %.2f s)' % gen)


@test
def cost_and_max_cost():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 1, 50, 'c1'))
    c = rep['extensions']['cost']
    eq((c['requestedQueryCost'], c['actualQueryCost']), (13, 13), 'mutation cost as captured')
    eq(c['throttleStatus']['maximumAvailable'], 2000, 'bucket')
    rep, _ = gql(fs, 'source', LEVELS, {'loc': r['location_id']})
    c = rep['extensions']['cost']
    check(c['requestedQueryCost'] > 250 and c['actualQueryCost'] < 20, 'connection cost sized by first, actual by result: %r' % c)
    big = '{ locations(first: 250) { nodes { inventoryLevels(first: 250) { nodes { id } } } } }'
    rep, _ = gql(fs, 'source', big)
    e = rep['errors'][0]
    eq(e['extensions']['code'], 'MAX_COST_EXCEEDED', 'code')
    check(e['message'].startswith('Query cost is ') and 'exceeds the single query max cost limit (1000)' in e['message'], e['message'])
    st = fs.op('stats', {'store': 'source'})
    check(st['requests']['mutation'] == 1 and st['requested_cost'] > 0 and st['actual_cost'] > 0, 'stats %r' % st)


@test
def throttling_in_process():
    fs = new_fs()
    fs.op('throttle', {'store': 'source', 'max': 40, 'restore': 1, 'available': 14})
    q = '{ products(first: 10) { nodes { id handle } } }'   # requested 12, actual 5
    codes = []
    for i in range(3):
        rep, status = gql(fs, 'source', q)
        codes.append((status, rep.get('errors', [{}])[0].get('extensions', {}).get('code')))
    eq(codes[0], (200, None), 'first fits')
    eq(rep['extensions']['cost']['requestedQueryCost'], 12, 'requested')
    eq(codes[2], (200, 'THROTTLED'), 'then throttled (HTTP 200 default)')
    rep, _ = gql(fs, 'source', q)
    eq(set(rep), {'errors', 'extensions'}, 'no data when throttled')
    eq(rep['errors'], [{'message': 'Throttled', 'extensions': {'code': 'THROTTLED',
                                                              'documentation': 'https://shopify.dev/api/usage/rate-limits'}}], 'shape')
    eq(rep['extensions']['cost']['actualQueryCost'], None, 'actual null')
    eq(set(rep['extensions']['cost']['throttleStatus']), {'maximumAvailable', 'currentlyAvailable', 'restoreRate'}, 'ts')
    check(fs.op('stats', {'store': 'source'})['throttled'] >= 2, 'throttled counted')


@test
def access_scopes():
    fs = new_fs()
    fs.op('scopes', {'store': 'source', 'scopes': ['read_products']})
    rep, _ = gql(fs, 'source', '{ locations(first: 1) { nodes { id } } currentAppInstallation { accessScopes { handle } } }')
    eq(rep['errors'][0]['extensions']['code'], 'ACCESS_DENIED', 'code')
    eq(rep['data'], None, 'non-null root field null -> data null')
    rep, _ = gql(fs, 'source', '{ currentAppInstallation { accessScopes { handle } } }')
    eq(rep['data']['currentAppInstallation']['accessScopes'], [{'handle': 'read_products'}], 'scopes')


# ------------------------------------------------------------------ bulk operations, productVariantsCount

BULK_CATALOG = '''{ productVariants { edges { node { id sku barcode selectedOptions { name value } requiresComponents
  inventoryItem { id tracked } product { id handle status } } } } }'''
BULK_LEVELS = '''{ locations { edges { node { id inventoryLevels { edges { node { id isActive updatedAt item { id }
  quantities(names: ["available"]) { name quantity } } } } } } } }'''
BULK_RUN = '''mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status } userErrors { field message code } } }'''
BULK_STATUS = '''query BulkStatus($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount
  fileSize url partialDataUrl createdAt completedAt type } }'''


def bulk_run(fs, store, query):
    rep, _ = gql(fs, store, BULK_RUN, {'query': query})
    check('errors' not in rep, rep.get('errors'))
    return rep['data']['bulkOperationRunQuery']


def bulk_status(fs, store, bid):
    rep, _ = gql(fs, store, BULK_STATUS, {'id': bid})
    check('errors' not in rep, rep.get('errors'))
    return rep['data']['bulkOperation']


def bulk_file(fs, store, url):
    """GETs a bulk file in process; returns the lines (each checked to be compact JSON ending in \\n)."""
    token = url.rsplit('/', 1)[1][:-len('.jsonl')]
    status, data, ctype, cut = fs.bulk_file(store, token)
    eq((status, ctype, cut), (200, 'application/jsonl', False), 'file GET')
    return parse_jsonl(data)


def parse_jsonl(data):
    text = data.decode()
    check(text.endswith('\n'), 'file ends with a newline')
    lines = []
    for raw in text[:-1].split('\n'):
        obj = json.loads(raw)
        eq(json.dumps(obj, separators=(',', ':')), raw, 'compact line')
        lines.append(obj)
    return lines


def bulk_done(fs, store, query):
    """Runs a bulk query with delay 0; returns (status object, lines)."""
    fs.op('bulk', {'store': store, 'delay': 0})
    r = bulk_run(fs, store, query)
    eq(r['userErrors'], [], 'userErrors')
    eq(r['bulkOperation']['status'], 'CREATED', 'the mutation answers CREATED even with delay 0')
    b = bulk_status(fs, store, r['bulkOperation']['id'])
    eq(b['status'], 'COMPLETED', 'status')
    return b, (bulk_file(fs, store, b['url']) if b['url'] else [])


def check_parent_order(lines):
    """Every __parentId names a line without one that comes earlier; returns {parent id: [children]}."""
    seen, kids = set(), {}
    for i, x in enumerate(lines):
        p = x.get('__parentId')
        if p is None:
            seen.add(x['id'])
        else:
            check(p in seen, 'line %d: parent %s not emitted before' % (i, p))
            kids.setdefault(p, []).append(x)
    return kids


@test
def bulk_catalog_variants_file():
    fs = new_fs()
    b, lines = bulk_done(fs, 'source', BULK_CATALOG)
    eq([x['sku'] for x in lines], ['SFDJ-M', 'SFDJ-L', 'UT-1', 'GB-1'], 'one line per variant')
    eq(lines[0], {'id': level(fs, 'source', 'SFDJ-M')['variant_id'], 'sku': 'SFDJ-M', 'barcode': '0001',
                  'selectedOptions': [{'name': 'Size', 'value': 'M'}], 'requiresComponents': False,
                  'inventoryItem': {'id': level(fs, 'source', 'SFDJ-M')['item_id'], 'tracked': True},
                  'product': {'id': lines[0]['product']['id'], 'handle': 'slim-fit-denim-jacket', 'status': 'ACTIVE'}},
       'line shape: nested objects inline')
    eq((lines[2]['inventoryItem']['tracked'], lines[3]['requiresComponents'], lines[3]['product']['status']),
       (False, True, 'DRAFT'), 'values')
    check(all('__parentId' not in x for x in lines), 'no __parentId at the top level')
    eq((b['objectCount'], b['rootObjectCount'], b['type']), ('4', '4', 'QUERY'), 'UnsignedInt64 counts as strings')
    eq(b['fileSize'], str(len(fs.store('source').bulk_ops[F.gid_num(b['id'])].data)), 'fileSize (string)')
    check(b['completedAt'] and b['createdAt'] and b['errorCode'] is None and b['partialDataUrl'] is None, 'fields %r' % b)
    # a search filter inside a bulk query; first/after are ignored
    b, lines = bulk_done(fs, 'source', '{ productVariants(first: 1, after: "junk", query: "sku:SFDJ-*") { nodes { sku } } }')
    eq(lines, [{'sku': 'SFDJ-M'}, {'sku': 'SFDJ-L'}], 'query: filter, no paging, nodes form')
    st = fs.op('stats', {'store': 'source'})
    eq((st['bulk_ops'], st['bulk_downloads']), (2, 2), 'stats')
    eq(st['requests']['mutation'], 2, 'counted as mutations')
    log = fs.op('log', {'store': 'source', 'kind': 'bulk_operation'})
    eq([(e['operation'], e['outcome'], e['objects']) for e in log], [('BulkRun', 'created', 4), ('BulkRun', 'created', 2)], 'log')


@test
def bulk_levels_parent_ids_and_snapshot():
    fs = new_fs()
    fs.op('add_location', {'store': 'source', 'name': 'Closed', 'active': False})
    fs.op('bulk', {'store': 'source', 'delay': 5})
    r = bulk_run(fs, 'source', BULK_LEVELS)
    eq((r['userErrors'], r['bulkOperation']['status']), ([], 'CREATED'), 'created')
    bid = r['bulkOperation']['id']
    check(bid.startswith('gid://shopify/BulkOperation/') and F.gid_num(bid) > 1000000, 'realistic id %s' % bid)
    # changes after the creation are not in the file
    fs.op('sell', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-M', 'qty': 5})
    fs.op('clock', {'advance': 6})
    b = bulk_status(fs, 'source', bid)
    eq(b['status'], 'COMPLETED', 'completed after the delay')
    lines = bulk_file(fs, 'source', b['url'])
    locs = [x for x in lines if '__parentId' not in x]
    levels = [x for x in lines if '__parentId' in x]
    rows = fs.op('levels', {'store': 'source'})
    eq(sorted(x['id'] for x in locs), sorted({r['location_id'] for r in rows}), 'active locations only')
    check(all(set(x) == {'id'} for x in locs), 'location lines carry only their id')
    eq(len(levels), len(rows), 'one line per level')
    kids = check_parent_order(lines)
    for x in levels:
        row = next(r for r in rows if r['level_id'] == x['id'])
        eq(x['__parentId'], row['location_id'], '__parentId is the level\'s location')
        eq(list(x), ['id', 'isActive', 'updatedAt', 'item', 'quantities', '__parentId'], 'key order')
        eq(x['item'], {'id': row['item_id']}, 'item inline')
        want = 50 if row['sku'] == 'SFDJ-M' else row['available']
        eq(x['quantities'], [{'name': 'available', 'quantity': want}], 'snapshot quantity of ' + row['sku'])
    eq((b['objectCount'], b['rootObjectCount']), (str(len(lines)), '2'), 'counts')
    eq(sum(len(v) for v in kids.values()), len(levels), 'all children attached')


@test
def bulk_nested_ordering_and_group_objects():
    fs = F.FakeShop(3)
    fs.op('generate', {'store': 'g', 'products': 4, 'variants_per_product': 1, 'locations': 7, 'quantity': 2})
    b, lines = bulk_done(fs, 'g', BULK_LEVELS)
    eq(len(lines), 7 + 28, 'lines')
    check_parent_order(lines)
    eq([('__parentId' in x) for x in lines[:4]], [False, False, False, True], 'parents batched in threes, then children')
    # nodes { } form, a connection under a plain object, and groupObjects:true (children right after parents)
    q = '{ locations(first: 3) { nodes { id name inventoryLevels(first: 2) { nodes { id } } } } }'
    b, lines2 = bulk_done(fs, 'g', q)
    eq(len(lines2), 35, 'nodes form: every node')
    rep, _ = gql(fs, 'g', 'mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) { bulkOperation { id } userErrors { code } } }',
                 {'q': q})
    b = bulk_status(fs, 'g', rep['data']['bulkOperationRunQuery']['bulkOperation']['id'])
    lines3 = bulk_file(fs, 'g', b['url'])
    eq([('__parentId' in x) for x in lines3[:6]], [False, True, True, True, True, False], 'grouped')
    loc = fs.op('levels', {'store': 'g'})[0]['location_id']
    b, lines4 = bulk_done(fs, 'g', '{ location(id: "%s") { name inventoryLevels { edges { node { id item { sku } } } } } }' % loc)
    eq((len(lines4), b['rootObjectCount']), (4, '4'), 'connection under a root object: its nodes are the roots')
    check(all('__parentId' not in x for x in lines4), 'no parent line for a plain object')
    q = '{ products { edges { node { id handle variants { edges { node { id sku } } } } } } }'
    b, lines5 = bulk_done(fs, 'g', q)
    kids = check_parent_order(lines5)
    eq((len(lines5), len(kids), b['rootObjectCount']), (8, 4, '4'), 'products with variants')


@test
def bulk_invalid_queries():
    fs = new_fs()
    cases = [
        ('{ shop { name } }', 'at least one connection'),
        ('{ node(id: "gid://shopify/Product/1") { id } }', 'top level `node` or `nodes`'),
        ('{ nodes(ids: ["gid://shopify/Product/1"]) { id } productVariants { nodes { id } } }', 'top level `node` or `nodes`'),
        ('{ products { nodes { id variants { nodes { id inventoryItem { inventoryLevels { nodes { id } } } } } } } }',
         'nesting depth greater than 2'),
        ('{ a: products { nodes { id } } b: products { nodes { id } } c: products { nodes { id } } '
         'd: products { nodes { id } } e: products { nodes { id } } f: products { nodes { id } } }', 'more than 5 connections'),
        ('{ locations { nodes { name inventoryLevels { nodes { id } } } } }', "must select the 'id' field"),
        ('{ locations { nodes { id: name inventoryLevels { nodes { id } } } } }', "must select the 'id' field"),
        ('{ productVariants { nodes { id nope } } }', "Field 'nope' doesn't exist on type 'ProductVariant'"),
        ('{ productVariants { nodes { id }', 'Syntax Error'),
        ('mutation { bulkOperationRunQuery(query: "{ products { nodes { id } } }") { userErrors { code } } }', 'query operations'),
        ('query($q: String) { products(query: $q) { nodes { id } } }', 'variables'),
        ('{ locations { pageInfo { hasNextPage } } }', "must select 'edges { node }' or 'nodes'"),
        ('{ locations { nodes { id inventoryLevels { nodes { quantities(names: ["bogus"]) { quantity } } } } } }',
         'The quantity name bogus is invalid.'),
    ]
    for q, want in cases:
        r = bulk_run(fs, 'source', q)
        eq(r['bulkOperation'], None, 'no operation for %s' % q)
        eq(len(r['userErrors']), 1, 'one userError')
        e = r['userErrors'][0]
        eq((e['field'], e['code']), (['query'], 'INVALID'), 'field and code')
        check(e['message'].startswith('Invalid bulk query: ') and want in e['message'],
              'message for %s: %r' % (q, e['message']))
    eq(fs.op('stats', {'store': 'source'})['bulk_ops'], 0, 'nothing created')
    eq(len(fs.op('log', {'store': 'source', 'kind': 'bulk_operation'})), len(cases), 'rejections logged')
    # depth 2 with 5 connections is fine
    ok = '{ a: products { nodes { id v: variants { nodes { id } } } } b: locations { nodes { id } } ' \
         'c: inventoryItems { nodes { id l: inventoryLevels { nodes { id } } } } }'
    eq(bulk_run(fs, 'source', ok)['userErrors'], [], 'five connections, depth 2')


@test
def bulk_limit_status_and_isolation():
    fs = new_fs()
    fs.op('bulk', {'store': 'source', 'delay': 10})
    ids = []
    for i in range(5):
        r = bulk_run(fs, 'source', BULK_CATALOG)
        eq(r['userErrors'], [], 'op %d' % (i + 1))
        ids.append(r['bulkOperation']['id'])
    eq(ids, sorted(ids, key=F.gid_num), 'ids increase')
    r = bulk_run(fs, 'source', BULK_CATALOG)
    eq(r['bulkOperation'], None, '6th refused')
    e = r['userErrors'][0]
    eq(e['code'], 'LIMIT_REACHED', 'code')
    check('already in progress' in e['message'], e['message'])
    eq(bulk_run(fs, 'destination', BULK_CATALOG)['userErrors'], [], 'the limit is per store')
    b = bulk_status(fs, 'source', ids[0])
    eq((b['status'], b['objectCount'], b['url'], b['fileSize'], b['completedAt']), ('CREATED', '0', None, None, None), 'fresh')
    fs.op('clock', {'advance': 2})
    b = bulk_status(fs, 'source', ids[0])
    eq(b['status'], 'RUNNING', 'running')
    check(isinstance(b['objectCount'], str) and 0 <= int(b['objectCount']) <= 4, 'running count %r' % b['objectCount'])
    fs.op('clock', {'advance': 8.5})
    b = bulk_status(fs, 'source', ids[0])
    eq((b['status'], b['objectCount'], b['rootObjectCount']), ('COMPLETED', '4', '4'), 'completed')
    check(b['url'].startswith('https://localhost/bulk/source/') and b['url'].endswith('.jsonl'), b['url'])
    eq(bulk_run(fs, 'source', BULK_CATALOG)['userErrors'], [], 'room again')
    # node(id:) and nodes(ids:) reach it too; another store and unknown ids do not
    rep, _ = gql(fs, 'source', 'query($id: ID!) { node(id: $id) { __typename id ... on BulkOperation { status url } } }', {'id': ids[0]})
    eq((rep['data']['node']['__typename'], rep['data']['node']['status']), ('BulkOperation', 'COMPLETED'), 'node(id:)')
    eq(bulk_status(fs, 'destination', ids[0]), None, 'other store: null')
    eq(bulk_status(fs, 'source', 'gid://shopify/BulkOperation/1'), None, 'unknown: null')
    tok = b['url'].rsplit('/', 1)[1][:-6]
    eq(fs.bulk_file('destination', tok)[0], 404, 'another store\'s file path')
    eq(fs.bulk_file('source', tok)[0], 200, 'own file')
    # URLs expire after 7 days
    fs.op('clock', {'advance': 7 * 86400})
    b = bulk_status(fs, 'source', ids[0])
    eq((b['status'], b['url']), ('EXPIRED', None), 'expired after 7 days')
    eq(fs.bulk_file('source', tok)[0], 403, 'expired file')
    # only the newest BULK_KEEP_FILES files are kept; older ones expire
    fs.op('bulk', {'store': 'destination', 'delay': 0})
    first = bulk_run(fs, 'destination', BULK_CATALOG)['bulkOperation']['id']
    for i in range(F.BULK_KEEP_FILES):
        last = bulk_run(fs, 'destination', BULK_CATALOG)['bulkOperation']['id']
    eq((bulk_status(fs, 'destination', first)['status'], bulk_status(fs, 'destination', last)['status']),
       ('EXPIRED', 'COMPLETED'), 'oldest file evicted')


@test
def bulk_faults_and_empty_result():
    fs = new_fs()
    fs.op('bulk', {'store': 'source', 'delay': 0, 'fail': 'INTERNAL_SERVER_ERROR'})
    r = bulk_run(fs, 'source', BULK_CATALOG)
    b = bulk_status(fs, 'source', r['bulkOperation']['id'])
    eq((b['status'], b['errorCode'], b['url'], b['partialDataUrl'], b['completedAt']),
       ('FAILED', 'INTERNAL_SERVER_ERROR', None, None, None), 'failed')
    b, lines = bulk_done(fs, 'source', BULK_CATALOG)
    eq(len(lines), 4, 'fail is one-shot')
    for code in ('TIMEOUT', 'ACCESS_DENIED'):
        fs.op('bulk', {'store': 'source', 'fail': code})
        b = bulk_status(fs, 'source', bulk_run(fs, 'source', BULK_CATALOG)['bulkOperation']['id'])
        eq((b['status'], b['errorCode']), ('FAILED', code), code)
    fs.op('bulk', {'store': 'source', 'cancel': True})
    b = bulk_status(fs, 'source', bulk_run(fs, 'source', BULK_CATALOG)['bulkOperation']['id'])
    eq((b['status'], b['errorCode'], b['url']), ('CANCELED', None, None), 'canceled')
    eq(bulk_status(fs, 'source', bulk_run(fs, 'source', BULK_CATALOG)['bulkOperation']['id'])['status'], 'COMPLETED',
       'cancel is one-shot')
    for bad in ({'fail': 'NOPE'}, {'delay': -1}, {'bogus': 1}):
        try:
            fs.op('bulk', dict(bad, store='source'))
            raise AssertionError('accepted %r' % bad)
        except ValueError:
            pass
    # a missing scope inside the query: the operation is created and fails with ACCESS_DENIED
    fs.op('scopes', {'store': 'source', 'scopes': ['read_products', 'read_inventory']})
    r = bulk_run(fs, 'source', BULK_LEVELS)
    eq(r['userErrors'], [], 'accepted')
    b = bulk_status(fs, 'source', r['bulkOperation']['id'])
    eq((b['status'], b['errorCode'], b['url']), ('FAILED', 'ACCESS_DENIED', None), 'scope failure')
    # nothing matched: COMPLETED, url null, objectCount "0"
    b, lines = bulk_done(fs, 'source', '{ productVariants(query: "sku:NO-SUCH-SKU") { edges { node { id } } } }')
    eq((b['objectCount'], b['rootObjectCount'], b['url'], b['fileSize'], lines), ('0', '0', None, None, []), 'empty')


@test
def bulk_access_denied_and_limit_forever():
    """bulk {access: false}: bulkOperationRunQuery answers a top-level ACCESS_DENIED until {access: true};
    bulk {limit_reached: true}: every start answers userError LIMIT_REACHED until false. Per store."""
    fs = new_fs()
    fs.op('bulk', {'store': 'source', 'delay': 0})
    old = bulk_run(fs, 'source', BULK_CATALOG)['bulkOperation']['id']
    eq(fs.op('bulk', {'store': 'source', 'access': False}), {'ok': True}, 'reply')
    for v in ('2026-07', '2026-10'):
        rep, status = gql(fs, 'source', BULK_RUN, {'query': BULK_CATALOG}, version=v)
        eq((status, rep['data']), (200, {'bulkOperationRunQuery': None}), 'data null ' + v)
        e = rep['errors'][0]
        eq((e['extensions']['code'], e['path']), ('ACCESS_DENIED', ['bulkOperationRunQuery']), 'top-level error ' + v)
        check('bulk' in e['message'], e['message'])
        check(rep['extensions']['cost']['actualQueryCost'] is not None, 'executed: cost reported')
    rep, _ = gql(fs, 'source', BULK_RUN, {'query': '{ shop { name } }'})
    eq(rep['errors'][0]['extensions']['code'], 'ACCESS_DENIED', 'denied before the query is judged')
    eq(bulk_status(fs, 'source', old)['status'], 'COMPLETED', 'earlier operations still readable')
    eq(bulk_run(fs, 'destination', BULK_CATALOG)['userErrors'], [], 'other store unaffected')
    eq(fs.op('stats', {'store': 'source'})['bulk_ops'], 1, 'nothing created')
    eq([e['outcome'] for e in fs.op('log', {'store': 'source', 'kind': 'bulk_operation'})][-1], 'ACCESS_DENIED', 'log')
    fs.op('bulk', {'store': 'source', 'access': True})
    eq(bulk_run(fs, 'source', BULK_CATALOG)['userErrors'], [], 'restored')
    # LIMIT_REACHED forever
    fs.op('bulk', {'store': 'source', 'limit_reached': True})
    for i in range(3):
        fs.op('clock', {'advance': 3600})
        r = bulk_run(fs, 'source', BULK_CATALOG)
        eq(r['bulkOperation'], None, 'never starts (%d)' % i)
        eq([(e['code'], e['field']) for e in r['userErrors']], [('LIMIT_REACHED', None)], 'LIMIT_REACHED (%d)' % i)
        check('already in progress' in r['userErrors'][0]['message'], r['userErrors'][0]['message'])
    r = bulk_run(fs, 'source', '{ shop { name } }')
    eq(r['userErrors'][0]['code'], 'INVALID', 'an invalid query is still INVALID first')
    eq(bulk_run(fs, 'destination', BULK_CATALOG)['userErrors'], [], 'other store unaffected')
    eq(fs.op('stats', {'store': 'source'})['bulk_ops'], 2, 'nothing created')
    fs.op('bulk', {'store': 'source', 'limit_reached': False})
    eq(bulk_run(fs, 'source', BULK_CATALOG)['userErrors'], [], 'starts again')
    scn = copy.deepcopy(SCENARIO)
    scn['stores'][1].update({'bulk_access': False})
    rep, _ = gql(new_fs(scn), 'destination', BULK_RUN, {'query': BULK_CATALOG})
    eq(rep['errors'][0]['extensions']['code'], 'ACCESS_DENIED', 'scenario key bulk_access')
    scn['stores'][1].update({'bulk_access': True, 'bulk_limit_reached': True})
    eq(bulk_run(new_fs(scn), 'destination', BULK_CATALOG)['userErrors'][0]['code'], 'LIMIT_REACHED',
       'scenario key bulk_limit_reached')


@test
def variants_count():
    fs = new_fs()
    q = '''query($q: String, $l: Int) { d: productVariantsCount { count precision }
      c: productVariantsCount(query: $q, limit: $l) { count precision } }'''
    rep, _ = gql(fs, 'source', q, {'l': 2})
    eq(rep['data'], {'d': {'count': 4, 'precision': 'EXACT'}, 'c': {'count': 2, 'precision': 'AT_LEAST'}}, 'capped')
    eq(rep['extensions']['cost']['requestedQueryCost'], 2, 'one point each')
    rep, _ = gql(fs, 'source', q, {'l': None})
    eq(rep['data']['c'], {'count': 4, 'precision': 'EXACT'}, 'null limit: no cap')
    rep, _ = gql(fs, 'source', q, {'l': 4})
    eq(rep['data']['c'], {'count': 4, 'precision': 'EXACT'}, 'limit = count: exact')
    rep, _ = gql(fs, 'source', q, {'q': 'sku:SFDJ-*', 'l': 1})
    eq(rep['data']['c'], {'count': 1, 'precision': 'AT_LEAST'}, 'query filter, capped')
    rep, _ = gql(fs, 'source', q, {'q': 'sku:SFDJ-*'})
    eq(rep['data']['c'], {'count': 2, 'precision': 'EXACT'}, 'query filter')
    fs2 = F.FakeShop(3)
    fs2.op('generate', {'store': 'g', 'products': 10001, 'variants_per_product': 1, 'locations': 1})
    rep, _ = gql(fs2, 'g', '{ productVariantsCount { count precision } }')
    eq(rep['data']['productVariantsCount'], {'count': 10000, 'precision': 'AT_LEAST'}, 'default limit 10000')
    fs.op('scopes', {'store': 'source', 'scopes': ['read_inventory']})
    rep, _ = gql(fs, 'source', '{ productVariantsCount { count } }')
    eq(rep['errors'][0]['extensions']['code'], 'ACCESS_DENIED', 'read_products needed')


@test
def variants_count_null():
    """control op variants_count {null: true}: the nullable productVariantsCount answers null, per store."""
    fs = new_fs()
    q = '{ productVariantsCount { count precision } }'
    eq(fs.op('variants_count', {'store': 'source', 'null': True}), {'ok': True, 'null': True}, 'reply')
    rep, st = gql(fs, 'source', q)
    eq((st, rep['data'], 'errors' in rep), (200, {'productVariantsCount': None}, False), 'null, no error')
    check(rep['extensions']['cost']['actualQueryCost'] <= rep['extensions']['cost']['requestedQueryCost'], 'cost')
    rep, _ = gql(fs, 'destination', q)
    eq(rep['data']['productVariantsCount'], {'count': 1, 'precision': 'EXACT'}, 'other store unaffected')
    rep, _ = gql(fs, 'source', q, version='2026-10')
    eq(rep['data']['productVariantsCount'], None, 'on every version')
    fs.op('scopes', {'store': 'source', 'scopes': ['read_inventory']})
    rep, _ = gql(fs, 'source', q)
    eq(rep['errors'][0]['extensions']['code'], 'ACCESS_DENIED', 'scope still checked first')
    fs.op('scopes', {'store': 'source', 'scopes': ['read_products']})
    fs.op('variants_count', {'store': 'source', 'null': False})
    rep, _ = gql(fs, 'source', q)
    eq(rep['data']['productVariantsCount'], {'count': 4, 'precision': 'EXACT'}, 'back to the count')
    scn = copy.deepcopy(SCENARIO)
    scn['stores'][1]['variants_count_null'] = True
    rep, _ = gql(new_fs(scn), 'destination', q)
    eq(rep['data']['productVariantsCount'], None, 'scenario key variants_count_null')
    for bad in ({}, {'null': True, 'x': 1}):
        try:
            fs.op('variants_count', dict(bad, store='source'))
            raise AssertionError('accepted %r' % bad)
        except ValueError:
            pass


@test
def bulk_agent_documents():
    """invsync's own bulk documents (agent/graphql), when present, run against the fake as sent."""
    d = os.path.join(REPO, 'agent', 'graphql')
    names = ('bulk_run', 'bulk_status', 'bulk_catalog', 'bulk_levels', 'variants_count')
    if not all(os.path.exists(os.path.join(d, n + '.graphql')) for n in names):
        raise Skip('agent/graphql/{%s}.graphql not all present' % ','.join(names))
    doc = {n: open(os.path.join(d, n + '.graphql')).read() for n in names}
    fs = new_fs()
    fs.op('bulk', {'store': 'source', 'delay': 0})
    rep, _ = gql(fs, 'source', doc['variants_count'])
    eq(rep['data']['productVariantsCount'], {'count': 4, 'precision': 'EXACT'}, 'variants_count')
    for kind, want in (('bulk_catalog', 4), ('bulk_levels', 7)):
        rep, _ = gql(fs, 'source', doc['bulk_run'], {'query': doc[kind]})
        check('errors' not in rep, rep.get('errors'))
        r = rep['data']['bulkOperationRunQuery']
        eq(r['userErrors'], [], kind)
        rep, _ = gql(fs, 'source', doc['bulk_status'], {'id': r['bulkOperation']['id']})
        b = rep['data']['bulkOperation']
        eq((b['status'], b['objectCount']), ('COMPLETED', str(want)), kind + ' status')
        eq(len(bulk_file(fs, 'source', b['url'])), want, kind + ' lines')


@test
def bulk_build_speed():
    fs = F.FakeShop(3)
    fs.op('generate', {'store': 'g', 'products': 20000, 'variants_per_product': 1, 'locations': 1, 'quantity': 3})
    fs.op('bulk', {'store': 'g', 'delay': 0})
    fs.op('throttle', {'store': 'g', 'available': 2000})
    t = time.time()
    r = bulk_run(fs, 'g', BULK_LEVELS)
    dt = time.time() - t
    b = bulk_status(fs, 'g', r['bulkOperation']['id'])
    eq(b['objectCount'], '20001', 'objects')
    print('  (bulk levels file: 20001 lines, %d bytes in %.2f s)' % (int(b['fileSize']), dt))
    check(dt < 2.5, 'too slow: %.2f s for 20k levels' % dt)


# ------------------------------------------------------------------ schema subset check

@test
def schema_subset_matches_real_schema():
    from graphql import build_schema, GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType, GraphQLEnumType
    full = build_schema(shopify_schema.read())
    sub = F.SCHEMA
    n = 0
    for name, t in sub.type_map.items():
        if name.startswith('__'):
            continue
        ft = full.get_type(name)
        check(ft is not None, 'type %s missing from the real schema' % name)
        eq(type(ft), type(t), 'kind of %s' % name)
        if isinstance(t, GraphQLEnumType):
            check(set(t.values) <= set(ft.values), 'enum values of %s' % name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for fname, f in t.fields.items():
                rf = ft.fields.get(fname)
                check(rf is not None, '%s.%s not in the real schema' % (name, fname))
                eq(str(f.type), str(rf.type), 'type of %s.%s' % (name, fname))
                n += 1
                for aname, a in getattr(f, 'args', {}).items():
                    ra = rf.args.get(aname)
                    check(ra is not None, '%s.%s(%s) not in the real schema' % (name, fname, aname))
                    eq(str(a.type), str(ra.type), 'type of %s.%s(%s)' % (name, fname, aname))
                    eq(a.default_value, ra.default_value, 'default of %s.%s(%s)' % (name, fname, aname))
                    n += 1
            if not isinstance(t, GraphQLInputObjectType):
                check({i.name for i in t.interfaces} <= {i.name for i in ft.interfaces}, 'interfaces of %s' % name)
    for d in sub.directives:
        rd = full.get_directive(d.name)
        check(rd is not None, 'directive %s' % d.name)
        eq(sorted(d.locations, key=str), sorted(rd.locations, key=str), 'locations of @%s' % d.name)
        eq({k: str(a.type) for k, a in d.args.items()}, {k: str(a.type) for k, a in rd.args.items()}, 'args of @%s' % d.name)
    print('  (%d fields and arguments checked)' % n)


# ------------------------------------------------------------------ capture replay

def _walk(o, path=()):
    if isinstance(o, dict):
        if 'variables' in o and 'response' in o and isinstance(o['variables'], dict) and isinstance(o['variables'].get('input'), dict):
            yield path, o
        for k, v in o.items():
            yield from _walk(v, path + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from _walk(v, path + (i,))


def _selection(v):
    if isinstance(v, list):
        v = next((x for x in v if isinstance(x, dict)), None)
        if v is None:
            return ''
    if isinstance(v, dict):
        return '{ ' + ' '.join(k + (' ' + _selection(x) if isinstance(x, (dict, list)) and _selection(x) else
                                    (' { id }' if x is None and k in OBJECT_FIELDS else
                                     (' { field message code }' if k == 'userErrors' else
                                      (' { name delta }' if k == 'changes' else ''))))
                               for k, x in v.items()) + ' }'
    return ''


OBJECT_FIELDS = ('inventoryAdjustmentGroup', 'item', 'location')
UNKNOWN = ('999999999999', 'InventoryItem/42', 'Location/515151515151')


def _replay_case(fname, path, case):
    resp = case['response']
    data = resp.get('data') or {}
    field = next((k for k in ('inventoryAdjustQuantities', 'inventorySetQuantities') if k in data), None)
    if field is None:
        for e in resp.get('errors', []):
            if e.get('path') and e['path'][0] in ('inventoryAdjustQuantities', 'inventorySetQuantities'):
                field = e['path'][0]
        if field is None and 'InventorySetQuantitiesInput' in json.dumps(resp):
            field = 'inventorySetQuantities'
    if field is None:
        return None
    inp = case['variables']['input']
    entries_key = 'changes' if field == 'inventoryAdjustQuantities' else 'quantities'
    entries = inp.get(entries_key) or []
    # build a store holding every known item at every known location, with the quantities the
    # captured changeFromQuantity values expect
    items = sorted({e['inventoryItemId'] for e in entries if not any(u in e['inventoryItemId'] for u in UNKNOWN)})
    locs = sorted({e['locationId'] for e in entries if not any(u in e['locationId'] for u in UNKNOWN)})
    if not locs:
        locs = ['gid://shopify/Location/1']
    fs = F.FakeShop(1)
    fs.op('load', {'stores': [{'name': 's', 'locations': [{'name': 'L%d' % i} for i in range(len(locs))],
                               'products': [{'handle': 'p%d' % i, 'variants': [{'sku': 'S%d' % i, 'levels': {
                                   'L%d' % j: 0 for j in range(len(locs))}}]} for i in range(len(items))]}]})
    st = fs.store('s')
    rows = fs.op('levels', {'store': 's'})
    imap, lmap = {}, {}
    for i, it in enumerate(items):
        imap[it] = next(r['item_id'] for r in rows if r['sku'] == 'S%d' % i)
    for j, lc in enumerate(locs):
        lmap[lc] = F.gid(st.loc_by_name('L%d' % j))
    name = inp.get('name', 'available')
    for e in entries:
        if e['inventoryItemId'] in imap and e['locationId'] in lmap and e.get('changeFromQuantity') is not None \
                and name in F.QUANTITY_NAMES:
            it = st.items[F.gid_num(imap[e['inventoryItemId']])]
            lv = it.levels[F.gid_num(lmap[e['locationId']])]
            setattr(lv, name, e['changeFromQuantity'])
    v = json.loads(json.dumps(case['variables']))
    for e in v['input'].get(entries_key) or []:
        e['inventoryItemId'] = imap.get(e['inventoryItemId'], e['inventoryItemId'])
        e['locationId'] = lmap.get(e['locationId'], e['locationId'])
    errs = resp.get('errors') or []
    missing_directive = any('@idempotent directive is required' in e['message'] for e in errs)
    payload = data.get(field)
    sel = _selection(payload) if payload else '{ inventoryAdjustmentGroup { id } userErrors { field message code } }'
    itype = 'InventoryAdjustQuantitiesInput' if field == 'inventoryAdjustQuantities' else 'InventorySetQuantitiesInput'
    keyvar = 'idempotencyKey' if 'idempotencyKey' in v else 'key'
    v.setdefault(keyvar, 'replay-key')
    if 'query' in case and '$idempotencyKey' in case['query']:
        keyvar = 'idempotencyKey'
        v.setdefault(keyvar, 'replay-key')
    exact = 'query' in case
    if exact:
        q = case['query']
    elif missing_directive:
        q = 'mutation M($input: %s!) {\n    %s(input: $input) %s }' % (itype, field, sel)
        v.pop(keyvar, None)
    else:
        q = 'mutation M($input: %s!, $%s: String!) {\n    %s(input: $input) @idempotent(key: $%s) %s }' % (
            itype, keyvar, field, keyvar, sel)
    got, status = gql(fs, 's', q, v, '2026-04')
    back = {b: a for a, b in list(imap.items()) + list(lmap.items())}

    def unmap(o):
        if isinstance(o, dict):
            return {k: unmap(x) for k, x in o.items()}
        if isinstance(o, list):
            return [unmap(x) for x in o]
        return back.get(o, o)
    got = unmap(got)
    where = '%s:%s' % (os.path.basename(fname), '/'.join(map(str, path)))
    if errs:
        check(got.get('errors'), '%s: expected top-level errors, got %s' % (where, json.dumps(got)[:300]))
        eq([(e['message'], e.get('extensions', {}).get('code'), e.get('path')) for e in got['errors']],
           [(e['message'], e.get('extensions', {}).get('code'), e.get('path')) for e in errs], where + ' errors')
        eq(got.get('data'), resp.get('data'), where + ' data')
        eq('extensions' in got, 'extensions' in resp, where + ' extensions present')
        return 'errors'
    gp = got['data'][field]
    eq(gp['userErrors'], payload['userErrors'], where + ' userErrors')
    g1, g2 = gp.get('inventoryAdjustmentGroup'), payload.get('inventoryAdjustmentGroup')
    eq(g1 is None, g2 is None, where + ' group null-ness')
    if g2:
        eq(sorted(g1), sorted(g2), where + ' group keys')
        strip = lambda ch: [{k: x for k, x in c.items() if k != 'location' or not isinstance(x, dict)} for c in ch]
        eq(strip(g1.get('changes', [])), strip(g2.get('changes', [])), where + ' changes')
        for k in ('reason', 'referenceDocumentUri'):
            if k in g2:
                eq(g1[k], g2[k], where + ' ' + k)
    c1, c2 = got['extensions']['cost'], resp['extensions']['cost']
    eq(sorted(c1), sorted(c2), where + ' cost keys')
    if exact or g2:   # without the captured query text a null group hides what was selected
        eq((c1['requestedQueryCost'], c1['actualQueryCost']), (c2['requestedQueryCost'], c2['actualQueryCost']), where + ' cost')
    return 'ok'


@test
def capture_replay():
    files = sorted(glob.glob(os.path.join(CAPTURES, '*.json')))
    check(files, 'no captures in %s' % CAPTURES)
    counts, failures = {}, []
    for f in files:
        for path, case in _walk(json.load(open(f))):
            try:
                r = _replay_case(f, path, case)
            except AssertionError as e:
                failures.append(str(e))
                continue
            if r:
                counts[r] = counts.get(r, 0) + 1
    print('  (replayed %d captured inventory mutations: %r)' % (sum(counts.values()) + len(failures), counts))
    check(sum(counts.values()) >= 40, 'too few cases found: %r' % counts)
    if failures:
        raise AssertionError('%d mismatches; first: %s' % (len(failures), ' || '.join(failures[:3])))


# ------------------------------------------------------------------ over HTTP (subprocess)

class Server:
    def __init__(self, tls_dir, extra=()):
        self.t0 = time.time()
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, 'fakeshop.py'), '--tls-dir', tls_dir,
                                   '--seed', '5', '--lifetime', '300'] + list(extra),
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        self.ready_s = time.time() - self.t0
        parts = dict(x.split('=', 1) for x in line.split()[1:])
        check(line.startswith('READY '), 'readiness line: %r' % line)
        self.port, self.control, self.ca = int(parts['port']), int(parts['control']), parts['ca']
        self.ssl = ssl.create_default_context(cafile=self.ca)

    def ctl(self, op, body=None):
        c = http.client.HTTPConnection('127.0.0.1', self.control, timeout=30)
        c.request('POST', '/' + op, json.dumps(body or {}), {'Content-Type': 'application/json'})
        r = c.getresponse()
        d = json.loads(r.read())
        c.close()
        if r.status != 200:
            raise AssertionError('control %s: %s' % (op, d))
        return d

    def conn(self, timeout=30):
        return http.client.HTTPSConnection('localhost', self.port, context=self.ssl, timeout=timeout)

    def post(self, store, body, token='shpat_source', version='2026-07', conn=None, timeout=30):
        c = conn or self.conn(timeout)
        hdr = {'Content-Type': 'application/json'}
        if token:
            hdr['X-Shopify-Access-Token'] = token
        c.request('POST', '/store/%s/admin/api/%s/graphql.json' % (store, version), json.dumps(body), hdr)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r, data

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        return self.p.returncode


SRV = None


def server():
    return SRV


@test
def http_start_time_and_shutdown():
    eq(SRV.p.poll(), None, 'running')
    print('  (ready in %.3f s)' % SRV.ready_s)
    check(SRV.ready_s < 2.0, 'start took %.2f s' % SRV.ready_s)


@test
def http_auth_and_versions():
    s = server()
    s.ctl('load', SCENARIO)
    r, d = s.post('source', {'query': '{ shop { name } }'}, token='wrong')
    eq((r.status, json.loads(d)), (401, {'errors': '[API] Invalid API key or access token (unrecognized login or wrong password)'}), '401')
    r, d = s.post('source', {'query': '{ shop { name } }'}, token=None)
    eq(r.status, 401, 'missing token')
    r, d = s.post('source', {'query': '{ shop { myshopifyDomain } }'}, version='2024-01')
    eq((r.status, r.getheader('X-Shopify-API-Version')), (200, '2026-01'), 'falls forward to oldest supported')
    for v in ('2026-04', '2026-07', '2026-10'):
        r, d = s.post('source', {'query': '{ shop { myshopifyDomain } }'}, version=v)
        eq((r.status, r.getheader('X-Shopify-API-Version')), (200, v), 'version ' + v)


@test
def http_token_grant_and_expiry():
    s = server()
    s.ctl('load', SCENARIO)
    s.ctl('token', {'store': 'source', 'ttl': 120})

    def grant(secret):
        c = s.conn()
        c.request('POST', '/store/source/admin/oauth/access_token', urllib.parse.urlencode(
            {'grant_type': 'client_credentials', 'client_id': 'cid-source', 'client_secret': secret}),
            {'Content-Type': 'application/x-www-form-urlencoded'})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    st, body = grant('wrong')
    eq(st, 400, 'bad secret')
    st, body = grant('csecret-source')
    eq((st, sorted(body)), (200, ['access_token', 'expires_in', 'scope']), 'grant')
    eq((body['expires_in'], body['scope']), (120, 'read_inventory,write_inventory,read_products,read_locations'), 'fields')
    r, d = s.post('source', {'query': '{ shop { name } }'}, token=body['access_token'])
    eq(r.status, 200, 'token works')
    s.ctl('clock', {'advance': 121})
    r, d = s.post('source', {'query': '{ shop { name } }'}, token=body['access_token'])
    eq(r.status, 401, 'expired token')
    s.ctl('token', {'store': 'source', 'token': 'shpat_new'})
    r, d = s.post('source', {'query': '{ shop { name } }'}, token='shpat_source')
    eq(r.status, 401, 'old static token revoked')
    r, d = s.post('source', {'query': '{ shop { name } }'}, token='shpat_new')
    eq(r.status, 200, 'new static token')


def _grant(s, store='source', cid='cid-source', secret='csecret-source'):
    c = s.conn()
    c.request('POST', '/store/%s/admin/oauth/access_token' % store, urllib.parse.urlencode(
        {'grant_type': 'client_credentials', 'client_id': cid, 'client_secret': secret}),
        {'Content-Type': 'application/x-www-form-urlencoded'})
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    return r.status, body


@test
def http_ip_allowlist_403():
    """ip_allowlist {blocked: true}: every GraphQL request of the store with a valid token answers 403 with a
    JSON body naming the allowlist, nothing executed; the token grant too only with token_endpoint."""
    s = server()
    s.ctl('load', SCENARIO)
    eq(s.ctl('ip_allowlist', {'store': 'source', 'blocked': True}),
       {'ok': True, 'blocked': True, 'token_endpoint': False}, 'reply')
    r0 = [x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]
    for body in ({'query': '{ shop { name } }'}, _adjust_body(r0, -1, 50, 'ip-1'),
                 {'query': BULK_RUN, 'variables': {'query': BULK_CATALOG}}):
        for v in ('2026-07', '2026-10'):
            r, d = s.post('source', body, version=v)
            eq((r.status, r.getheader('Content-Type')), (403, 'application/json; charset=utf-8'), '403 ' + v)
            e = json.loads(d)
            eq(list(e), ['errors'], 'body shape')
            check(isinstance(e['errors'], str) and 'IP' in e['errors'] and 'allowlist' in e['errors'], e['errors'])
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 50, 'not executed')
    eq(s.ctl('log', {'store': 'source', 'kind': 'write'}), [], 'no write received')
    r, _ = s.post('source', {'query': '{ shop { name } }'}, token='wrong')
    eq(r.status, 401, 'a bad token is still 401')
    r, _ = s.post('destination', {'query': '{ shop { name } }'}, token='shpat_destination')
    eq(r.status, 200, 'other store unaffected')
    eq(_grant(s)[0], 200, 'token grant not blocked by default')
    s.ctl('ip_allowlist', {'store': 'source', 'blocked': True, 'token_endpoint': True})
    st, body = _grant(s)
    check(st == 403 and 'allowlist' in body['errors'], 'token grant blocked: %r' % body)
    check(s.ctl('stats', {'store': 'source'})['requests']['ip_blocked'] >= 7, 'counted')
    s.ctl('ip_allowlist', {'store': 'source', 'blocked': False})
    r, _ = s.post('source', {'query': '{ shop { name } }'})
    eq(r.status, 200, 'unblocked')
    eq(_grant(s)[0], 200, 'grant unblocked with it')


@test
def http_token_error_app_not_installed():
    """token_error {error: app_not_installed}: the client-credentials grant answers 400 with Shopify's OAuth
    error body until {error: null}; static and already granted tokens keep working."""
    s = server()
    s.ctl('load', SCENARIO)
    st, body = _grant(s)
    eq(st, 200, 'grant before')
    tok = body['access_token']
    d = s.ctl('token_error', {'store': 'source', 'error': 'app_not_installed'})
    eq((d['status'], d['reply']['error']), (400, 'app_not_installed'), 'reply')
    st, body = _grant(s)
    eq((st, body), (400, {'error': 'app_not_installed',
                          'error_description': 'The application is not installed on this shop.'}), 'grant fails')
    eq(_grant(s, secret='wrong')[1]['error'], 'app_not_installed', 'whatever the secret')
    eq(_grant(s, 'destination', 'client-destination', 'secret-destination')[0], 200, 'other store unaffected')
    r, _ = s.post('source', {'query': '{ shop { name } }'}, token=tok)
    eq(r.status, 200, 'a granted token keeps working')
    s.ctl('token_error', {'store': 'source', 'error': 'shop_not_permitted', 'status': 400})
    eq(_grant(s)[1]['error'], 'shop_not_permitted', 'another known code')
    s.ctl('token_error', {'store': 'source', 'error': 'server_error', 'description': 'Try later.', 'status': 503})
    eq(_grant(s), (503, {'error': 'server_error', 'error_description': 'Try later.'}), 'any code and status')
    eq(s.ctl('log', {'store': 'source', 'kind': 'token_grant'})[-1]['outcome'], 'server_error', 'logged')
    c = http.client.HTTPConnection('127.0.0.1', s.control, timeout=10)
    c.request('POST', '/token_error', json.dumps({'store': 'source', 'error': 'unknown_code'}))
    eq(c.getresponse().status, 400, 'unknown code without description refused')
    s.ctl('token_error', {'store': 'source', 'error': None})
    eq(_grant(s)[0], 200, 'restored')
    scn = copy.deepcopy(SCENARIO)
    scn['stores'][0]['token_error'] = 'app_not_installed'
    s.ctl('load', scn)
    eq(_grant(s)[1]['error'], 'app_not_installed', 'scenario key token_error')


@test
def http_control_api():
    s = server()
    s.ctl('reset')
    s.ctl('load', SCENARIO)
    d = s.ctl('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 5})
    eq(d['level']['available'], 45, 'sell via HTTP')
    rows = s.ctl('levels', {'store': 'destination'})
    eq(set(rows[0]), {'handle', 'sku', 'variant_id', 'item_id', 'location_id', 'location', 'level_id', 'available',
                      'on_hand', 'committed', 'active', 'tracked', 'updated_at', 'options'}, 'level row keys')
    log = s.ctl('log', {'store': 'destination'})
    eq((log[0]['kind'], log[0]['qty']), ('sell', 5), 'log')
    s.ctl('product_update', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'new_handle': 'sfdj', 'sku': 'SFDJ-M', 'new_sku': 'X1'})
    eq((s.ctl('levels', {'store': 'destination'})[0]['handle'], s.ctl('levels', {'store': 'destination'})[0]['sku']), ('sfdj', 'X1'), 'product_update')
    c = http.client.HTTPConnection('127.0.0.1', s.control, timeout=10)
    c.request('POST', '/nonsense', '{}')
    eq(c.getresponse().status, 400, 'unknown op -> 400')
    st = s.ctl('stats', {'store': 'source'})
    check('requests' in st and 'throttled' in st and 'requested_cost' in st, 'stats keys')


@test
def http_hook_receiver():
    """The alert and ping receiver: any method on /hook/<name>, over HTTP (control port) and HTTPS,
    recorded with headers and body; hook_mode sets the answer; reset forgets."""
    s = server()
    s.ctl('reset')
    c = http.client.HTTPConnection('127.0.0.1', s.control, timeout=10)
    c.request('POST', '/hook/alerts/abc?x=1', b'{"event":"problem"}',
              {'Content-Type': 'application/json', 'Title': 'T'})
    eq(c.getresponse().status, 200, 'POST over http answered 200')
    c = s.conn(10)
    c.request('GET', '/hook/ping?key=k')
    eq(c.getresponse().status, 200, 'GET over https answered 200')
    got = s.ctl('hooks', {'name': 'alerts'})['requests']
    eq([(r['method'], r['path'], r['query'], r['scheme'], r['body'], r['headers']['title'], r['status'])
        for r in got], [('POST', '/hook/alerts/abc', 'x=1', 'http', '{"event":"problem"}', 'T', 200)],
       'the alert recorded')
    eq([(r['name'], r['method'], r['scheme']) for r in s.ctl('hooks', {})['requests']][-1],
       ('ping', 'GET', 'https'), 'every receiver listed with its name')
    s.ctl('hook_mode', {'name': 'alerts', 'status': 503, 'retry_after': 7})
    c = http.client.HTTPConnection('127.0.0.1', s.control, timeout=10)
    c.request('POST', '/hook/alerts', b'x')
    r = c.getresponse()
    eq((r.status, r.getheader('Retry-After')), (503, '7'), 'hook_mode status and Retry-After')
    eq(s.ctl('hooks', {'name': 'alerts', 'clear': True})['requests'][-1]['status'], 503, 'status recorded')
    eq(s.ctl('hooks', {'name': 'alerts'})['requests'], [], 'cleared')
    s.ctl('reset')
    c = http.client.HTTPConnection('127.0.0.1', s.control, timeout=10)
    c.request('POST', '/hook/alerts', b'x')
    eq(c.getresponse().status, 200, 'reset forgets the mode')
    eq(len(s.ctl('hooks', {})['requests']), 1, 'reset forgot the requests')


def _adjust_body(r, delta, cfq, key):
    return {'query': ADJUST, 'variables': adj_vars(r, delta, cfq, key)}


@test
def http_faults():
    s = server()
    s.ctl('load', SCENARIO)
    q = {'query': '{ shop { name } }'}
    for k in ('502', '503'):
        s.ctl('faults', {'store': 'source', 'kind': k, 'count': 1, 'ops': ['query']})
        r, d = s.post('source', q)
        eq(r.status, int(k), 'fault ' + k)
        r, d = s.post('source', q)
        eq(r.status, 200, 'after ' + k)
    s.ctl('faults', {'store': 'source', 'kind': 'reset', 'count': 1})
    try:
        s.post('source', q)
        raise AssertionError('reset: got a reply')
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as e:
        if isinstance(e, AssertionError):
            raise
    s.ctl('faults', {'store': 'source', 'kind': 'truncate', 'count': 1})
    try:
        r, d = s.post('source', q)
        raise AssertionError('truncate: full body %r' % d)
    except http.client.IncompleteRead:
        pass
    s.ctl('faults', {'store': 'source', 'kind': 'invalid_json', 'count': 1})
    r, d = s.post('source', q)
    try:
        json.loads(d)
        raise AssertionError('invalid_json parsed')
    except ValueError:
        pass
    s.ctl('faults', {'store': 'source', 'kind': 'wrong_types', 'count': 1})
    r, d = s.post('source', q)
    check(isinstance(json.loads(d)['extensions']['cost']['requestedQueryCost'], str), 'wrong_types')
    s.ctl('faults', {'store': 'source', 'kind': 'oversize', 'count': 1, 'bytes': 6 << 20})
    r, d = s.post('source', q)
    check(len(d) > 6 << 20, 'oversize %d' % len(d))
    # rate-based faults with the seeded rng
    s.ctl('faults', {'store': 'source', 'kind': '503', 'rate': 0.5, 'ops': ['query']})
    sts = [s.post('source', q)[0].status for _ in range(20)]
    check(0 < sts.count(503) < 20, 'rate 0.5 gave %r' % sts)
    s.ctl('faults', {'store': 'source', 'kind': 'none'})
    # lost reply: applied, then the connection closes
    r0 = [x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]
    s.ctl('faults', {'store': 'source', 'kind': 'lost_reply', 'count': 1, 'ops': ['mutation']})
    try:
        s.post('source', _adjust_body(r0, -2, 50, 'lost-1'))
        raise AssertionError('lost_reply: got a reply')
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as e:
        if isinstance(e, AssertionError):
            raise
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 48, 'applied')
    r, d = s.post('source', _adjust_body(r0, -2, 50, 'lost-1'))
    eq(user_codes(json.loads(d)), ['CHANGE_FROM_QUANTITY_STALE'], 'replay after lost reply')
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 48, 'once')
    # stall: the request is in flight; the same key meanwhile -> IDEMPOTENCY_CONCURRENT_REQUEST
    s.ctl('faults', {'store': 'source', 'kind': 'stall', 'seconds': 1.5, 'count': 1, 'ops': ['mutation']})
    out = {}

    def first():
        out['r'] = s.post('source', _adjust_body(r0, 1, 48, 'stall-1'))
    th = threading.Thread(target=first)
    t0 = time.time()
    th.start()
    time.sleep(0.5)
    r, d = s.post('source', _adjust_body(r0, 1, 48, 'stall-1'))
    eq(user_codes(json.loads(d)), ['IDEMPOTENCY_CONCURRENT_REQUEST'], 'concurrent same key')
    th.join()
    check(time.time() - t0 >= 1.4, 'stalled')
    eq(user_codes(json.loads(out['r'][1])), [], 'stalled request applied')
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 49, 'stall applied once')
    # token endpoint faults
    s.ctl('faults', {'store': 'source', 'kind': '503', 'count': 1, 'ops': ['token']})
    c = s.conn()
    c.request('POST', '/store/source/admin/oauth/access_token', 'grant_type=client_credentials',
              {'Content-Type': 'application/x-www-form-urlencoded'})
    eq(c.getresponse().status, 503, 'token fault')
    log = s.ctl('log', {'store': 'source', 'kind': 'write'})
    check(len(log) >= 4 and all('key' in e and 'outcome' in e for e in log), 'writes logged')


@test
def rules_key_retention_eviction_and_replay_modes():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    # retention 0: a key is forgotten at once, a replay runs as a new request (under compare-and-set)
    fs.op('idempotency', {'store': 'source', 'ttl': 0})
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, -2, 50, 'k0'))
    eq(user_codes(rep), [], 'first')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, -2, 50, 'k0'))
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], 'replay, key forgotten: compare-and-set refuses')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, None, 'k0'))
    eq((user_codes(rep), rep['data']['inventoryAdjustQuantities']['inventoryAdjustmentGroup']), ([], None),
       'zero-delta probe of a forgotten key: a no-op, not IDEMPOTENCY_KEY_PARAMETER_MISMATCH')
    w = fs.op('log', {'store': 'source', 'kind': 'write'})
    eq([e.get('key_forgotten') for e in w], [None, 'expired', 'expired'], 'the log says the key was forgotten')
    # retention in seconds of the fake clock
    fs.op('idempotency', {'store': 'source', 'ttl': 60})
    gql(fs, 'source', ADJUST, adj_vars(r, -1, 48, 'k60'))
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, None, 'k60'))
    eq(user_codes(rep), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'], 'kept within 60 s')
    fs.op('clock', {'advance': 61})
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, None, 'k60'))
    eq(user_codes(rep), [], 'forgotten after 60 s')
    # random eviction: evict 1 forgets every key at its next lookup
    fs.op('idempotency', {'store': 'source', 'ttl': 86400, 'evict': 1})
    gql(fs, 'source', ADJUST, adj_vars(r, 1, 47, 'kev'))
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 0, None, 'kev'))
    eq(user_codes(rep), [], 'evicted')
    eq(fs.op('log', {'store': 'source', 'kind': 'write'})[-1].get('key_forgotten'), 'evicted', 'logged')
    # replay modes of a key whose request succeeded
    fs.op('idempotency', {'store': 'source', 'evict': 0, 'replay': 'original'})
    rep1, _ = gql(fs, 'source', ADJUST, adj_vars(r, 2, 48, 'korig'))
    rep2, _ = gql(fs, 'source', ADJUST, adj_vars(r, 2, 48, 'korig'))
    eq(rep2['data'], rep1['data'], 'replay=original answers the original result')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 50, 'applied once')
    fs.op('idempotency', {'store': 'source', 'replay': 'reexecute'})
    gql(fs, 'source', ADJUST, adj_vars(r, 3, 50, 'kre'))
    eq(level(fs, 'source', 'SFDJ-M')['available'], 53, 'applied')
    fs.op('sell', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-M', 'qty': 3})
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 3, 50, 'kre'))
    eq(user_codes(rep), [], 'replay=reexecute: applies again when the level is back at from')
    eq(level(fs, 'source', 'SFDJ-M')['available'], 53, 'applied twice (as a re-execution would)')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(r, 3, 50, 'kre'))
    eq(user_codes(rep), ['CHANGE_FROM_QUANTITY_STALE'], 'replay=reexecute: compare-and-set refuses')
    for bad in ({'ttl': -1}, {'evict': 2}, {'replay': 'x'}, {'nope': 1}):
        try:
            fs.op('idempotency', dict(bad, store='source'))
            raise AssertionError('accepted %r' % bad)
        except ValueError:
            pass


@test
def rules_write_log_cas_and_levels():
    fs = new_fs()
    r = level(fs, 'source', 'SFDJ-M')
    gql(fs, 'source', ADJUST, adj_vars(r, -4, 50, 'cas-1'))
    gql(fs, 'source', ADJUST, adj_vars(r, 2, None, 'nocas-1'))
    gql(fs, 'source', ADJUST, adj_vars(r, 0, None, 'probe-1'))
    w = {e['key']: e for e in fs.op('log', {'store': 'source', 'kind': 'write'})}
    eq(w['cas-1']['cas'], [True], 'cas flag')
    a = w['cas-1']['applied'][0]
    eq((a['change_from'], a['cas'], a['before'], a['after'], a['delta'], a['sku'], a['location']),
       (50, True, 50, 46, -4, 'SFDJ-M', 'Main Warehouse'), 'applied entry')
    eq((w['nocas-1']['cas'], w['nocas-1']['applied'][0]['cas'], w['nocas-1']['applied'][0]['change_from']),
       ([False], False, None), 'a change without compare-and-set is logged as such')
    eq((w['probe-1']['cas'], w['probe-1']['outcome']), ([False], 'noop'), 'zero-delta probe')


@test
def scenario_inactive_levels_and_clock_skew():
    scn = copy.deepcopy(SCENARIO)
    v = scn['stores'][0]['products'][0]['variants'][1]
    v['inactive'] = ['Outlet']
    scn['stores'][1]['clock_skew'] = -120
    fs = new_fs(scn)
    eq(level(fs, 'source', 'SFDJ-L', 'Outlet')['active'], False, 'inactive from the scenario')
    eq(level(fs, 'source', 'SFDJ-L', 'Main Warehouse')['active'], True, 'the other level active')
    eq(level(fs, 'source', 'SFDJ-M')['options'], {'Size': 'M'}, 'options in level rows')
    fs.op('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    fs.op('sell', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    ts = lambda st: F.parse_time(level(fs, st, 'SFDJ-M')['updated_at'])[0]  # noqa: E731
    check(110 < ts('source') - ts('destination') < 130, 'destination clock 120 s behind: %s vs %s'
          % (ts('source'), ts('destination')))
    fs.op('clock_skew', {'store': 'destination', 'seconds': 0})
    fs.op('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    check(abs(ts('source') - ts('destination')) < 5, 'skew back to 0')


SKEW_LEVELS = '''query($q: String) { inventoryItems(first: 50) { nodes { sku inventoryLevels(first: 5, query: $q) {
  nodes { updatedAt location { name } quantities(names: ["available"]) { quantity updatedAt } } } } } }'''


def _skew_hits(fs, store, q):
    """(sku, location, updatedAt) of every level the search `q` finds in `store`."""
    rep, _ = gql(fs, store, SKEW_LEVELS, {'q': q})
    check('errors' not in rep, rep.get('errors'))
    return [(i['sku'], lv['location']['name'], lv['updatedAt']) for i in rep['data']['inventoryItems']['nodes']
            for lv in i['inventoryLevels']['nodes']]


@test
def clock_skew_updated_at_and_search():
    """A store 10 minutes behind and one 10 minutes ahead of the agent's (fake) clock: every updatedAt the
    store writes, and its updated_at search filters, are on the store's own clock."""
    fs = new_fs()
    t_agent = fs.clock.now()
    r = fs.op('clock_skew', {'store': 'destination', 'seconds': -600})
    check(abs(F.parse_time(r['now'])[0] - (t_agent - 600)) < 5, 'reply names the store clock: %r' % r)
    fs.op('clock_skew', {'store': 'source', 'seconds': 600})
    fs.op('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    m = level(fs, 'source', 'SFDJ-M')
    rep, _ = gql(fs, 'source', ADJUST, adj_vars(m, -1, 50, 'skew-1'))
    grp = rep['data']['inventoryAdjustQuantities']['inventoryAdjustmentGroup']
    now = fs.clock.now()
    ts = lambda x: F.parse_time(x)[0]  # noqa: E731
    check(abs(ts(grp['createdAt']) - (now + 600)) < 5, 'adjustment group createdAt on the store clock')
    src = dict(((k, l), u) for k, l, u in _skew_hits(fs, 'source', None))
    dst = dict(((k, l), u) for k, l, u in _skew_hits(fs, 'destination', None))
    check(abs(ts(src[('SFDJ-M', 'Main Warehouse')]) - (now + 600)) < 5, 'adjusted level updatedAt: store 10 min ahead')
    check(abs(ts(dst[('SFDJ-M', 'US Warehouse')]) - (now - 600)) < 5, 'sold level updatedAt: store 10 min behind')
    check(abs(ts(level(fs, 'destination', 'SFDJ-M')['updated_at']) - (now - 600)) < 5, 'control op levels too')
    rep, _ = gql(fs, 'destination', '{ inventoryItems(first: 5) { nodes { inventoryLevels(first: 5) { nodes {'
                 ' quantities(names: ["available", "committed"]) { name updatedAt } } } } } }')
    qs = rep['data']['inventoryItems']['nodes'][0]['inventoryLevels']['nodes'][0]['quantities']
    check(all(abs(ts(q['updatedAt']) - (now - 600)) < 5 for q in qs), 'InventoryQuantity.updatedAt: %r' % qs)
    # search filters are judged on the store's clock: "changed in the last minute" by the agent's clock
    # misses the change in the store that is behind, by the store's clock finds it
    since = lambda t: "updated_at:>='%s'" % F.iso(t)  # noqa: E731
    eq(_skew_hits(fs, 'destination', since(now - 60)), [], 'agent clock - 60 s: nothing (store 10 min behind)')
    eq([h[:2] for h in _skew_hits(fs, 'destination', since(now - 600 - 60))], [('SFDJ-M', 'US Warehouse')],
       'store clock - 60 s: found')
    eq([h[:2] for h in _skew_hits(fs, 'source', since(now + 600 - 60))], [('SFDJ-M', 'Main Warehouse')],
       'store 10 min ahead: found after agent time + 9 min')
    check(('SFDJ-M', 'Main Warehouse') not in [h[:2] for h in _skew_hits(fs, 'source', "updated_at:<='%s'"
                                                                            % F.iso(now + 300))],
          'store ahead: the change is later than agent time + 5 min')
    # the index lag is measured on the store clock too
    fs.op('index_lag', {'store': 'destination', 'seconds': 30})
    fs.op('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    eq(_skew_hits(fs, 'destination', since(now - 600 - 1)), [], 'lagging index: not yet')
    fs.op('clock', {'advance': 31})
    eq(len(_skew_hits(fs, 'destination', since(now - 600 - 1))), 1, 'lagging index: after 31 s')
    # a bulk operation on a store ahead completes after its delay (its times are on the store clock)
    fs.op('bulk', {'store': 'source', 'delay': 0})
    b = bulk_status(fs, 'source', bulk_run(fs, 'source', BULK_CATALOG)['bulkOperation']['id'])
    eq(b['status'], 'COMPLETED', 'bulk status on a skewed store')
    check(abs(ts(b['createdAt']) - (fs.clock.now() + 600)) < 5, 'bulk createdAt on the store clock')
    eq(len(bulk_file(fs, 'source', b['url'])), 4, 'its file is served at once')
    fs.op('clock_skew', {'store': 'source', 'seconds': -600})
    b2 = bulk_status(fs, 'source', b['id'])
    eq((b2['status'], b2['url']), ('COMPLETED', b['url']), 'a clock jump does not move the lifecycle')
    check(abs(ts(b2['createdAt']) - ts(b['createdAt']) + 1200) < 5, 'createdAt shown on the new store clock')
    eq(len(bulk_file(fs, 'source', b['url'])), 4, 'still served')
    # back to 0: writes from now on are on the agent's clock again
    fs.op('clock_skew', {'store': 'destination', 'seconds': 0})
    fs.op('sell', {'store': 'destination', 'handle': 'slim-fit-denim-jacket', 'qty': 1})
    check(abs(ts(level(fs, 'destination', 'SFDJ-M')['updated_at']) - fs.clock.now()) < 5, 'skew 0')
    for bad in ({}, {'seconds': 'x'}, {'seconds': 1, 'x': 1}):
        try:
            fs.op('clock_skew', dict(bad, store='source'))
            raise AssertionError('accepted %r' % bad)
        except (ValueError, TypeError):
            pass


@test
def http_clock_skew_date_header():
    """The Date header of every reply of a store (GraphQL, 401, token grant) is on the store's clock; bulk
    file GETs (cloud storage) are on the fake clock."""
    import email.utils
    s = server()
    s.ctl('load', SCENARIO)
    s.ctl('bulk', {'store': 'source', 'delay': 0})
    url = _http_bulk_wait(s, 'source', _http_bulk_run(s, BULK_CATALOG)['bulkOperation']['id'])['url']
    for skew in (-600, 600):
        s.ctl('clock_skew', {'store': 'source', 'seconds': skew})
        date = lambda r: email.utils.parsedate_to_datetime(r.getheader('Date')).timestamp() - time.time()  # noqa
        r, _ = s.post('source', {'query': '{ shop { name } }'})
        check(abs(date(r) - skew) < 5, 'GraphQL reply: %s' % r.getheader('Date'))
        r, _ = s.post('source', {'query': '{ shop { name } }'}, token='wrong')
        check(r.status == 401 and abs(date(r) - skew) < 5, '401: %s' % r.getheader('Date'))
        c = s.conn()
        c.request('POST', '/store/source/admin/oauth/access_token', urllib.parse.urlencode(
            {'grant_type': 'client_credentials', 'client_id': 'cid-source', 'client_secret': 'csecret-source'}),
            {'Content-Type': 'application/x-www-form-urlencoded'})
        r = c.getresponse()
        r.read()
        c.close()
        check(r.status == 200 and abs(date(r) - skew) < 5, 'token grant: %s' % r.getheader('Date'))
        r, _ = s.post('destination', {'query': '{ shop { name } }'}, token='shpat_destination')
        check(abs(date(r)) < 5, 'other store unskewed: %s' % r.getheader('Date'))
        r, _ = _http_get(s, url)
        check(r.status == 200 and abs(date(r)) < 5, 'bulk file GET: %s' % r.getheader('Date'))
    s.ctl('clock_skew', {'store': 'source', 'seconds': 0})


@test
def http_throttled_faults_and_fault_log():
    s = server()
    s.ctl('load', SCENARIO)
    r0 = [x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]
    for kind, status in (('throttled', 200), ('429', 429)):
        for ops, body in ((['query'], {'query': '{ shop { name } }'}),
                          (['mutation'], _adjust_body(r0, -1, 50, 'thr-' + kind))):
            s.ctl('faults', {'store': 'source', 'kind': kind, 'count': 1, 'ops': ops})
            r, d = s.post('source', body)
            eq(r.status, status, '%s %s status' % (kind, ops))
            eq(json.loads(d)['errors'][0]['extensions']['code'], 'THROTTLED', '%s %s code' % (kind, ops))
            if status == 429:
                check(r.getheader('Retry-After'), 'Retry-After')
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 50,
       'a throttled mutation is not executed')
    f = s.ctl('log', {'store': 'source', 'kind': 'fault'})
    eq([(e['fault'], e['keys'], e['executed']) for e in f],
       [('throttled', ['thr-throttled'], False), ('429', ['thr-429'], False)], 'faults on mutations logged')
    s.ctl('faults', {'store': 'source', 'kind': 'lost_reply', 'count': 1, 'ops': ['mutation']})
    try:
        s.post('source', _adjust_body(r0, -1, 50, 'lost-x'))
    except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError):
        pass
    e = s.ctl('log', {'store': 'source', 'kind': 'fault'})[-1]
    eq((e['fault'], e['keys'], e['executed']), ('lost_reply', ['lost-x'], True), 'lost reply logged')
    st = s.ctl('stats', {'store': 'source'})
    check(st['throttled'] >= 4, 'throttled counted: %r' % st['throttled'])
    s.ctl('clock_skew', {'store': 'source', 'seconds': 3600})
    r, d = s.post('source', {'query': '{ shop { name } }'})
    import email.utils
    dt = email.utils.parsedate_to_datetime(r.getheader('Date')).timestamp()
    check(3500 < dt - time.time() < 3700, 'Date header follows the store clock: %s' % r.getheader('Date'))


@test
def http_throttle_429():
    s = server()
    s.ctl('load', SCENARIO)
    s.ctl('throttle', {'store': 'source', 'max': 20, 'restore': 1, 'status': 429, 'available': 14})
    q = {'query': '{ products(first: 10) { nodes { id } } }'}
    r, d = s.post('source', q)
    eq(r.status, 200, 'first fits')
    r, d = s.post('source', q)
    r, d = s.post('source', q)
    eq(r.status, 429, 'then 429')
    check(r.getheader('Retry-After'), 'Retry-After')
    eq(json.loads(d)['errors'][0]['extensions']['code'], 'THROTTLED', 'code')


@test
def http_curl_round_trip():
    s = server()
    curl = shutil.which('curl')
    if not curl:
        raise Skip('curl not installed')
    s.ctl('load', SCENARIO)
    url = 'https://localhost:%d/store/source/admin/api/2026-07/graphql.json' % s.port
    loc = [x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]

    def run(body):
        p = subprocess.run([curl, '-sS', '--cacert', s.ca, '-H', 'Content-Type: application/json',
                            '-H', 'X-Shopify-Access-Token: shpat_source', '--data-binary', json.dumps(body), url],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, 'curl failed: %s' % p.stderr)
        return json.loads(p.stdout)
    d = run({'query': LEVELS, 'variables': {'loc': loc['location_id']}})
    nodes = d['data']['location']['inventoryLevels']['nodes']
    eq([(n['item']['sku'], n['quantities'][0]['quantity']) for n in nodes], [('SFDJ-M', 50), ('SFDJ-L', 5), ('UT-1', 0), ('GB-1', 3)], 'read')
    d = run(_adjust_body(loc, -3, 50, 'curl-key-1'))
    eq(user_codes(d), [], 'adjust with key')
    d = run({'query': ADJUST_NO_KEY, 'variables': {'input': adj_vars(loc, -3, 47, 'x')['input']}})
    eq(d['errors'][0]['extensions']['code'], 'BAD_REQUEST', 'missing @idempotent')
    v = adj_vars(loc, -3, 47, 'curl-key-2')
    del v['input']['changes'][0]['changeFromQuantity']
    d = run({'query': ADJUST, 'variables': v})
    eq(d['errors'][0]['extensions']['code'], 'INVALID_FIELD_ARGUMENTS', 'missing changeFromQuantity')
    d = run(_adjust_body(loc, -3, 50, 'curl-key-3'))
    eq(user_codes(d), ['CHANGE_FROM_QUANTITY_STALE'], 'stale')
    d = run(_adjust_body(loc, -3, 50, 'curl-key-1'))
    eq(user_codes(d), ['CHANGE_FROM_QUANTITY_STALE'], 'replay of success')
    d = run(_adjust_body(loc, -4, 47, 'curl-key-1'))
    eq(user_codes(d), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'], 'mismatch')
    d = run(_adjust_body(loc, -4, 47, 'curl-key-3'))
    eq(user_codes(d), ['IDEMPOTENCY_KEY_PARAMETER_MISMATCH'], 'mismatch on failed key')
    d = run(_adjust_body(loc, -3, 50, 'curl-key-3'))
    eq(user_codes(d), ['IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED'], 'previous attempt failed')
    eq([x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]['available'], 47, 'final')


@test
def http_requests_per_second():
    s = server()
    s.ctl('load', SCENARIO)
    s.ctl('throttle', {'store': 'source', 'max': 1e9, 'restore': 1e9})
    loc = [x for x in s.ctl('levels', {'store': 'source'}) if x['sku'] == 'SFDJ-M'][0]
    c = s.conn()
    body = {'query': LEVELS, 'variables': {'loc': loc['location_id'], 'q': "updated_at:>'2020-01-01T00:00:00Z'"}}
    n, t0 = 0, time.time()
    while time.time() - t0 < 1.5:
        r, d = s.post('source', body, conn=c)
        eq(r.status, 200, 'status')
        n += 1
    rps = n / (time.time() - t0)
    print('  (%.0f level-poll requests/s on one keep-alive TLS connection)' % rps)
    check(rps > 20, 'far too slow: %.1f/s' % rps)


def _http_bulk_wait(s, store, bid, token='shpat_source', timeout=10):
    t0 = time.time()
    while True:
        r, d = s.post(store, {'query': BULK_STATUS, 'variables': {'id': bid}}, token=token)
        b = json.loads(d)['data']['bulkOperation']
        if b is None or b['status'] not in ('CREATED', 'RUNNING') or time.time() - t0 > timeout:
            return b
        time.sleep(0.05)


def _http_get(s, url, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPSConnection(u.hostname, u.port, context=s.ssl, timeout=30)
    c.request('GET', u.path, headers=headers or {})
    r = c.getresponse()
    try:
        return r, r.read()
    finally:
        c.close()


def _http_bulk_run(s, query, store='source', token='shpat_source'):
    r, d = s.post(store, {'query': BULK_RUN, 'variables': {'query': query}, 'operationName': 'BulkRun'}, token=token)
    eq(r.status, 200, 'bulk run status')
    return json.loads(d)['data']['bulkOperationRunQuery']


@test
def http_bulk_catalog_and_levels():
    s = server()
    s.ctl('load', SCENARIO)
    rows = s.ctl('levels', {'store': 'source'})
    r = _http_bulk_run(s, BULK_CATALOG)
    eq((r['userErrors'], r['bulkOperation']['status']), ([], 'CREATED'), 'created')
    b = _http_bulk_wait(s, 'source', r['bulkOperation']['id'])
    eq(b['status'], 'COMPLETED', 'completed after the default delay')
    check(re.match(r'^https://localhost:%d/bulk/source/[0-9a-f]{32}\.jsonl$' % s.port, b['url']), 'url %s' % b['url'])
    resp, data = _http_get(s, b['url'])
    eq((resp.status, resp.getheader('Content-Type'), resp.getheader('Content-Length')),
       (200, 'application/jsonl', b['fileSize']), 'GET without auth')
    lines = parse_jsonl(data)
    eq(sorted(x['sku'] for x in lines), sorted(x['sku'] for x in rows if x['location'] == 'Main Warehouse'), 'variants')
    eq(b['objectCount'], str(len(lines)), 'objectCount')
    # levels, with a sale after the creation that must not be in the file
    s.ctl('bulk', {'store': 'source', 'delay': 0.5})
    r = _http_bulk_run(s, BULK_LEVELS)
    s.ctl('sell', {'store': 'source', 'handle': 'slim-fit-denim-jacket', 'sku': 'SFDJ-L', 'location': 'Outlet', 'qty': 3})
    b = _http_bulk_wait(s, 'source', r['bulkOperation']['id'])
    eq(b['status'], 'COMPLETED', 'levels completed')
    resp, data = _http_get(s, b['url'])
    lines = parse_jsonl(data)
    locs = {x['id'] for x in lines if '__parentId' not in x}
    levels = [x for x in lines if '__parentId' in x]
    eq((len(locs), len(levels)), (2, len(rows)), 'a line per location and per level')
    check(all(x['__parentId'] in locs for x in levels), '__parentId names a location line')
    check_parent_order(lines)
    outlet = next(x for x in levels if x['id'] == next(r_['level_id'] for r_ in rows if r_['location'] == 'Outlet'))
    eq(outlet['quantities'], [{'name': 'available', 'quantity': 7}], 'snapshot: sale after creation not in the file')
    st = s.ctl('stats', {'store': 'source'})
    eq((st['bulk_ops'], st['bulk_downloads']), (2, 2), 'stats')
    log = s.ctl('log', {'store': 'source', 'kind': 'bulk_operation'})
    eq([(e['operation'], e['outcome']) for e in log], [('BulkRun', 'created')] * 2, 'log')
    eq(len(s.ctl('log', {'store': 'source', 'kind': 'bulk_download'})), 2, 'downloads logged')
    # the URL follows the Host the client used
    c = s.conn()
    c.request('POST', '/store/source/admin/api/2026-07/graphql.json',
              json.dumps({'query': BULK_STATUS, 'variables': {'id': r['bulkOperation']['id']}}),
              {'Host': '127.0.0.1:%d' % s.port, 'X-Shopify-Access-Token': 'shpat_source', 'Content-Type': 'application/json'})
    u = json.loads(c.getresponse().read())['data']['bulkOperation']['url']
    check(u.startswith('https://127.0.0.1:%d/bulk/source/' % s.port), u)
    # another store sees neither the operation nor the file
    r2, d2 = s.post('destination', {'query': BULK_STATUS, 'variables': {'id': r['bulkOperation']['id']}}, token='shpat_destination')
    eq(json.loads(d2)['data']['bulkOperation'], None, 'other store: null')
    resp, _ = _http_get(s, b['url'].replace('/bulk/source/', '/bulk/destination/'))
    eq(resp.status, 404, 'other store path')


@test
def http_bulk_download_faults():
    s = server()
    s.ctl('load', SCENARIO)
    s.ctl('bulk', {'store': 'source', 'delay': 0})
    b = _http_bulk_wait(s, 'source', _http_bulk_run(s, BULK_LEVELS)['bulkOperation']['id'])
    eq(b['status'], 'COMPLETED', 'completed')
    eq(s.ctl('bulk', {'store': 'source', 'truncate': True}), {'ok': True}, 'reply')
    u = urllib.parse.urlsplit(b['url'])
    c = http.client.HTTPSConnection(u.hostname, u.port, context=s.ssl, timeout=30)
    c.request('GET', u.path)
    resp = c.getresponse()
    eq(resp.getheader('Content-Length'), b['fileSize'], 'full Content-Length')
    try:
        resp.read()
        raise AssertionError('truncate: full body')
    except http.client.IncompleteRead as e:
        eq(len(e.partial), int(b['fileSize']) // 2, 'half sent')
    c.close()
    resp, data = _http_get(s, b['url'])
    eq((resp.status, len(data)), (200, int(b['fileSize'])), 'truncate is one-shot')
    s.ctl('bulk', {'store': 'source', 'expire': True})
    for _ in range(2):
        resp, data = _http_get(s, b['url'])
        eq(resp.status, 403, 'expired')
        check(b'<Code>ExpiredToken</Code>' in data and data.startswith(b'<?xml'), data)
    s.ctl('bulk', {'store': 'source', 'expire': False})
    eq(_http_get(s, b['url'])[0].status, 200, 'expire cleared')
    eq(_http_get(s, b['url'].replace(u.path.rsplit('/', 1)[1], '0' * 32 + '.jsonl'))[0].status, 404, 'unknown token')
    for kind, want in (('fail', 'FAILED'), ('cancel', 'CANCELED')):
        s.ctl('bulk', {'store': 'source', kind: 'TIMEOUT' if kind == 'fail' else True})
        b2 = _http_bulk_wait(s, 'source', _http_bulk_run(s, BULK_CATALOG)['bulkOperation']['id'])
        eq((b2['status'], b2['url'], b2['errorCode']), (want, None, 'TIMEOUT' if kind == 'fail' else None), kind)
    # generic faults still apply to the bulk mutation
    s.ctl('faults', {'store': 'source', 'kind': '503', 'count': 1, 'ops': ['mutation']})
    r, d = s.post('source', {'query': BULK_RUN, 'variables': {'query': BULK_CATALOG}})
    eq(r.status, 503, 'fault on bulkOperationRunQuery')
    st = s.ctl('stats', {'store': 'source'})
    eq((st['bulk_ops'], st['bulk_downloads']), (3, 3), 'stats: 503 created nothing; expired/404 GETs not downloads')
    r, d = s.post('source', {'query': BULK_RUN, 'variables': {'query': BULK_CATALOG}}, token='wrong')
    eq(r.status, 401, 'auth as usual')


@test
def http_sigterm_exits_cleanly():
    tmp = tempfile.mkdtemp()
    try:
        p = Server(SRV_TLS, ['--lifetime', '1'])
        t0 = time.time()
        p.p.wait(10)
        check(time.time() - t0 < 5, 'lifetime exit')
        eq(p.p.returncode, 0, 'lifetime exit code')
        p = Server(SRV_TLS)
        eq(p.stop(), 0, 'SIGTERM exit code')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    global SRV, SRV_TLS
    only = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix='fakeshop-test-')
    SRV_TLS = os.path.join(tmp, 'tls')
    subprocess.run(['sh', os.path.join(REPO, 'tests', 'tls', 'mkcerts.sh'), SRV_TLS], check=True)
    SRV = Server(SRV_TLS)
    t0 = time.time()
    try:
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            try:
                fn()
                print('PASS %s' % fn.__name__)
                RESULTS['PASS'] += 1
            except Skip as e:
                print('SKIP %s: %s' % (fn.__name__, e))
                RESULTS['SKIP'] += 1
            except Exception as e:
                msg = str(e) if isinstance(e, AssertionError) else traceback.format_exc().strip().splitlines()[-1]
                print('FAIL %s: %s' % (fn.__name__, msg.replace('\n', ' ')))
                RESULTS['FAIL'] += 1
            sys.stdout.flush()
    finally:
        SRV.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print('# fakeshop: %d passed, %d failed, %d skipped in %.1f s' % (RESULTS['PASS'], RESULTS['FAIL'], RESULTS['SKIP'],
                                                                      time.time() - t0))
    return 1 if RESULTS['FAIL'] else 0


if __name__ == '__main__':
    sys.exit(main())
