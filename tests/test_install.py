"""The shipped model must load after a non-editable ``pip install .``, not only from a checkout."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.integration


def test_shipped_model_loads_from_a_non_editable_install(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--target", str(target), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    code = ("import nli_check, sys; from nli_check.config import default_nli_model_path; "
            "from nli_check.pipeline.infer import NLIModel; path = default_nli_model_path(); "
            "assert str(path).startswith(sys.argv[1]), (path, sys.argv[1]); "
            "p = NLIModel(path).predict([('A man sleeps.', 'A man is asleep.')]); "
            "assert p.shape == (1, 3) and abs(p.sum() - 1) < 1e-4; print(p.argmax())")
    # Run from an empty folder so that the checkout cannot shadow the installed package.
    result = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(target), HF_HUB_OFFLINE="1"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "0"  # entailment
    # The HTML report's templates are package data too: they must render from the install.
    code = ("import sys, nli_check.render.html as h; from nli_check.pipeline.results import Report; "
            "assert h.__file__.startswith(sys.argv[1]), h.__file__; "
            "print(h.render_html(Report(claims=[], sources=['s'], model='m')).count('<script>'))")
    result = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(target)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1"
