import argparse
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from kvstore.store import KEY, Store


class Handler(BaseHTTPRequestHandler):
    store = None

    def log_message(self, format, *args):
        return

    def _send(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            return "health", None, url
        if url.path == "/keys":
            return "keys", None, url
        if url.path.startswith("/keys/"):
            return "key", url.path[len("/keys/") :], url
        return None, None, url

    def do_GET(self):
        route, key, url = self._route()
        if route == "health":
            return self._send(200, {"status": "ok"})
        if route == "keys":
            prefix = parse_qs(url.query).get("prefix", [""])[0]
            return self._send(200, {"keys": self.store.keys(prefix)})
        if route == "key":
            if not KEY.fullmatch(key):
                return self._send(400, {"error": f"bad key {key!r}"})
            value, found = self.store.get(key)
            if not found:
                return self._send(404, {"error": f"no key {key!r}"})
            return self._send(200, {"key": key, "value": value})
        return self._send(404, {"error": f"no such path {url.path}"})

    def do_PUT(self):
        route, key, url = self._route()
        if route != "key":
            return self._not_allowed(route, url)
        if not KEY.fullmatch(key):
            return self._send(400, {"error": f"bad key {key!r}"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            value = json.loads(self.rfile.read(length) or b"")
        except ValueError:
            return self._send(400, {"error": "the body is not JSON"})
        created = self.store.put(key, value)
        return self._send(201 if created else 200, {"key": key, "created": created})

    def do_DELETE(self):
        route, key, url = self._route()
        if route != "key":
            return self._not_allowed(route, url)
        if not KEY.fullmatch(key):
            return self._send(400, {"error": f"bad key {key!r}"})
        if not self.store.delete(key):
            return self._send(404, {"error": f"no key {key!r}"})
        return self._send(204)

    def do_POST(self):
        route, _, url = self._route()
        return self._not_allowed(route, url)

    def _not_allowed(self, route, url):
        if route is None:
            return self._send(404, {"error": f"no such path {url.path}"})
        return self._send(405, {"error": f"{self.command} is not allowed here"})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="kvstore")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    Handler.store = Store(args.data)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


main()
