"""When to try an HTTP request again, and how long to wait first.

The policy of the OpenAI client libraries: 408 (timeout), 409 (conflict), 429 (rate
limit) and every 5xx are worth another try, as are connection errors, resets and
timeouts; 400, 401, 403 and 404 never are (the same request would fail the same way).
Waits grow exponentially with random jitter, so many clients that failed together do not
come back together; a server's `Retry-After` header (seconds or an HTTP date) overrides
the wait, capped so a confused server cannot stall a run for hours.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
#: the longest wait a Retry-After header may ask for
MAX_RETRY_AFTER_S = 60.0


class RetryableResponse(Exception):
    """An answer worth retrying (429, 5xx, ...); carries the server's Retry-After."""

    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"HTTP {status}: {detail}" if detail else f"HTTP {status}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds (None: no usable header)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class _Wait:
    """Retry-After when the server gave one, exponential backoff with jitter otherwise."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.backoff = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            return error.retry_after
        return float(self.backoff(state))


def retry_policy(max_retries: int, initial_wait: float = 0.5, max_wait: float = 30.0) -> dict:
    """Keyword arguments for tenacity's `Retrying` / `AsyncRetrying`."""
    policy: dict[str, Any] = {
        "stop": stop_after_attempt(max_retries + 1),
        "wait": _Wait(initial_wait, max_wait),
        "retry": retry_if_exception_type((RetryableResponse, httpx.TransportError)),
        "reraise": True,
    }
    return policy


def describe(error: BaseException) -> str:
    """One line for a transport error or a retryable answer."""
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within the timeout ({type(error).__name__})"
    if isinstance(error, httpx.TransportError):
        text = str(error) or "connection failed"
        return f"{type(error).__name__}: {text}"
    return str(error)
