"""The judging page's server: what it shows (no system names), what it saves, what it
refuses, and resuming after a reload or a restart; the `evalkit judge` command."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from evalkit.judge.app import STATIC, create_app
from evalkit.judge.items import decoy
from evalkit.judge.session import JudgeSession, text_direction
from evalkit.judgments.store import JudgmentStore
from tests.judge_run import SYSTEMS, rows, start_judge, write_judge_run

BASE = "http://127.0.0.1:8765"


def open_session(results_dir: Path, protocol: str = "esa", annotator: str = "amal", **kw):
    options = {"segments": 5, "seed": 1, "attention_checks": 2, **kw}
    session, _ = JudgeSession.open(results_dir, "latest", annotator, protocol, **options)
    return session


@pytest.fixture
def run_dir(results_dir: Path) -> Path:
    write_judge_run(results_dir)
    return results_dir


def client(session: JudgeSession) -> TestClient:
    return TestClient(create_app(session), base_url=BASE)


def test_items_show_source_context_and_translation_but_never_the_system(run_dir: Path):
    session = open_session(run_dir)
    api = client(session)
    state = api.get("/api/state").json()
    assert state["items"] == len(session.queue) == 5 * len(SYSTEMS) + 2
    assert (state["position"], state["complete"]) == (0, 0)
    by_id = {row.id: row for row in rows()}
    for index, queued in enumerate(session.queue):
        answer = api.get(f"/api/items/{index}")
        assert answer.status_code == 200
        for label in (*SYSTEMS, "attention", "check", "sysLabel"):
            assert label not in answer.text
        item = answer.json()
        row = by_id[queued.segment_id]
        assert item["source"] == {"text": row.src, "lang": "ar", "dir": "rtl"}
        assert item["translation"]["dir"] == "auto"
        shown = item["translation"]["text"]
        if queued.attention_check:
            assert shown == decoy(rows(), queued.segment_id, queued.system)
            assert shown != row.hyp[queued.system]
        else:
            assert shown == row.hyp[queued.system]
        doc = [r for r in rows() if r.doc_id == row.doc_id]
        at = doc.index(row)
        assert item["context"]["before"] == (doc[at - 1].src if at else None)
        assert item["context"]["after"] == (doc[at + 1].src if at + 1 < len(doc) else None)


def test_the_page_and_its_files_load_nothing_from_elsewhere(run_dir: Path):
    api = client(open_session(run_dir))
    page = api.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for name in ("judge.html", "judge.js", "judge.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text), name
        if name != "judge.html":
            assert api.get(f"/static/{name}").status_code == 200


def test_a_foreign_host_name_is_refused(run_dir: Path):
    api = client(open_session(run_dir))
    assert api.get("/api/state", headers={"host": "evil.example"}).status_code == 400


def test_saves_are_stored_and_resumed_after_a_restart(run_dir: Path):
    session = open_session(run_dir)
    api = client(session)
    spans = [{"start": 0, "end": 3, "severity": "major", "category": None}]
    saved = api.put("/api/items/0", json={"score": 35, "spans": spans})
    assert saved.status_code == 200 and saved.json()["complete"] == 0
    assert api.get("/api/state").json()["position"] == 0  # saved, not submitted
    assert (
        api.put("/api/items/0", json={"score": 35, "spans": spans, "complete": True}).json()[
            "complete"
        ]
        == 1
    )
    api.put("/api/items/1", json={"score": 80})

    restarted = open_session(run_dir, segments=8, seed=99, attention_checks=0)  # ignored
    assert restarted.queue == session.queue
    again = client(restarted)
    state = again.get("/api/state").json()
    assert (state["position"], state["complete"]) == (1, 1)
    first = again.get("/api/items/0").json()["judgment"]
    assert first == {"score": 35.0, "spans": spans, "complete": True}
    assert again.get("/api/items/1").json()["judgment"]["score"] == 80

    stored = JudgmentStore.in_results(run_dir).judgments(annotator="amal")
    item = session.queue[0]
    judgment = next(j for j in stored if (j.segment_id, j.system) == (item.segment_id, item.system))
    assert judgment.complete and judgment.score == 35 and judgment.origin == "browser"
    assert [(s.start, s.end, s.severity) for s in judgment.spans] == [(0, 3, "major")]
    assert judgment.attention_check == item.attention_check


def test_an_attention_check_is_stored_as_one_with_the_bad_text(run_dir: Path):
    session = open_session(run_dir, attention_checks=3)
    api = client(session)
    index = next(i for i, item in enumerate(session.queue) if item.attention_check)
    shown = api.get(f"/api/items/{index}").json()["translation"]["text"]
    api.put(f"/api/items/{index}", json={"score": 10, "complete": True})
    (check,) = [j for j in JudgmentStore.in_results(run_dir).judgments() if j.attention_check]
    assert check.target == shown and check.score == 10
    summary = api.get("/api/attention").json()
    assert (summary["passed"], summary["judged"], summary["pending"]) == (1, 1, 2)


def test_mqm_scores_come_from_the_spans(run_dir: Path):
    api = client(open_session(run_dir, protocol="mqm"))
    spans = [
        {"start": 0, "end": 3, "severity": "major", "category": "accuracy/mistranslation"},
        {"start": 4, "end": 6, "severity": "minor", "category": "fluency/punctuation"},
        {"start": 7, "end": 9, "severity": "minor", "category": "style"},
    ]
    reply = api.put("/api/items/0", json={"spans": spans, "complete": True})
    assert reply.status_code == 200 and reply.json()["mqm_score"] == pytest.approx(-6.1)
    assert api.get("/api/items/0").json()["mqm_score"] == pytest.approx(-6.1)


ESA_SPAN = {"start": 0, "end": 3, "severity": "minor"}


@pytest.mark.parametrize(
    ("protocol", "body", "message"),
    [
        ("esa", {"score": 101}, "less than or equal to 100"),
        ("esa", {"score": -1}, "greater than or equal to 0"),
        ("esa", {"score": "high"}, "score"),
        ("esa", {"spans": [{**ESA_SPAN, "end": 500}]}, "not inside the translation"),
        ("esa", {"spans": [{**ESA_SPAN, "end": 0}]}, "not inside the translation"),
        ("esa", {"spans": [ESA_SPAN, {**ESA_SPAN, "start": 2, "end": 5}]}, "overlaps"),
        ("esa", {"spans": [{**ESA_SPAN, "severity": "critical"}]}, "severity"),
        ("esa", {"spans": [{**ESA_SPAN, "category": "style"}]}, "no category"),
        ("esa", {"complete": True}, "give a score"),
        ("esa", {"score": 50, "system": "x"}, "system"),
        ("mqm", {"spans": [{**ESA_SPAN, "category": "beauty"}]}, "unknown MQM category"),
        ("mqm", {"spans": [{**ESA_SPAN, "category": "style/grammar"}]}, "unknown MQM category"),
        ("mqm", {"spans": [ESA_SPAN]}, "unknown MQM category"),
        ("mqm", {"score": 40}, "MQM takes no score"),
        ("da", {"score": 40, "spans": [ESA_SPAN]}, "DA takes no error spans"),
        ("da", {"complete": True}, "give a score"),
    ],
)
def test_bad_saves_are_refused_with_a_message(run_dir: Path, protocol, body, message):
    api = client(open_session(run_dir, protocol=protocol))
    reply = api.put("/api/items/0", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["error"]
    assert JudgmentStore.in_results(run_dir).judgments() == []


def test_bad_requests_get_their_status(run_dir: Path):
    api = client(open_session(run_dir))
    assert api.get("/api/items/999").status_code == 404
    assert "no item 999" in api.get("/api/items/999").json()["error"]
    assert api.put("/api/items/999", json={"score": 1}).status_code == 404
    not_json = api.put("/api/items/0", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    as_form = api.put("/api/items/0", content=b"score=1", headers={"content-type": "text/plain"})
    assert as_form.status_code == 415


@pytest.mark.parametrize(
    ("lang", "direction"), [("ar", "rtl"), ("ar-EG", "rtl"), ("fa", "rtl"), ("en", "ltr")]
)
def test_direction_of_languages(lang: str, direction: str):
    assert text_direction(lang) == direction


def test_status_reports_progress_and_attention_checks(run_dir: Path, cli):
    assert cli("judge", "--status").stdout.startswith("no judgments")
    session = open_session(run_dir, attention_checks=1)
    api = client(session)
    for index, item in enumerate(session.queue[:4]):
        api.put(f"/api/items/{index}", json={"score": 5 if item.attention_check else 60})
        api.put(
            f"/api/items/{index}",
            json={"score": 5 if item.attention_check else 60, "complete": True},
        )
    checks_done = sum(item.attention_check for item in session.queue[:4])
    result = cli("judge", "--status")
    assert result.exit_code == 0
    assert result.stdout.startswith(
        f"amal (esa): 4 / 11 items submitted; passed {checks_done} of {checks_done} attention"
    )
    assert cli("judge", "--json").exit_code == 2
    data = json.loads(cli("judge", "--status", "--json").stdout)
    (row,) = data["annotators"]
    assert (row["submitted"], row["items"]) == (4, 11)
    assert row["attention"]["pending"] == 1 - checks_done


def test_bad_annotator_names_and_busy_ports_are_user_errors(run_dir: Path, cli):
    assert cli("judge", "--annotator", " ").exit_code == 2
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("judge", "--port", port, "--annotator", "amal")
    assert result.exit_code == 2 and "cannot listen" in result.stderr


def test_the_command_serves_until_ctrl_c_then_reports(run_dir: Path):
    server, url = start_judge(run_dir, "--annotator", "amal", "--items", "5")
    try:
        state = _get(url + "api/state")
        assert state["items"] == 11 and state["annotator"] == "amal"
        reply = httpx.put(url + "api/items/0", json={"score": 70, "complete": True})
        assert reply.status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr.decode()
    assert "stopped: 1 / 11 items submitted" in stdout.decode()
    assert "passed 0 of 0 attention checks, 1 not submitted" in stdout.decode()


def _get(url: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, timeout=5).json()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_an_unknown_document_is_named_with_the_run_s_documents(run_dir: Path, cli):
    result = cli("judge", "--document", "no-such-doc", "--annotator", "amal")
    assert result.exit_code == 2
    assert "no-such-doc" in result.stderr and "its documents:" in result.stderr
