#!/usr/bin/env python3
"""A proxy in front of moto that reads request paths as AWS S3 does: a `+` in the path is a
space. moto reads `+` literally, so without this a test cannot see what a pacman user of a
real bucket sees (issue #11): pacman puts file names into URLs unescaped, and AWS answers
`GET .../foo-1.0+r3-1-any.pkg.tar.zst` with the object `foo-1.0 r3-1-any.pkg.tar.zst`.

Every request is forwarded to --upstream with its method, headers and body, the path's `+`
rewritten to `%20` (the query string is left alone); the status, headers and body of the
answer come back unchanged.

Usage: aws_paths_proxy.py --upstream http://127.0.0.1:PORT [--port 0]   (prints "PORT <n>" once listening)
"""
import argparse
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers about one connection, not the message: never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}


def aws_path(target):
    """The request target as AWS reads it: `+` in the path is a space, the query unchanged."""
    path, sep, query = target.partition("?")
    return path.replace("+", "%20") + sep + query


class Handler(BaseHTTPRequestHandler):
    def forward(self):
        length = int(self.headers.get("Content-Length", 0) or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=60)
        try:
            upstream.request(self.command, aws_path(self.path), body=body, headers=headers)
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
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.upstream = urlsplit(args.upstream).netloc
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
