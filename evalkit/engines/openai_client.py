"""Talking to an OpenAI-compatible server: replicas, retries, rate limits, counts.

One `OpenAIClient` per system. It checks the servers once (the models they offer, whether
they can count tokens), then sends requests from asyncio with bounded concurrency; the
server does the batching (vLLM's continuous batching, for one). Request i goes to replica
i mod n and each retry moves to the next replica, so a replica that went away costs a
retry, not the run. Every request, retry and token the server counts is added to `stats`.
The API key is read from the environment variable the spec names, sent only in the
Authorization header, and scrubbed from every message this module raises.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, Retrying

from evalkit.engines.base import RequestStats
from evalkit.engines.credentials import redact
from evalkit.engines.http_retry import (
    RETRYABLE_STATUS,
    RetryableResponse,
    describe,
    retry_after_seconds,
    retry_policy,
)
from evalkit.errors import ServiceError, UserInputError

BASE_URL_ENV = "EVALKIT_OPENAI_BASE_URL"
_CONTEXT_ERRORS = ("context length", "maximum context", "too long", "context_length")


class RequestRefused(Exception):
    """A final answer about one request (400, 404, a broken body): no retry helps."""


def base_urls(given: list[str]) -> list[str]:
    """The replicas' base URLs, from the spec or the environment, checked."""
    urls = given or [u for u in os.environ.get(BASE_URL_ENV, "").split("|") if u.strip()]
    if not urls:
        raise UserInputError(f"openai:MODEL needs base_url=URL (or {BASE_URL_ENV} set)")
    checked = []
    for url in urls:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserInputError(f"base_url {url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise UserInputError(
                "base_url must not carry credentials; name the environment variable "
                "holding the key with api_key_env=NAME"
            )
        checked.append(url.strip().rstrip("/"))
    return checked


class ServedOptions(Protocol):
    """The options every served kind takes (translation engine, sentence encoder): where
    the replicas are, which variable holds the key, and the client's rules."""

    base_url: list[str]
    api_key_env: str
    timeout: float
    max_retries: int
    concurrency: int
    requests_per_minute: float | None


