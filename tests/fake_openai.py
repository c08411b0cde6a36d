"""A fake OpenAI-compatible server on 127.0.0.1: the answers a real one cannot be made to give.

It lists its `models` (GET /v1/models), counts tokens as whitespace-separated words
(POST /tokenize, beside /v1 as in vLLM) and answers POST /v1/chat/completions and
/v1/completions with the upper-cased source text, or with the fault that `behaviour`
names: a reply cut at the length cap, a 200 that is not JSON, a 200 without choices,
404, 400, 429 (Retry-After: 0) or 500. `script` holds behaviours used once each, in
order, before `behaviour`; `fault_when` limits `behaviour` to requests whose body holds
that text. With `api_key` set, every route wants `Authorization: Bearer KEY` (else 401).
It records every request (path, JSON body, headers) and counts requests per path.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"
GENERATION_PATHS = ("/v1/chat/completions", "/v1/completions")


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def words(body: dict[str, Any]) -> int:
    """The fake tokenizer: words of the prompt, or of every message's content."""
    if "messages" in body:
        return sum(len(m["content"].split()) for m in body["messages"])
    return len(str(body.get("prompt", "")).split())


def source_text(body: dict[str, Any]) -> str:
    """The text to translate: the last line of the last user turn, or in a completion
    prompt (`Arabic: TEXT\\nEnglish:`) what follows the label on the next-to-last line."""
    if "messages" in body:
        return body["messages"][-1]["content"].splitlines()[-1]
    lines = str(body["prompt"]).rstrip().splitlines()
    line = lines[-2] if len(lines) > 1 else lines[-1]
    return line.partition(": ")[2] or line


class FakeOpenAI:
    def __init__(self, behaviour: str = "ok", api_key: str | None = None) -> None:
        self.behaviour = behaviour
        self.script: list[str] = []
        self.fault_when: str | None = None
        self.api_key = api_key
        self.models = [MODEL]
        self.received: list[Received] = []
        self.counts: Counter[str] = Counter()
        #: requests whose body never arrived whole (the client closed the connection)
        self.abandoned = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def generations(self) -> list[Received]:
        return [r for r in self.received if r.path in GENERATION_PATHS]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _pick(self, body: dict[str, Any]) -> str:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        text = json.dumps(body, ensure_ascii=False)
        return "ok" if self.fault_when and self.fault_when not in text else self.behaviour

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": m} for m in self.models]}, {}
        if path == "/tokenize":
            return 200, {"count": words(body)}, {}
        if path not in GENERATION_PATHS:
            return 404, {"error": {"message": f"no route {path}"}}, {}
        behaviour = self._pick(body)
        if behaviour in ("404", "400", "429", "500"):
            message = {"400": "This model's maximum context length is 64 tokens"}
            error = {"error": {"message": message.get(behaviour, f"fault {behaviour}")}}
            return int(behaviour), error, {"Retry-After": "0"} if behaviour == "429" else {}
        if behaviour == "not-json":
            return 200, "<html>502 Bad Gateway</html>", {}
        if behaviour == "no-choices":
            return 200, {"id": "x", "choices": [], "usage": {}}, {}
        reply = source_text(body).upper()
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
        if behaviour == "length":
            reply, choice["finish_reason"] = reply[:5], "length"
        if path.endswith("chat/completions"):
            choice["message"] = {"role": "assistant", "content": reply}
        else:
            choice["text"] = " " + reply
        usage = {"prompt_tokens": words(body), "completion_tokens": len(reply.split())}
        return 200, {"id": "x", "model": MODEL, "choices": [choice], "usage": usage}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if len(raw) < length:
                    # the client went away mid-request (a failed run cancels the requests
                    # in flight): nothing to answer, and no half body to misread
                    with fake._lock:
                        fake.abandoned += 1
                    return
                body = json.loads(raw) if raw else {}
                path = self.path.split("?")[0]
                with fake._lock:
                    fake.counts[path] += 1
                    fake.received.append(Received(path, body, dict(self.headers.items())))
                if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    status, answer, headers = 401, {"error": {"message": "bad key"}}, {}
                else:
                    status, answer, headers = fake._answer(path, body)
                payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # a run that failed cancels the requests still in flight: no answer wanted
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler
