"""The fake server itself: a request cut off by its client leaves no trace in a test's output."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.fake_openai import FakeOpenAI


def test_a_body_cut_off_by_the_client_is_dropped_without_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeOpenAI() as fake:
        address = urlsplit(fake.base_url)
        with socket.create_connection((address.hostname, address.port)) as conn:
            conn.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                b'Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"mess'
            )
        deadline = time.monotonic() + 5
        while fake.abandoned == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fake.abandoned == 1
        assert fake.counts["/v1/chat/completions"] == 0
    assert "Traceback" not in capsys.readouterr().err
