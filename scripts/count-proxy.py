"""A counting HTTP forwarder for benchmarks: listens on 127.0.0.1:PORT, forwards
every request to UPSTREAM (e.g. a moto server) unchanged, and counts them by API
operation. `GET /__counts` answers the counts as JSON; `POST /__reset` zeroes them.

usage: count-proxy.py PORT UPSTREAM_URL
"""

import http.client
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS: dict[str, int] = {}
METRICS = {"requested": 0}


def operation(method: str, path: str, headers, body: bytes) -> str:
    """The API operation a request calls, in whichever protocol the SDK spoke."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    # Smithy RPC v2 CBOR: /service/<Service>/operation/<Operation>
    m = re.search(r"/operation/([A-Za-z]+)", path)
    if m:
        return m.group(1)
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
    if "Action" in form:
        return form["Action"][0]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    if "Action" in query:
        return query["Action"][0]
    # REST APIs (Route 53): the method and the resource kind.
    parts = [p for p in urllib.parse.urlparse(path).path.split("/") if p and not p[0].isdigit()]
    return f"{method} {'/'.join(parts[:3])}"


def metric_queries(op: str, body: bytes) -> int:
    """CloudWatch GetMetricData is billed per metric requested: count the queries."""
    if op != "GetMetricData" or not body:
        return 0
    text = body.decode("latin-1")
    form = len(re.findall(r"MetricDataQueries\.member\.\d+\.Id=", text))
    if form:
        return form
    return max(text.count('"Id"'), body.count(b"bId"))


class Forward(BaseHTTPRequestHandler):
    upstream = urllib.parse.urlparse("http://127.0.0.1:5000")

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, code: int, payload: bytes, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__counts":
            with LOCK:
                out = {"operations": dict(COUNTS), "metrics_requested": METRICS["requested"]}
            return self._answer(200, json.dumps(out).encode())
        if self.path == "/__reset":
            with LOCK:
                COUNTS.clear()
                METRICS["requested"] = 0
            return self._answer(200, b"{}")
        op = operation(self.command, self.path, self.headers, body)
        with LOCK:
            COUNTS[op] = COUNTS.get(op, 0) + 1
            METRICS["requested"] += metric_queries(op, body)
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = f"{self.upstream.hostname}:{self.upstream.port}"
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


def main():
    port, upstream = int(sys.argv[1]), sys.argv[2]
    Forward.upstream = urllib.parse.urlparse(upstream)
    ThreadingHTTPServer(("127.0.0.1", port), Forward).serve_forever()


if __name__ == "__main__":
    main()
