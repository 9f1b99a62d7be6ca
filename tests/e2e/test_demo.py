#!/usr/bin/env python3
"""Runs `make demo`'s script and checks what it prints: both scenarios of
the product brief converge (50/50 -> 45/45 -> 55/55) and it exits 0; and
with --pools (issue 18), a sale in the destination taken from the source's
group in order (3 + 10 -> 0 + 8) and the destination holding 2 back
(13 -> 11, 0 while the source has 2, 10 after a restock to 12)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = sys.argv[sys.argv.index("--bin") + 1] if "--bin" in sys.argv else \
    os.path.join(ROOT, "build/invsync")


def demo(*extra):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tests/e2e/demo.py"),
                        "--bin", binary, "--quiet"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    n = 3 if "--pools" in extra else 2
    rows = [tuple(int(x) for x in m.groups()) for m in
            re.finditer(r"^\s+(?:\S.*?)?" + r"\s(-?\d+)" + r"\s+(-?\d+)" * (n - 1) +
                        r"\s+\d+\.\d\d s$", p.stdout, re.M)]
    return p, rows


def check(name, ok, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
    return ok


def in_order(rows, *want):
    """every row of want shows, in that order"""
    if not all(w in rows for w in want):
        return False
    at = [rows.index(w) for w in want]
    return at == sorted(at)


p, rows = demo()
ok = check("demo: exits 0", p.returncode == 0,
           "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
ok &= check("demo: the sale shows 50/45 then 45/45",
            in_order(rows, (50, 45), (45, 45)), repr(rows))
ok &= check("demo: the restock shows 55/45 then 55/55",
            in_order(rows, (55, 45), (55, 55)), repr(rows))
ok &= check("demo: reports both propagation times",
            len(re.findall(r"reached the \w+ store in \d+\.\d\d s",
                           p.stdout)) == 2, p.stdout)

# --pools: rows are (Main Warehouse, Overflow, destination)
p, rows = demo("--pools")
out = "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr)
ok &= check("demo --pools: exits 0", p.returncode == 0, out)
ok &= check("demo --pools: the destination holds 2 back: 13 -> 11",
            (3, 10, 11) in rows, repr(rows))
ok &= check("demo --pools: the sale of 5 shows 3+10/6 then 0+8/6 (in order)",
            in_order(rows, (3, 10, 11), (3, 10, 6), (0, 8, 6)), repr(rows))
ok &= check("demo --pools: a sale at Overflow shows 0+2/6 then 0+2/0",
            in_order(rows, (0, 8, 6), (0, 2, 6), (0, 2, 0)), repr(rows))
ok &= check("demo --pools: the restock shows 10+2/0 then 10+2/10",
            in_order(rows, (0, 2, 0), (10, 2, 0), (10, 2, 10)), repr(rows))
ok &= check("demo --pools: reports four propagation times",
            len(re.findall(r"^  => .* in \d+\.\d\d s$", p.stdout, re.M)) == 4,
            p.stdout)
sys.exit(0 if ok else 1)
