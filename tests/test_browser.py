"""End to end, as an editor: a real headless Chromium (Debian's ``chromium``, driven by
Playwright) against ``nli-check serve`` with the shipped model on a free localhost port.

`make test` installs chromium when it is missing. Without it these tests fail with a
message saying how to install it; set NLI_CHECK_SKIP_BROWSER=1 to skip them on purpose.
The screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import REPO, SEEDS
from test_html_report import XSS

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("NLI_CHECK_CHROMIUM", "/usr/bin/chromium")
# This machine's closed network refuses Chromium's background connections; keep it quiet.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("NLI_CHECK_SKIP_BROWSER") == "1":
        pytest.skip("NLI_CHECK_SKIP_BROWSER=1")
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium, or `make test` "
                    f"as root), or set NLI_CHECK_SKIP_BROWSER=1 to skip the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``nli-check serve`` in a subprocess, as an editor's machine would run it."""
    folder = tmp_path_factory.mktemp("serve")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = folder / "feedback.sqlite"
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "nli_check", "serve", "--port", str(port),
                                "--feedback-db", str(database)], stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (folder / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nli-check serve did not start in 180 s"
            time.sleep(0.25)
        yield url, database
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.dialogs = []  # any alert() would be an injected script running
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()


def test_editor_sees_line_5_unsupported_with_its_evidence_and_corrects_it(server, page, tmp_path):
    from playwright.sync_api import expect

    url, database = server
    page.goto(url)
    page.set_input_files("#article_file", str(SEEDS / "article.txt"))
    page.set_input_files("input[name=source_file]", str(SEEDS / "source.txt"))
    page.click("#submit")
    line5 = page.locator("#claim-5")
    expect(line5).to_have_attribute("data-label", "unsupported", timeout=120_000)
    expect(line5).to_have_class(re.compile(r"\bunsupported\b"))
    underlined = line5.locator("u.beyond").all_inner_texts()
    assert any("tacitly endorsed" in text for text in underlined), underlined

    evidence = page.locator("#evidence-5")
    expect(evidence).to_be_hidden()
    page.locator("#claim-3").hover()  # hovering previews a sentence's evidence ...
    expect(page.locator("#evidence-3")).to_be_visible()
    page.mouse.move(0, 0)
    expect(page.locator("#evidence-3")).to_be_hidden()
    line5.click()  # ... clicking keeps it
    expect(evidence).to_be_visible()
    expect(evidence.locator(".source-sentence.best figcaption")).to_contain_text("source.txt")
    expect(evidence.locator(".source-sentence.best")).to_contain_text("similarity")
    expect(evidence.locator(".source-sentence.best .probs")).to_contain_text("entailment")
    assert evidence.locator("mark").count() >= 1  # the matching part of the source sentence
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "browser-line5-evidence.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # The editor disagrees and gives the right label; the export has it as a labelled pair.
    evidence.locator("select[name=label]").select_option("contradicted")
    evidence.locator("button[type=submit]").click()
    expect(evidence.locator(".status")).to_have_text("saved, thank you")
    out = tmp_path / "feedback.jsonl"
    result = subprocess.run([sys.executable, "-m", "nli_check", "feedback", "export", "--db", str(database),
                             "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(p["label"], p["predicted"]) for p in pairs] == [("contradicted", "unsupported")]
    assert "tacitly endorsed" in pairs[0]["claim"]
    assert pairs[0]["source"] == (SEEDS / "source.txt").read_text(encoding="utf-8")
    assert page.dialogs == []


def test_untrusted_text_stays_text_in_the_browser(server, page, tmp_path):
    from playwright.sync_api import expect

    from nli_check.render.html import render_html
    from nli_check.pipeline.results import Claim, Probabilities, Report, Span

    url, _ = server
    payload = " ".join(XSS)
    page.goto(url)
    page.fill("#article", f"The ministry said {payload} Russia deploys weapons.")
    page.fill("textarea[name=source]", f"The ministry said {payload} Russia is deploying new weapons.")
    page.click("#submit")
    claim = page.locator("#claim-1")
    expect(claim).to_be_visible(timeout=120_000)
    assert payload in claim.inner_text()
    assert page.locator("img").count() == 0 and page.locator("script").count() == 1
    assert page.dialogs == []

    # The saved HTML report, opened from disk, behaves the same.
    text = f"Nations endorsed {payload} the plan."
    report = Report(claims=[Claim(0, text, 0, len(text), "unsupported", Probabilities(0.1, 0.8, 0.1), [],
                                  [Span("endorsed", 8, 16)], reason="no matching source statement")],
                    sources=[f"source {payload}"], model="m")
    saved = tmp_path / "report.html"
    saved.write_text(render_html(report, article=text), encoding="utf-8")
    page.goto(saved.as_uri())
    page.locator("#claim-1").click()
    expect(page.locator("#evidence-1")).to_be_visible()
    assert payload in page.locator("#claim-1").inner_text()
    assert page.locator("img").count() == 0 and page.dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-untrusted-text.png"))
