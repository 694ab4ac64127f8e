"""The web app with URL sources: a fetch on behalf of a remote user refuses loopback and
private addresses unless the operator allows them; allowed, a served page is checked."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import REPO, SEEDS
from fastapi.testclient import TestClient
from local_server import Route, cluttered_page, serving

from nli_check.config import ServeSettings
from nli_check.serve.app import create_app

ARTICLE = "The ministry said Russia is deploying new weapons.\nBananas are yellow.\n"
SCHEMA = json.loads((REPO / "nli_check" / "schema" / "report.schema.json").read_text())


@pytest.fixture(scope="module")
def server():
    lines = (SEEDS / "source.txt").read_text().splitlines()
    with serving({"/statement.html": Route(cluttered_page("Statement", lines))}) as running:
        yield running


def client(tiny_checker, tmp_path, **overrides):
    settings = ServeSettings(feedback_db=str(tmp_path / "feedback.sqlite"), **overrides)
    return TestClient(create_app(settings=settings, checker=tiny_checker))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_api_refuses_a_loopback_url(tiny_checker, tmp_path, server, host):
    url = f"{server.base.replace('127.0.0.1', host)}/statement.html"
    before = server.hits.get("/statement.html", 0)
    with client(tiny_checker, tmp_path) as app:
        response = app.post("/api/check", json={"article": ARTICLE, "source_urls": [url]})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith(url) and "loopback, private, link-local" in detail and "--allow-private-urls" in detail
    assert server.hits.get("/statement.html", 0) == before  # refused before connecting


def test_the_api_refuses_metadata_and_private_addresses_and_other_schemes(tiny_checker, tmp_path):
    with client(tiny_checker, tmp_path) as app:
        for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:8080/"):
            response = app.post("/api/check", json={"article": ARTICLE, "source_urls": [url]})
            assert response.status_code == 400 and "refused" in response.json()["detail"], url
        other = app.post("/api/check", json={"article": ARTICLE, "source_urls": ["file:///etc/passwd"]})
        assert other.status_code == 400 and "only http and https" in other.json()["detail"]
        assert app.post("/api/check", json={"article": ARTICLE}).status_code == 422


def test_the_form_refuses_a_loopback_link_of_the_article(tiny_checker, tmp_path, server):
    article = f"The ministry said Russia is deploying [new weapons]({server.base}/statement.html).\n"
    with client(tiny_checker, tmp_path) as app:
        response = app.post("/check", data={"article": article, "source": [""], "sources_from_links": "1"})
    assert response.status_code == 400 and "refused: 127.0.0.1" in response.text
    assert 'name="sources_from_links" value="1" checked' in response.text  # the form keeps the choice


def test_an_operator_may_allow_private_urls(tiny_checker, tmp_path, server):
    url = f"{server.base}/statement.html"
    with client(tiny_checker, tmp_path, allow_private_urls=True) as app:
        response = app.post("/api/check", json={"article": ARTICLE, "source_urls": [url]})
        assert response.status_code == 200, response.text
        report = response.json()
        jsonschema.validate(report, SCHEMA)
        assert report["sources"] == [url]
        linked = app.post("/api/check", json={"article": f"Russia deploys weapons [say]({url}).\n\nOther.\n",
                                              "article_format": "markdown", "sources_from_links": True,
                                              "sources": ["Bananas are yellow."]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["sources"] == [url, "source 1"]
        assert [c["cited_sources"] for c in linked.json()["claims"]] == [[url], []]
        form = app.post("/check", data={"article": ARTICLE, "source": [""], "source_url": [url]})
        assert form.status_code == 200 and url in form.text


def test_no_file_named_by_a_request_is_read(tiny_checker, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("The ministry said Russia is deploying new weapons.\n")
    with client(tiny_checker, tmp_path, allow_private_urls=True) as app:
        for body in ({"source_urls": [str(secret)]}, {"source_urls": [str(secret)], "sources_from_links": True},
                     {"sources": ["x."], "sources_from_links": True}):
            article = ARTICLE if "sources" not in body else f"Claim [a]({secret}).\n"
            response = app.post("/api/check", json={"article": article, **body})
            if "sources" in body:  # the link is no URL: not followed, said in the warnings
                assert response.status_code == 200 and response.json()["sources"] == ["source 1"]
                assert any("not used" in w for w in response.json()["warnings"])
            else:
                assert response.status_code == 400 and "only http and https" in response.json()["detail"]
