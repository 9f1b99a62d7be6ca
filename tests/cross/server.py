#!/usr/bin/env python3
"""server.py: local HTTPS test server for make cross-test (tests/cross/run.sh).

Usage: server.py CERT KEY [LIFETIME_SECONDS]
Listens on 127.0.0.1 on a free port chosen by the kernel and prints exactly
one readiness line "READY PORT" on stdout once it accepts connections (tests
wait for that line, never sleep).  Answers every POST with
  {"ok":true,"token":"tok-<body length>-<user agent>","got":<body as a JSON string>}
and every GET with 405.  Exits by itself after LIFETIME_SECONDS (default 120).
"""
import http.server
import json
import os
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        ua = self.headers.get("User-Agent", "")
        reply = json.dumps({"ok": True,
                            "token": "tok-%d-%s" % (n, ua),
                            "got": body}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self):
        self.send_error(405)

    def log_message(self, fmt, *args):
        c = self.connection
        cipher = c.cipher()[0] if hasattr(c, "cipher") and c.cipher() else "-"
        sys.stderr.write("server.py: %s %s\n" % (cipher, fmt % args))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # failed handshakes (wrong CA on the client side) are expected
        sys.stderr.write("server.py: %s: %s\n" % (client_address[0],
                                                   sys.exc_info()[1]))


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: server.py CERT KEY [LIFETIME_SECONDS]\n")
        sys.exit(2)
    lifetime = float(sys.argv[3]) if len(sys.argv) == 4 else 120.0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv = Server(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    print("READY %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
