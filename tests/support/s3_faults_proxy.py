#!/usr/bin/env python3
"""A proxy in front of moto that makes it misbehave the way a test needs (issue 24):

--drop-conditions   removes `If-Match` and `If-None-Match` from every request before moto sees
                    it: a store that ignores conditional writes (an old MinIO, a Ceph or Garage
                    setup without them), which accepts a PUT whatever its condition says.
--hold-put SUFFIX   holds the first PUT whose path ends with SUFFIX before forwarding it: the
                    proxy creates the file DIR/held (--signal DIR) and forwards the request
                    only once DIR/release exists. A test runs another publisher in between,
                    which makes a race between two publishers happen in one order every time.

Every other request is forwarded to --upstream with its method, headers and body; the status,
headers and body of the answer come back unchanged.

Usage: s3_faults_proxy.py --upstream http://127.0.0.1:PORT [--drop-conditions]
       [--hold-put SUFFIX --signal DIR] [--port 0]     (prints "PORT <n>" once listening)
"""
import argparse
import http.client
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# Headers about one connection, not the message: never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
CONDITIONS = {"if-match", "if-none-match"}


class Handler(BaseHTTPRequestHandler):
    def hold_if_asked(self):
        server = self.server
        if self.command != "PUT" or not server.hold_suffix:
            return
        path = unquote(urlsplit(self.path).path)
        with server.lock:
            if server.held or not path.endswith(server.hold_suffix):
                return
            server.held = True
        open(os.path.join(server.signal, "held"), "w").close()
        release = os.path.join(server.signal, "release")
        deadline = time.time() + 600
        while not os.path.exists(release) and time.time() < deadline:
            time.sleep(0.05)

    def forward(self):
        length = int(self.headers.get("Content-Length", 0) or 0)
        body = self.rfile.read(length) if length else None
        drop = HOP_BY_HOP | (CONDITIONS if self.server.drop_conditions else set())
        headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
        self.hold_if_asked()
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        # HEAD answers carry the object's length without its bytes.
        self.send_header("Content-Length", answer.getheader("Content-Length", "0") if self.command == "HEAD"
                         else str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = forward

    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--drop-conditions", action="store_true")
    parser.add_argument("--hold-put", default="")
    parser.add_argument("--signal", default="")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.upstream = urlsplit(args.upstream).netloc
    server.drop_conditions = args.drop_conditions
    server.hold_suffix = args.hold_put
    server.signal = args.signal
    server.held = False
    server.lock = threading.Lock()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
