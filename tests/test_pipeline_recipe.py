"""The CI / pre-commit recipe (examples/check_articles.py): Markdown articles naming their
sources in front matter, a Markdown comment out, exit codes as ``nli-check check``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

SCRIPT = REPO / "examples" / "check_articles.py"


@pytest.fixture
def newsroom(tmp_path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "ministry.txt").write_text("The ministry said Russia is deploying new weapons.\n")
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "one.md").write_text(
        "---\ntitle: One\nsources:\n  - ../sources/ministry.txt\n---\n# Headline\n\nThe ministry said Russia "
        "deploys weapons.\nBananas are yellow.\n")
    (tmp_path / "articles" / "two.md").write_text(
        "---\nsources: ../sources/ministry.txt\n---\nRussia is deploying weapons.\n")
    return tmp_path


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_folder_of_articles_gives_a_comment_and_html_and_fails_on_labels(newsroom, tiny_nli_model,
                                                                         tiny_embedding_model):
    models = ["--model", tiny_nli_model, "--embedding-model", tiny_embedding_model]
    (newsroom / "html").mkdir()
    result = run(newsroom / "articles", "--fail-on", "supported,contradicted,unsupported",
                 "--markdown", newsroom / "comment.md", "--html-dir", newsroom / "html", *models)
    assert result.returncode == 1, result.stderr  # every label fails: some claim must have one
    comment = (newsroom / "comment.md").read_text()
    assert comment.startswith("## nli-check: 2 article(s)")
    assert comment.count("| # | verdict | claim | evidence |") == 2
    assert sorted(p.name for p in (newsroom / "html").iterdir()) == ["one.html", "two.html"]
    # messages name the line of the file, front matter counted
    assert "one.md:6: sentence 1 is" in result.stderr and "one.md:8: sentence 2 is" in result.stderr
    passing = run(newsroom / "articles" / "two.md", "--fail-on", "", *models)
    assert passing.returncode == 0 and "### " in passing.stdout


@pytest.mark.parametrize(("front", "needle"), [
    ("title: no sources\n", "no 'sources' list"),
    ("sources: [../missing.txt]\n", "no such file"),
    ("sources: [unclosed\n", "not valid YAML"),
])
def test_a_bad_article_is_one_line_and_exit_two(tmp_path, front, needle):
    article = tmp_path / "bad.md"
    article.write_text(f"---\n{front}---\nSome claim.\n")
    result = run(article, "--markdown", tmp_path / "comment.md")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and needle in result.stderr and "bad.md" in result.stderr
    assert not (tmp_path / "comment.md").exists()
