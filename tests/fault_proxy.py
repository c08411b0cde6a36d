"""An HTTP proxy on 127.0.0.1 in front of a real server, injecting faults on a schedule.

Every `every`-th generation request (POST .../completions, or the `routes` given, such
as /embeddings) gets the next fault of `faults` instead of the server's answer: 429 with
Retry-After, 500, 503, a dropped connection, or a stall past the client's timeout; a
request body is faulted at most once, so its retry goes through and every injected
fault costs the client exactly one retry. Everything else is forwarded as it is.
The proxy counts generation requests, what it injected, and what it answered with 200,
so a test can hold the client's own counts against them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

FAULTS = ("429", "500", "503", "drop", "stall")


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        faults: tuple[str, ...] = (),
        every: int = 3,
        stall_s: float = 30.0,
        routes: tuple[str, ...] = ("/completions",),
    ) -> None:
        self.upstream = upstream.rstrip("/")  # http://127.0.0.1:PORT, no /v1
        #: the path endings of the requests that are counted and faulted
        self.routes = routes
        self.faults = faults
        self.every = every
        self.stall_s = stall_s
        self.generation_requests = 0
        self.answered = 0
        self.injected: Counter[str] = Counter()
        self._faulted: set[bytes] = set()
        self._due = False  # a fault slot came up on a body already faulted: next new one
        self._lock = threading.Lock()
        self._stop = threading.Event()
        #: requests being handled now (a client killed mid-request leaves them running)
        self._in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_idle(self, quiet_s: float = 1.0, timeout_s: float = 300.0) -> None:
        """Return once no request has been in progress for `quiet_s` (longer than the
        server's accept poll, so a request still queued to be accepted is counted too)."""
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s:
            if time.monotonic() > deadline:
                raise TimeoutError("the proxy was still handling requests")
            with self._lock:
                if self._in_flight:
                    quiet_since = time.monotonic()
            time.sleep(0.05)

    def reset_counts(self) -> None:
        with self._lock:
            self.generation_requests = 0
            self.answered = 0
            self.injected.clear()

    def _fault_for(self, path: str, body: bytes) -> str | None:
        if not path.endswith(self.routes):
            return None
        with self._lock:
            self.generation_requests += 1
            number = self.generation_requests
            if self.faults and number % self.every == 0:
                self._due = True
            if not self._due or body in self._faulted:
                return None
            self._due = False
            self._faulted.add(body)
            fault = self.faults[sum(self.injected.values()) % len(self.faults)]
            self.injected[fault] += 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if body is not None and len(body) < length:
                    self.close_connection = True
                    return  # the client went away mid-request: nothing to forward
                fault = proxy._fault_for(self.path, body or b"") if method == "POST" else None
                if fault in ("429", "500", "503"):
                    self.send_response(int(fault))
                    if fault == "429":
                        self.send_header("Retry-After", "1")
                    payload = b'{"error": {"message": "injected fault"}}'
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault == "drop":
                    self.close_connection = True
                    return  # no answer at all: the client sees the connection end
                if fault == "stall":
                    proxy._stop.wait(proxy.stall_s)
                    self.close_connection = True
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type")
                }
                upstream = httpx.request(
                    method, proxy.upstream + self.path, content=body, headers=headers, timeout=600
                )
                if self.path.endswith(proxy.routes) and upstream.status_code == 200:
                    with proxy._lock:
                        proxy.answered += 1
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", "text/plain"))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                # a run that failed or was killed no longer waits for the answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(upstream.content)

            def handle(self) -> None:
                with proxy._lock:
                    proxy._in_flight += 1
                try:
                    super().handle()
                finally:
                    with proxy._lock:
                        proxy._in_flight -= 1

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

        return Handler
