"""The judging page's HTTP side: a Starlette app over a JudgeSession, served by uvicorn.

  GET  /                    the page (static/judge.html; its script and style under /static)
  GET  /api/state           progress and where to resume
  GET  /api/items/{i}       item i: source with context, translation, what is saved
  PUT  /api/items/{i}       save item i (JSON: score, spans, complete); 400 with
                            {"error": ...} when the save is not valid for the item
  GET  /api/attention       the annotator's attention checks (for whoever runs the study)

Only the page's own origin is trusted: every answer forbids loading anything from
elsewhere (Content-Security-Policy), the Host header must name the server (a web page
elsewhere cannot reach it by rebinding a name to 127.0.0.1), and saves must be JSON,
which a foreign page cannot send without a CORS preflight that this app never grants.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from evalkit.errors import UserInputError
from evalkit.judge.session import BadInput, JudgeSession, NoSuchItem

STATIC = Path(__file__).parent / "static"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: a save is a few spans and a score; anything much larger is not from the page
MAX_BODY = 64 * 1024
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(session: JudgeSession, hosts: tuple[str, ...] = ()) -> Starlette:
    """The app for one session; `hosts`: names the Host header may carry besides
    127.0.0.1 and localhost (the host it is bound to; "*" for any)."""

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "judge.html", media_type="text/html; charset=utf-8")

    async def state(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(session.state))

    async def item(request: Request) -> Response:
        index = request.path_params["index"]
        try:
            if request.method == "GET":
                return JSONResponse(await run_in_threadpool(session.item, index))
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return _error(415, "send the judgment as application/json")
            body = await request.body()
            if len(body) > MAX_BODY:
                return _error(413, f"a save is at most {MAX_BODY} bytes")
            try:
                payload = json.loads(body)
            except ValueError as error:
                return _error(400, f"not JSON: {error}")
            return JSONResponse(await run_in_threadpool(session.save, index, payload))
        except NoSuchItem as error:
            return _error(404, str(error))
        except BadInput as error:
            return _error(400, str(error))

    async def attention(request: Request) -> Response:
        summary = await run_in_threadpool(session.attention)
        return JSONResponse(summary.as_dict())

    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    allowed = sorted({"127.0.0.1", "localhost", "[::1]", *hosts})
    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/state", state),
            Route("/api/items/{index:int}", item, methods=["GET", "PUT"]),
            Route("/api/attention", attention),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed),
            Middleware(BaseHTTPMiddleware, dispatch=headers),
        ],
    )


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port), or a UserInputError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UserInputError(
            f"cannot listen on {host}:{port}: {error.strerror} (choose another --port)"
        ) from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until Ctrl-C (uvicorn stops cleanly on SIGINT and SIGTERM)."""
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run(sockets=[sock])
