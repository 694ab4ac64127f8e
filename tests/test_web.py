"""The web app, served for real by uvicorn on a free localhost port (in a thread of this
process, with the tiny models): API schema, limits (413, 503, 504), escaping of untrusted
text, feedback and its export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import httpx
import jsonschema
import pytest
import uvicorn

from conftest import REPO
from nli_check.config import ServeSettings
from nli_check.serve.app import create_app

from test_html_report import XSS, Elements

ARTICLE = "The ministry said Russia is deploying new weapons.\nBananas are yellow.\n"
SOURCE = "The ministry said Russia is deploying newly developed weapons.\n"
SCHEMA = json.loads((REPO / "nli_check" / "schema" / "report.schema.json").read_text())


@contextmanager
def serving(app):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return ServeSettings(max_body_bytes=20_000, feedback_db=str(tmp_path_factory.mktemp("web") / "feedback.sqlite"))


@pytest.fixture(scope="module")
def url(tiny_checker, settings):
    with serving(create_app(settings=settings, checker=tiny_checker)) as base:
        yield base


def test_health_and_form_page(url):
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    page = httpx.get(f"{url}/")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    form = Elements(page.text)
    assert form.find("form", action="/check") and form.find("textarea", name="article")
    assert form.find("input", name="source_file")


def test_api_check_returns_the_cli_schema(url, tiny_checker):
    response = httpx.post(f"{url}/api/check", json={"article": ARTICLE, "sources": [SOURCE],
                                                    "source_names": ["ministry.txt"]}, timeout=60)
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, SCHEMA)
    direct = tiny_checker.check(ARTICLE, [SOURCE], source_names=["ministry.txt"]).to_dict()
    assert [c["label"] for c in report["claims"]] == [c["label"] for c in direct["claims"]]
    assert report["sources"] == ["ministry.txt"] and len(response.headers["x-report-id"]) == 32


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"article": ARTICLE, "sources": []}, 422, "sources"),
    ({"article": ARTICLE, "sources": [" \n"]}, 400, "no sentence found"),
    ({"article": ARTICLE, "sources": [SOURCE], "source_names": ["a", "b"]}, 400, "2 source_names"),
    ({"article": ARTICLE, "sources": [SOURCE], "path": "/etc/passwd"}, 422, "path"),
])
def test_api_check_refuses_bad_input_with_a_message(url, body, status, needle):
    response = httpx.post(f"{url}/api/check", json=body, timeout=60)
    assert response.status_code == status
    assert needle in json.dumps(response.json()["detail"])


def test_oversized_bodies_are_refused_with_413(url):
    big = {"article": ARTICLE, "sources": ["x" * 30_000]}
    declared = httpx.post(f"{url}/api/check", json=big, timeout=60)
    assert declared.status_code == 413
    assert "over the 0.02 MB limit" in declared.json()["detail"]

    def chunks():  # no Content-Length: the server must count as the body streams in
        payload = json.dumps(big).encode()
        for start in range(0, len(payload), 4096):
            yield payload[start:start + 4096]

    streamed = httpx.post(f"{url}/api/check", content=chunks(), headers={"Content-Type": "application/json"},
                          timeout=60)
    assert streamed.status_code == 413 and "limit" in streamed.json()["detail"]
    form = httpx.post(f"{url}/check", data={"article": ARTICLE, "source": "y" * 30_000}, timeout=60)
    assert form.status_code == 413 and "text/html" in form.headers["content-type"]
    assert "over the 0.02 MB limit" in form.text


def test_form_check_renders_untrusted_text_as_text(url):
    payload = " ".join(XSS)
    response = httpx.post(f"{url}/check", data={"article": f"Nations endorsed it {payload}.\nBananas are yellow.",
                                                "source": [f"The ministry said {payload} weapons."]}, timeout=60)
    assert response.status_code == 200, response.text
    page = Elements(response.text)
    assert len(page.scripts) == 1 and not page.find("img")
    for item in XSS[:2]:
        assert item not in response.text
    assert payload in page.text_by_id["claim-1"] and "49" not in page.text_by_id["claim-1"]
    assert payload in page.text_by_id["article"]  # the form shows the text again, escaped


def test_uploaded_file_name_is_only_a_label(url):
    files = [("source_file", ("../../etc/passwd", SOURCE.encode(), "text/plain"))]
    response = httpx.post(f"{url}/check", data={"article": ARTICLE, "source": [""]}, files=files, timeout=60)
    assert response.status_code == 200, response.text
    assert '<span class="source-name">passwd</span>' in response.text
    assert "root:" not in response.text


def test_form_without_source_is_a_400_page(url):
    response = httpx.post(f"{url}/check", data={"article": ARTICLE, "source": ["  "]}, timeout=60)
    assert response.status_code == 400 and "no source given" in response.text
    assert "Bananas are yellow." in response.text  # the editor's text is kept


def test_feedback_is_stored_and_exported_as_labelled_pairs(url, settings, tmp_path):
    one = httpx.post(f"{url}/api/check", json={"article": ARTICLE, "sources": [SOURCE]}, timeout=60)
    two = httpx.post(f"{url}/api/check", json={"article": ARTICLE, "sources": [SOURCE, "Bananas are blue."]},
                     timeout=60)
    for response, index, label in [(one, 0, "supported"), (two, 1, "contradicted"), (two, 1, "unsupported")]:
        sent = httpx.post(f"{url}/api/feedback", json={"report_id": response.headers["x-report-id"],
                                                        "claim_index": index, "label": label, "comment": "checked"})
        assert sent.status_code == 201, sent.text
    gone = httpx.post(f"{url}/api/feedback", json={"report_id": "0" * 32, "claim_index": 0, "label": "supported"})
    assert gone.status_code == 410 and "run the check again" in gone.json()["detail"]
    wrong = httpx.post(f"{url}/api/feedback", json={"report_id": one.headers["x-report-id"], "claim_index": 9,
                                                    "label": "supported"})
    assert wrong.status_code == 422

    out = tmp_path / "feedback.jsonl"
    result = subprocess.run([sys.executable, "-m", "nli_check", "feedback", "export", "--db", settings.feedback_db,
                             "--output", str(out)], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    assert result.returncode == 0, result.stderr
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) == 2  # the second label for the same claim replaced the first
    assert pairs[0]["claim"] == "The ministry said Russia is deploying new weapons."
    assert pairs[0]["source"] == SOURCE and pairs[0]["label"] == "supported"
    assert pairs[1]["source"] == [SOURCE, "Bananas are blue."] and pairs[1]["label"] == "unsupported"
    assert all(p["predicted"] in {"supported", "contradicted", "unsupported"} and p["id"] for p in pairs)


class GatedChecker:
    """The tiny checker, held at a gate: lets a test decide when a check may finish."""

    def __init__(self, checker) -> None:
        self.checker, self.model_name = checker, checker.model_name
        self.gate, self.entered = threading.Event(), threading.Event()

    def check(self, *args, **kwargs):
        self.entered.set()
        self.gate.wait(30)
        return self.checker.check(*args, **kwargs)


def test_a_burst_beyond_the_queue_gets_503_and_a_slow_check_504(tiny_checker, settings):
    gated = GatedChecker(tiny_checker)
    with serving(create_app(settings=replace(settings, queue=1, timeout_s=2.0), checker=gated)) as base:
        results: list[httpx.Response] = []

        def send():
            results.append(httpx.post(f"{base}/api/check", json={"article": ARTICLE, "sources": [SOURCE]},
                                      timeout=60))

        first = threading.Thread(target=send)
        first.start()
        assert gated.entered.wait(10)  # one check runs ...
        second = threading.Thread(target=send)
        second.start()  # ... one waits in the queue ...
        deadline = time.monotonic() + 10
        while httpx.get(f"{base}/healthz").json()["in_progress"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        refused = httpx.post(f"{base}/api/check", json={"article": ARTICLE, "sources": [SOURCE]}, timeout=60)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "busy" in refused.json()["detail"]
        first.join(30)
        second.join(30)
        assert sorted(r.status_code for r in results) == [504, 504]
        assert "2 s limit" in results[0].json()["detail"]
        # A timed-out check still holds its place until it really ends: memory stays bounded.
        assert httpx.get(f"{base}/healthz").json()["in_progress"] >= 1
        gated.gate.set()
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/healthz").json()["in_progress"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.post(f"{base}/api/check", json={"article": ARTICLE, "sources": [SOURCE]},
                          timeout=60).status_code == 200


def test_serve_defaults_to_localhost():
    assert ServeSettings().host == "127.0.0.1"
    result = subprocess.run([sys.executable, "-m", "nli_check", "serve", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert "[default: 127.0.0.1]" in result.stdout


def test_serve_refuses_a_bad_feedback_path_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nli_check", "serve", "--feedback-db", str(tmp_path / "no" / "x")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr


def test_feedback_export_without_a_database_is_exit_two(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nli_check", "feedback", "export", "--db", str(tmp_path / "x.db"),
                             "--output", str(tmp_path / "out.jsonl")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no such feedback database" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()
