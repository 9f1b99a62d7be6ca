#!/usr/bin/env python3
"""validate.py: checks invsync's GraphQL documents against Shopify's schema.

For every agent/graphql/NAME.graphql:
  * it validates against Shopify's Admin API 2026-07 schema, the copy in
    tests/shopify/ (its README gives the source; read by tests/shopify/schema.py,
    which checks its pinned SHA-256);
  * the string that scripts/embed-graphql.sh embeds in C parses to the same
    document (and so validates too);
  * mutations of the inventory family carry @idempotent(key: $var) on the
    FIELD (Shopify refuses it on the operation and requires it from 2026-04).
For every request body the C builders produce (tests/unit/fixtures/req_*.json,
which test_shopify compares byte for byte with the builders' output):
  * "query" is one of the embedded documents;
  * "variables" coerce against the operation's variable definitions;
  * adjust changes carry "changeFromQuantity" explicitly (null allowed).
Prints PASS/FAIL/SKIP lines (tests/unit/check.h convention); exits 1 on FAIL.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "shopify"))
import schema as shopify_schema  # noqa: E402
DOCDIR = os.path.join(REPO, "agent", "graphql")
FIXDIR = os.path.join(REPO, "tests", "unit", "fixtures")
EMBED = os.path.join(REPO, "scripts", "embed-graphql.sh")

# docs/shopify-api.md §3.4: mutations that need @idempotent from 2026-04.
IDEMPOTENT = {
    "refundCreate", "inventoryShipmentReceive", "inventoryAdjustQuantities",
    "inventoryMoveQuantities", "inventorySetQuantities",
    "inventorySetOnHandQuantities", "inventoryShipmentCreateInTransit",
    "inventoryShipmentCreate", "inventoryTransferCreate",
    "inventoryTransferCreateAsReadyToShip", "inventoryTransferDuplicate",
    "inventoryTransferSetItems", "inventorySetScheduledChanges",
    "inventoryActivate", "inventoryShipmentAddItems", "locationActivate",
    "locationDeactivate",
}

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print("PASS %s" % name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))


def docs():
    return sorted(f[:-8] for f in os.listdir(DOCDIR) if f.endswith(".graphql"))


def embedded(names):
    """Runs the embed script; returns {name: C string value}."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "graphql.c")
        files = [os.path.join(DOCDIR, n + ".graphql") for n in names]
        r = subprocess.run(["sh", EMBED, dst] + files, capture_output=True,
                           text=True)
        if r.returncode != 0:
            report(False, "embed-graphql.sh runs", r.stderr.strip())
            return out
        report(True, "embed-graphql.sh runs")
        text = open(dst).read()
    for m in re.finditer(r'const char shopify_doc_(\w+)\[\] =\n((?:\t".*"\n?)+);',
                         text):
        pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        raw = "".join(pieces)
        out[m.group(1)] = re.sub(r'\\(.)', r'\1', raw)
    return out


def check_idempotent(name, doc):
    from graphql.language import OperationDefinitionNode, OperationType
    for op in doc.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        if op.operation != OperationType.MUTATION:
            continue
        report(not op.directives, "%s: no directive on the operation" % name,
               "directives on the mutation keyword")
        vtypes = {v.variable.name.value: v.type for v in op.variable_definitions}
        for sel in op.selection_set.selections:
            field = sel.name.value
            if field not in IDEMPOTENT:
                continue
            ok, why = False, "no @idempotent on field %s" % field
            for d in sel.directives:
                if d.name.value != "idempotent":
                    continue
                args = {a.name.value: a.value for a in d.arguments}
                key = args.get("key")
                if key is None or key.kind != "variable":
                    why = "@idempotent(key:) must take a variable"
                    break
                t = vtypes.get(key.name.value)
                if t is None or t.kind != "non_null_type" or \
                        t.type.name.value != "String":
                    why = "key variable must be String!"
                    break
                ok, why = True, ""
            report(ok, "%s: @idempotent(key:) on field %s" % (name, field), why)