class OpenAIClient:
    @classmethod
    def from_options(cls, options: ServedOptions) -> OpenAIClient:
        """The client the served options describe, base URLs checked."""
        return cls(
            base_urls(options.base_url),
            options.api_key_env,
            timeout=options.timeout,
            max_retries=options.max_retries,
            concurrency=options.concurrency,
            requests_per_minute=options.requests_per_minute,
        )

    def __init__(
        self,
        urls: list[str],
        api_key_env: str,
        *,
        timeout: float,
        max_retries: int,
        concurrency: int,
        requests_per_minute: float | None,
    ) -> None:
        self.urls = urls
        self.api_key_env = api_key_env
        self._key = os.environ.get(api_key_env) or None
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.requests_per_minute = requests_per_minute
        self.stats = RequestStats()

    # -- shared ------------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _policy(self) -> dict[str, Any]:
        def count_retry(state: RetryCallState) -> None:
            self.stats.retries += 1

        return {**retry_policy(self.max_retries), "before_sleep": count_retry}

    def _url(self, path: str, attempt: int, spread: int) -> str:
        """`path` under the replica's base URL; a path starting with `//` goes under the
        server's root instead (vLLM's `/tokenize` sits beside `/v1`, not in it)."""
        base = self.urls[(spread + attempt - 1) % len(self.urls)]
        if path.startswith("//"):
            root = base[: -len("/v1")] if base.endswith("/v1") else base
            return root + path[1:]
        return base + path

    def _check(self, response: httpx.Response, url: str) -> dict[str, Any]:
        """The JSON body of a good answer; raises for everything else."""
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                snippet = response.text[:80].replace("\n", " ")
                raise RequestRefused(
                    f"the server at {url} answered with something that is not JSON: {snippet!r}"
                ) from None
            if not isinstance(body, dict):
                raise RequestRefused(f"the server at {url} answered with JSON that is no object")
            return body
        detail = _error_detail(response)
        if status in RETRYABLE_STATUS:
            raise RetryableResponse(status, detail, retry_after_seconds(response))
        if status == 401:
            state = "is set" if self._key else "is not set"
            raise ServiceError(
                f"the server at {url} refused the request (401 Unauthorized): check the "
                f"API key in the environment variable {self.api_key_env} (it {state})"
            )
        if status == 403:
            raise ServiceError(
                f"the server at {url} refused the request (403 Forbidden): the key in "
                f"{self.api_key_env} may not have access to this model ({detail})"
            )
        raise RequestRefused(f"HTTP {status} from {url}: {detail}")

    def _fail(self, message: str) -> ServiceError:
        return ServiceError(redact(message, self._key))

    # -- probing, once per run ---------------------------------------------------------

    def models(self) -> list[str]:
        """The model ids every replica offers (they must offer the same)."""
        return [str(card.get("id")) for card in self.model_cards()]

    def model_cards(self) -> list[dict[str, Any]]:
        """The entries of `/models` as the first replica lists them (`id`, and what else
        the server says: `owned_by`, vLLM's `root`); every replica must list the same ids."""
        offered: list[dict[str, Any]] | None = None
        for index, base in enumerate(self.urls):
            body = self._sync("GET", "/models", None, spread=index)
            data = body.get("data")
            if not isinstance(data, list):
                raise self._fail(f"{base}/models did not list models (no 'data' list)")
            cards = [item for item in data if isinstance(item, dict)]
            ids = [str(card.get("id")) for card in cards]
            if offered is not None:
                known = [str(card.get("id")) for card in offered]
                if sorted(ids) != sorted(known):
                    raise self._fail(
                        f"the replicas serve different models: {self.urls[0]} has "
                        f"{', '.join(known)}; {base} has {', '.join(ids)}"
                    )
            else:
                offered = cards
        return offered or []

    def can_tokenize(self, model: str) -> bool:
        """Whether the server counts tokens (vLLM's `/tokenize`), to cap each unit."""
        try:
            answer = self._sync("POST", "//tokenize", {"model": model, "prompt": "a"}, 0)
        except ServiceError:
            return False
        # a route of another shape (llama.cpp's wants "content") counts nothing: not usable
        count = _token_count(answer)
        return count is not None and count > 0

    def _sync(self, method: str, path: str, body: dict | None, spread: int) -> dict[str, Any]:
        """One request from synchronous code (the checks before a run), with retries."""
        try:
            with httpx.Client(timeout=self.timeout) as http:
                for attempt in Retrying(**self._policy()):
                    with attempt:
                        url = self._url(path, attempt.retry_state.attempt_number, spread)
                        response = http.request(method, url, json=body, headers=self.headers)
                        return self._check(response, url)
        except (httpx.TransportError, RetryableResponse) as error:
            raise self._fail(
                f"cannot reach the server at {self.urls[spread % len(self.urls)]} "
                f"after {_attempts(self.max_retries)}: {describe(error)}"
            ) from None
        except RequestRefused as error:
            raise self._fail(str(error)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- requests ----------------------------------------------------------------------

    async def post(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any], spread: int, limiter: Any
    ) -> dict[str, Any]:
        """A translation request, with retries; counts requests, retries and the tokens the
        server reports. Raises RequestRefused for a final answer, the last error once
        retries run out."""
        answer = await self._post(http, path, body, spread, limiter, counted=True)
        usage = answer.get("usage") or {}
        self.stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)
        return answer

    async def count_tokens(
        self, http: httpx.AsyncClient, model: str, request: dict[str, Any], spread: int
    ) -> int:
        """Tokens of a prompt or of chat messages, counted by the server's tokenizer.
        Not a translation request: left out of `stats.requests`."""
        body = {"model": model, **request}
        answer = await self._post(http, "//tokenize", body, spread, None, counted=False)
        count = _token_count(answer)
        if count is None:
            raise RequestRefused("the server's /tokenize answered without a token count")
        return count

    async def _post(
        self,
        http: httpx.AsyncClient,
        path: str,
        body: dict[str, Any],
        spread: int,
        limiter: Any,
        counted: bool,
    ) -> dict[str, Any]:
        """POST with the retry policy, each attempt on the next replica."""
        async for attempt in AsyncRetrying(**self._policy()):
            with attempt:
                url = self._url(path, attempt.retry_state.attempt_number, spread)
                if limiter is not None:
                    await limiter.acquire()
                if counted:
                    self.stats.requests += 1
                response = await http.post(url, json=body, headers=self.headers)
                return self._check(response, url)
        raise AssertionError("unreachable")  # pragma: no cover

    async def run_bounded(self, job: Job, count: int) -> None:
        """`job(http, index, limiter)` for every index, at most `concurrency` at a time.
        The first job to fail cancels the others (whatever finished is already stored)."""
        if not count:
            return
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=None)
        limiter = None
        if self.requests_per_minute:
            from aiolimiter import AsyncLimiter

            # a bucket of one, refilled at the allowed rate: requests spaced evenly
            limiter = AsyncLimiter(1, 60.0 / self.requests_per_minute)
        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as http:

            async def bounded(index: int) -> None:
                async with gate:
                    await job(http, index, limiter)

            tasks = [asyncio.create_task(bounded(index)) for index in range(count)]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

    def failure(self, error: BaseException) -> str:
        """One line for a request that failed after its retries (key scrubbed)."""
        if isinstance(error, (httpx.TransportError, RetryableResponse)):
            text = f"failed after {_attempts(self.max_retries)}: {describe(error)}"
        else:
            text = str(error)
            if any(marker in text.lower() for marker in _CONTEXT_ERRORS):
                text = f"the prompt does not fit the model's context: {text}"
        return redact(text, self._key)


Job = Callable[[httpx.AsyncClient, int, Any], Awaitable[None]]


def _attempts(max_retries: int) -> str:
    return "1 attempt" if max_retries == 0 else f"{max_retries + 1} attempts"


def _token_count(answer: dict[str, Any]) -> int | None:
    if isinstance(answer.get("count"), int):
        return int(answer["count"])
    tokens = answer.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


def _error_detail(response: httpx.Response) -> str:
    """The server's own words about an error, short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        error = body.get("error", body.get("message", body.get("detail", body)))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:300]
    return str(body)[:200]
