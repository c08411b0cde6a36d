"""The fake server itself: a request cut off by its client leaves no trace in a test's output."""

from __future__ import annotations

import socket
import time

import pytest

from tests.fake_openai import FakeOpenAI


def test_a_body_cut_off_by_the_client_is_dropped_without_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeOpenAI() as fake:
        host, port = "127.0.0.1", int(fake.base_url.rsplit(":", 1)[1].split("/")[0])
        with socket.create_connection((host, port)) as conn:
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