def check_bulk_query(schema, label, doc):
    """docs/shopify-api.md §7: a bulk query has 1..5 connections, nested at most 2
    deep, no top-level node/nodes, and takes no first/after/last/before."""
    from graphql import TypeInfo, visit, Visitor, TypeInfoVisitor
    from graphql.type import get_named_type
    found = {"conns": 0, "depth": 0, "paging": [], "top": []}
    stack = []

    class V(Visitor):
        def enter_field(self, node, *_):
            t = get_named_type(ti.get_type())
            conn = t is not None and t.name.endswith("Connection")
            if len(stack) == 0 and node.name.value in ("node", "nodes"):
                found["top"].append(node.name.value)
            if conn:
                found["conns"] += 1
                found["paging"] += [a.name.value for a in node.arguments
                                    if a.name.value in ("first", "last",
                                                        "after", "before")]
            stack.append(conn)
            found["depth"] = max(found["depth"], sum(stack))

        def leave_field(self, *_):
            stack.pop()
    ti = TypeInfo(schema)
    visit(doc, TypeInfoVisitor(ti, V()))
    report(1 <= found["conns"] <= 5, label + " bulk query: 1 to 5 "
           "connections", "%d connections" % found["conns"])
    report(found["depth"] <= 2, label + " bulk query: nesting depth <= 2",
           "depth %d" % found["depth"])
    report(not found["top"], label + " bulk query: no top-level node(s)",
           found["top"])
    report(not found["paging"], label + " bulk query: no paging arguments",
           found["paging"])


def check_requests(schema, parsed):
    from graphql import parse
    from graphql.execution.values import get_variable_values
    from graphql.language import print_ast, OperationDefinitionNode
    by_text = {print_ast(d): n for n, d in parsed.items()}
    seen = set()
    reqs = sorted(f for f in os.listdir(FIXDIR)
                  if f.startswith("req_") and f.endswith(".json"))
    for f in reqs:
        label = "request %s" % f[:-5]
        try:
            body = json.load(open(os.path.join(FIXDIR, f)))
        except ValueError as e:
            report(False, label + " is JSON", str(e))
            continue
        if set(body) != {"query", "variables"}:
            report(False, label + " keys", "keys %s" % sorted(body))
            continue
        try:
            name = by_text.get(print_ast(parse(body["query"])))
        except Exception as e:
            name, err = None, str(e)
        report(name is not None, label + " query is an embedded document",
               "unknown query")
        if name is None:
            continue
        seen.add(name)
        op = [d for d in parsed[name].definitions
              if isinstance(d, OperationDefinitionNode)][0]
        got = get_variable_values(schema, op.variable_definitions,
                                  body["variables"])
        report(isinstance(got, dict), label + " variables coerce",
               "; ".join(str(e) for e in got) if isinstance(got, list) else "")
        extra = set(body["variables"]) - \
            {v.variable.name.value for v in op.variable_definitions}
        report(not extra, label + " no undeclared variables", sorted(extra))
        if name == "adjust":
            inp = body["variables"].get("input", {})
            ch = inp.get("changes", [])
            report(ch and all("changeFromQuantity" in c for c in ch),
                   label + " changeFromQuantity on every change",
                   "missing changeFromQuantity")
            report(inp.get("name") == "available", label + " name available",
                   inp.get("name"))
            report(any(c.get("changeFromQuantity") is None for c in ch),
                   label + " explicit null present in fixture",
                   "fixture should exercise null")
        if name == "bulk_run":
            inner = body["variables"].get("query", "")
            try:
                iname = by_text.get(print_ast(parse(inner)))
            except Exception:
                iname = None
            report(iname is not None, label + " bulk query is an embedded "
                   "document", "unknown bulk query")
            if iname is not None:
                seen.add(iname)
                check_bulk_query(schema, label, parsed[iname])
    for n in parsed:
        report(n in seen, "request fixture covers %s" % n,
               "no req_*.json uses this document")


def main():
    names = docs()
    from graphql import build_schema, parse, validate
    from graphql.language import print_ast
    try:
        sdl = shopify_schema.read()
    except (OSError, ValueError) as e:
        report(False, "schema", str(e))
        return 1
    report(True, "schema %s" % os.path.relpath(shopify_schema.PATH, REPO))
    schema = build_schema(sdl)
    emb = embedded(names)
    parsed = {}
    for n in names:
        src = open(os.path.join(DOCDIR, n + ".graphql")).read()
        try:
            doc = parse(src)
        except Exception as e:
            report(False, "validate %s" % n, "parse: %s" % e)
            continue
        errs = validate(schema, doc)
        report(not errs, "validate %s" % n, "; ".join(str(e) for e in errs))
        parsed[n] = doc
        if n not in emb:
            report(False, "embed %s" % n, "not in generated C")
            continue
        try:
            edoc = parse(emb[n])
            same = print_ast(edoc) == print_ast(doc)
            why = "embedded text differs: %s" % emb[n]
        except Exception as e:
            same, why = False, "embedded text does not parse: %s" % e
        report(same, "embed %s" % n, why)
        report(len(emb[n]) < len(src), "embed %s is smaller" % n,
               "%d >= %d bytes" % (len(emb[n]), len(src)))
        check_idempotent(n, doc)
    check_requests(schema, parsed)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
