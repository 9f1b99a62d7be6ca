#!/usr/bin/env python3
"""Regenerates schema.graphql (the fake's schema subset) from the full Shopify schema.

Usage: make build/py/stamp, then
  PYTHONPATH=build/py/usr/lib/python3/dist-packages /usr/bin/python3 \
    tests/fakeshop/gen_schema.py [FULL_SCHEMA] > tests/fakeshop/schema.graphql
FULL_SCHEMA defaults to the copy in tests/shopify/ (.xz files are read as such).
Every definition is copied from the real schema (descriptions dropped), keeping only the
fields listed in SUBSET and the arguments whose types exist in the subset.
"""
import os, sys
from graphql import parse, print_ast
from graphql.language import (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode,
    InputObjectTypeDefinitionNode, EnumTypeDefinitionNode, ScalarTypeDefinitionNode,
    DirectiveDefinitionNode, SchemaDefinitionNode, NamedTypeNode)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'shopify'))
import schema as shopify_schema  # noqa: E402

CONN = ['edges', 'nodes', 'pageInfo']
EDGE = ['cursor', 'node']
SUBSET = {
    'QueryRoot': ['shop', 'publicApiVersions', 'currentAppInstallation', 'locations', 'location',
                  'inventoryLevel', 'node', 'nodes', 'inventoryItem', 'inventoryItems', 'products',
                  'product', 'productVariants', 'productVariant', 'productByIdentifier',
                  'productVariantsCount', 'bulkOperation'],
    'Mutation': ['inventoryAdjustQuantities', 'inventorySetQuantities', 'inventoryActivate',
                 'bulkOperationRunQuery'],
    'Node': ['id'],
    'Shop': ['id', 'name', 'myshopifyDomain', 'ianaTimezone', 'timezoneOffset', 'timezoneOffsetMinutes'],
    'ApiVersion': ['handle', 'displayName', 'supported'],
    'AppInstallation': ['id', 'accessScopes'],
    'AccessScope': ['handle', 'description'],
    'PageInfo': ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
    'Location': ['id', 'name', 'isActive', 'isFulfillmentService', 'createdAt', 'updatedAt',
                 'inventoryLevels', 'inventoryLevel', 'legacyResourceId'],
    'LocationConnection': CONN, 'LocationEdge': EDGE,
    'InventoryLevel': ['id', 'isActive', 'canDeactivate', 'createdAt', 'updatedAt', 'item', 'location', 'quantities'],
    'InventoryLevelConnection': CONN, 'InventoryLevelEdge': EDGE,
    'InventoryQuantity': ['id', 'name', 'quantity', 'updatedAt'],
    'InventoryItem': ['id', 'sku', 'tracked', 'createdAt', 'updatedAt', 'requiresShipping',
                      'inventoryLevels', 'inventoryLevel', 'variant', 'legacyResourceId'],
    'InventoryItemConnection': CONN, 'InventoryItemEdge': EDGE,
    'Product': ['id', 'handle', 'status', 'title', 'createdAt', 'updatedAt', 'variants',
                'tracksInventory', 'totalInventory', 'hasOnlyDefaultVariant', 'legacyResourceId'],
    'ProductConnection': CONN, 'ProductEdge': EDGE,
    'ProductVariant': ['id', 'title', 'sku', 'barcode', 'position', 'selectedOptions', 'requiresComponents',
                       'createdAt', 'updatedAt', 'inventoryItem', 'inventoryQuantity', 'product',
                       'legacyResourceId'],
    'ProductVariantConnection': CONN, 'ProductVariantEdge': EDGE,
    'SelectedOption': ['name', 'value'],
    'ProductStatus': None, 'ProductSortKeys': None, 'ProductVariantSortKeys': None,
    'LocationSortKeys': None,
    'ProductIdentifierInput': ['id', 'handle'],
    'InventoryAdjustQuantitiesInput': None, 'InventoryChangeInput': None,
    'InventorySetQuantitiesInput': None, 'InventoryQuantityInput': None,
    'InventoryAdjustQuantitiesPayload': None, 'InventorySetQuantitiesPayload': None,
    'InventoryActivatePayload': None,
    'InventoryAdjustmentGroup': ['id', 'createdAt', 'reason', 'referenceDocumentUri', 'changes'],
    'InventoryChange': ['name', 'delta', 'quantityAfterChange', 'ledgerDocumentUri', 'item', 'location'],
    'InventoryAdjustQuantitiesUserError': None, 'InventoryAdjustQuantitiesUserErrorCode': None,
    'InventorySetQuantitiesUserError': None, 'InventorySetQuantitiesUserErrorCode': None,
    'UserError': None, 'DisplayableError': None,
    'Count': None, 'CountPrecision': None,
    'BulkOperation': None, 'BulkOperationStatus': None, 'BulkOperationErrorCode': None,
    'BulkOperationType': None, 'BulkOperationRunQueryPayload': None,
    'BulkOperationUserError': None, 'BulkOperationUserErrorCode': None,
    'DateTime': None, 'URL': None, 'UnsignedInt64': None,
}
BUILTIN = {'String', 'Int', 'Float', 'Boolean', 'ID'}


def named(t):
    while not isinstance(t, NamedTypeNode):
        t = t.type
    return t.name.value


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else shopify_schema.PATH
    doc = parse(shopify_schema.read(path), no_location=True)
    defs = {}
    for d in doc.definitions:
        if hasattr(d, 'name') and d.name is not None:
            defs[d.name.value] = d
    keep = set(SUBSET) | BUILTIN
    out = ['# Subset of the Shopify Admin GraphQL schema (2026-07) served by the fake.',
           '# Generated by gen_schema.py from the real schema; names and types are Shopify\'s.',
           '', 'schema {\n  query: QueryRoot\n  mutation: Mutation\n}', '']
    d = defs['idempotent']
    out.append(print_ast(d.__class__(name=d.name, arguments=tuple(
        a.__class__(name=a.name, type=a.type, default_value=a.default_value, directives=())
        for a in d.arguments), repeatable=d.repeatable, locations=d.locations)))
    for name in SUBSET:
        d = defs[name]
        want = SUBSET[name]
        kw = {'name': d.name, 'directives': ()}
        if isinstance(d, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, InputObjectTypeDefinitionNode)):
            fields = []
            for f in d.fields:
                if want is not None and f.name.value not in want:
                    continue
                if named(f.type) not in keep:
                    if want is not None:
                        raise SystemExit('%s.%s: type %s not in subset' % (name, f.name.value, named(f.type)))
                    continue
                fkw = {'name': f.name, 'type': f.type, 'directives': ()}
                if isinstance(d, InputObjectTypeDefinitionNode):
                    fkw['default_value'] = f.default_value
                else:
                    fkw['arguments'] = tuple(
                        a.__class__(name=a.name, type=a.type, default_value=a.default_value, directives=())
                        for a in f.arguments if named(a.type) in keep)
                fields.append(f.__class__(**fkw))
            kw['fields'] = tuple(fields)
            if not isinstance(d, InputObjectTypeDefinitionNode):
                kw['interfaces'] = tuple(i for i in (d.interfaces or ()) if i.name.value in keep)
        elif isinstance(d, EnumTypeDefinitionNode):
            kw['values'] = tuple(v.__class__(name=v.name, directives=()) for v in d.values)
        out.append(print_ast(d.__class__(**kw)))
        out.append('')
    sys.stdout.write('\n'.join(out))


if __name__ == '__main__':
    main()
