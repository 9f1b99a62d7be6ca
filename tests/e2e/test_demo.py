#!/usr/bin/env python3
"""Runs `make demo`'s script and checks what it prints: both scenarios of
the product brief converge (50/50 -> 45/45 -> 55/55) and it exits 0."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = sys.argv[sys.argv.index("--bin") + 1] if "--bin" in sys.argv else \
    os.path.join(ROOT, "build/invsync")
p = subprocess.run([sys.executable, os.path.join(ROOT, "tests/e2e/demo.py"),
                    "--bin", binary, "--quiet"], capture_output=True,
                   text=True, timeout=120)
rows = [tuple(int(x) for x in m.groups()) for m in
        re.finditer(r"^\s+(?:\S.*?)?\s(\d+)\s+(\d+)\s+\d+\.\d\d s$",
                    p.stdout, re.M)]


def check(name, ok, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
    return ok


ok = check("demo: exits 0", p.returncode == 0,
           "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
ok &= check("demo: the sale shows 50/45 then 45/45",
            (50, 45) in rows and (45, 45) in rows and
            rows.index((50, 45)) < rows.index((45, 45)), repr(rows))
ok &= check("demo: the restock shows 55/45 then 55/55",
            (55, 45) in rows and (55, 55) in rows and
            rows.index((55, 45)) < rows.index((55, 55)), repr(rows))
ok &= check("demo: reports both propagation times",
            len(re.findall(r"reached the \w+ store in \d+\.\d\d s",
                           p.stdout)) == 2, p.stdout)
sys.exit(0 if ok else 1)
