"""schema.py: the full Shopify Admin GraphQL 2026-07 schema that the tests read.

The SDL is kept xz-compressed beside this file (tests/shopify/README.md gives its
source); read() decompresses it and refuses it unless it is the pinned file
(SHA-256 of the uncompressed text, as fetched).  Standard library only.
"""
import hashlib
import lzma
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "admin-graphql-2026-07.schema.graphql.xz")
CAPTURES = os.path.join(HERE, "captures")
SHA256 = "8e4613f46a91ed9e5ee43a4c1f5228adcf302def2e6916d1982d55682f84f52e"


def read(path=PATH):
    """Returns the schema's SDL text; raises ValueError when the pinned file
    (path ends in .xz) does not have the pinned sum, OSError when unreadable."""
    if not path.endswith(".xz"):
        with open(path, encoding="utf-8") as f:
            return f.read()
    with lzma.open(path) as f:
        raw = f.read()
    got = hashlib.sha256(raw).hexdigest()
    if path == PATH and got != SHA256:
        raise ValueError("%s: SHA-256 %s, pinned %s" % (path, got, SHA256))
    return raw.decode("utf-8")
