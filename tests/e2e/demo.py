#!/usr/bin/env python3
"""make demo: invsync keeping two simulated Shopify stores in step.

Starts the fake Shopify Admin API (tests/fakeshop) with two stores that both
hold 50 "Slim Fit Denim Jacket", starts invsync against them, then a
customer buys 5 in the destination store and the merchant restocks 10 in the
source store.  Prints both stores' quantities as they converge and how long
each change took to reach the other store.  Exits 0 when both scenarios
converged, 1 otherwise.

--pools shows stock pools (issue 18) instead: the source store stocks the
jacket at two locations linked as one group (`Main Warehouse + Overflow =
US Warehouse`) and the destination holds 2 units back (`buffer = 2`).  A
sale in the destination is taken from the group in order (Main Warehouse
first, then Overflow); when the source is down to 2 the destination shows 0;
a restock shows again all but 2.

    python3 tests/e2e/demo.py --bin build/invsync [--interval 1s] [--quiet] [--pools]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANDLE = "slim-fit-denim-jacket"
STORES = [("source", "urbanwear-eu.myshopify.com", "Main Warehouse"),
          ("destination", "urbanwear-us.myshopify.com", "US Warehouse")]


# --pools: the source's two locations (one group) and the destination's buffer
POOL_LEVELS = {"source": {"Main Warehouse": 3, "Overflow": 10},
               "destination": {"US Warehouse": 13}}
BUFFER = 2


def scenario(pools=False):
    stores = []
    for name, shop, location in STORES:
        levels = POOL_LEVELS[name] if pools else {location: 50}
        stores.append({
            "name": name, "shop": shop, "token": "shpat_demo_" + name,
            "locations": [{"name": n} for n in levels],
            "products": [{
                "handle": HANDLE, "title": "Slim Fit Denim Jacket",
                "status": "ACTIVE", "options": ["Size"],
                "variants": [{"sku": "SFDJ-M", "options": {"Size": "M"},
                              "tracked": True, "levels": levels}]}]})
    return {"stores": stores}


class Demo:
    def __init__(self, binary, interval, quiet, pools=False):
        self.bin = os.path.abspath(binary)
        self.pools = pools
        self.interval = interval
        self.quiet = quiet
        self.dir = tempfile.mkdtemp(prefix="invsync-demo.")
        self.procs = []

    def say(self, text=""):
        print(text, flush=True)

    def start_fake(self):
        path = os.path.join(self.dir, "stores.json")
        with open(path, "w") as f:
            json.dump(scenario(self.pools), f)
        log = open(os.path.join(self.dir, "fake.log"), "w")
        p = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests/fakeshop/fakeshop.py"),
             "--tls-dir", os.path.join(self.dir, "tls"), "--scenario", path,
             "--lifetime", "300"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs.append(p)
        line = p.stdout.readline()     # the READY line: no sleeps
        if not line.startswith("READY "):
            raise RuntimeError("the simulated stores did not start: " + line)
        f = dict(kv.split("=", 1) for kv in line.split()[1:])
        self.port, self.control, self.ca = f["port"], f["control"], f["ca"]

    def control_op(self, op, body):
        req = urllib.request.Request(
            "http://127.0.0.1:%s/%s" % (self.control, op),
            data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def available(self):
        """(source, destination); --pools: (Main Warehouse, Overflow,
        destination)."""
        out = []
        for name, _, _ in STORES:
            levels = self.control_op("levels", {"store": name})
            here = {l["location"]: l["available"] for l in levels
                    if l["handle"] == HANDLE}
            if self.pools:
                out += [here[loc] for loc in POOL_LEVELS[name]]
            else:
                out.append(next(iter(here.values())))
        return tuple(out)

    def write_config(self):
        lines = ["[sync]", "interval = %s" % self.interval,
                 "state_dir = %s" % os.path.join(self.dir, "state"),
                 "ca_file = %s" % self.ca, ""]
        for name, shop, _ in STORES:
            token = os.path.join(self.dir, name + ".token")
            with open(token, "w") as f:
                f.write("shpat_demo_%s\n" % name)
            os.chmod(token, 0o600)
            lines += ["[store %s]" % name, "shop = %s" % shop,
                      "token_file = %s" % token,
                      "url = https://localhost:%s/store/%s" % (self.port, name)]
            if self.pools and name == "destination":
                lines.append("buffer = %d" % BUFFER)
            lines.append("")
        if self.pools:
            lines += ["[locations]", " = ".join(" + ".join(POOL_LEVELS[name])
                                                for name, _, _ in STORES), ""]
        self.conf = os.path.join(self.dir, "invsync.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))

    def start_agent(self):
        self.agent_log = os.path.join(self.dir, "invsync.log")
        p = subprocess.Popen([self.bin, "-c", self.conf, "-v", "run"],
                             stderr=open(self.agent_log, "w"))
        self.procs.append(p)
        self.agent = p

    def status(self):
        out = subprocess.run([self.bin, "-c", self.conf, "status", "--json"],
                             capture_output=True, text=True)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def wait_linked(self, timeout):
        """Waits until invsync has seen the product in both stores."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.status()
            if st and st["links_in_step"] >= 1:
                return True
            time.sleep(0.1)
        return False

    def wait_for(self, want, timeout):
        """Prints each new pair of quantities until want; returns seconds."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            now = self.available()
            if now != last:
                self.row("", now, time.monotonic() - start)
                last = now
            if now == want:
                return time.monotonic() - start
            if self.agent.poll() is not None:     # invsync exited: no wait
                return None
            time.sleep(0.05)
        return None

    def row(self, text, q, secs=None):
        when = "" if secs is None else "%5.2f s" % secs
        if self.pools:
            self.say("  %-46s %5s %8s %11s   %s" % (text, q[0], q[1], q[2], when))
        else:
            self.say("  %-46s %6s %11s   %s" % (text, q[0], q[1], when))

    def run(self):
        if self.pools:
            return self.run_pools()
        self.say("invsync demo: two simulated Shopify stores, one product\n")
        self.start_fake()
        self.write_config()
        self.say("  stores: source (%s) and destination (%s), simulated on "
                 "localhost:%s over TLS" % (STORES[0][1], STORES[1][1],
                                            self.port))
        self.say("  invsync: %s run, polling every %s\n" % (self.bin,
                                                             self.interval))
        self.start_agent()
        self.say("  %-46s %6s %11s" % ("Slim Fit Denim Jacket, available:",
                                       "source", "destination"))
        self.row("both stores hold 50", self.available())
        if not self.wait_linked(15):
            return self.fail("invsync did not link the stores")
        self.say("  invsync has linked %s in both stores" % HANDLE)
        ok = True
        self.say("\n  a customer buys 5 in the destination store")
        self.control_op("sell", {"store": "destination", "handle": HANDLE,
                                 "qty": 5})
        took = self.wait_for((45, 45), 15)
        ok &= self.report("the sale reached the source store", took)
        self.say("\n  the merchant restocks 10 in the source store")
        self.control_op("restock", {"store": "source", "handle": HANDLE,
                                    "qty": 10})
        took = self.wait_for((55, 55), 15)
        ok &= self.report("the restock reached the destination store", took)
        self.show_status()
        return 0 if ok else 1

    def show_status(self):
        if not self.quiet:
            self.say("\n  invsync status:")
            out = subprocess.run([self.bin, "-c", self.conf, "status"],
                                 capture_output=True, text=True).stdout
            self.say("".join("    " + l + "\n" for l in out.splitlines()))
            self.say("  invsync log (audit):")
            out = subprocess.run([self.bin, "-c", self.conf, "log", "-n", "4"],
                                 capture_output=True, text=True).stdout
            self.say("".join("    " + l + "\n" for l in out.splitlines()))

    def run_pools(self):
        """--pools: a two-location group and a buffered store."""
        self.say("invsync demo: stock pools -- a group of two locations and a "
                 "store holding %d back\n" % BUFFER)
        self.start_fake()
        self.write_config()
        self.say("  stores: source (%s) at Main Warehouse and Overflow,\n"
                 "          destination (%s) at US Warehouse,\n"
                 "          simulated on localhost:%s over TLS"
                 % (STORES[0][1], STORES[1][1], self.port))
        self.say("  [locations]  Main Warehouse + Overflow = US Warehouse")
        self.say("  [store destination]  buffer = %d" % BUFFER)
        self.say("  invsync: %s run, polling every %s\n" % (self.bin,
                                                             self.interval))
        self.say("  %-46s %5s %8s %11s" % ("Slim Fit Denim Jacket, available:",
                                           "Main", "Overflow", "destination"))
        self.row("source 3 + 10, destination 13", self.available())
        self.start_agent()
        took = self.wait_for((3, 10, 13 - BUFFER), 15)
        ok = self.report("the destination holds %d back (13 - %d)"
                         % (BUFFER, BUFFER), took)
        if not ok:
            return 1
        self.say("\n  a customer buys 5 in the destination store")
        self.control_op("sell", {"store": "destination", "handle": HANDLE,
                                 "qty": 5})
        took = self.wait_for((0, 8, 11 - 5), 15)
        ok &= self.report("the sale was taken from Main Warehouse (3), then "
                          "Overflow (2)", took)
        self.say("\n  a customer buys 6 at Overflow in the source store")
        self.control_op("sell", {"store": "source", "handle": HANDLE,
                                 "location": "Overflow", "qty": 6})
        took = self.wait_for((0, 2, 0), 15)
        ok &= self.report("the destination shows 0 while the source has 2",
                          took)
        self.say("\n  the merchant restocks 10 at Main Warehouse")
        self.control_op("restock", {"store": "source", "handle": HANDLE,
                                    "location": "Main Warehouse", "qty": 10})
        took = self.wait_for((10, 2, 12 - BUFFER), 15)
        ok &= self.report("the restock reached the destination, less %d"
                          % BUFFER, took)
        self.show_status()
        return 0 if ok else 1

    def report(self, what, took):
        if took is None:
            gone = getattr(self, "agent", None) and self.agent.poll() is not None
            return self.fail(what + (": invsync exited" if gone else
                                     ": NOT within 15 s"))
        self.say("  => %s in %.2f s" % (what, took))
        return True

    def fail(self, why):
        self.say("\n  FAILED: " + why)
        try:
            with open(self.agent_log) as f:
                self.say("".join(f.readlines()[-20:]))
        except (OSError, AttributeError):
            pass
        return False

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/invsync"))
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--pools", action="store_true",
                    help="a two-location group and a store with buffer = %d"
                    % BUFFER)
    a = ap.parse_args()
    demo = Demo(a.bin, a.interval, a.quiet, a.pools)
    try:
        rc = demo.run()
        rc = 1 if rc is False else rc
    finally:
        demo.close()
    sys.exit(rc)


if __name__ == "__main__":
    main()
