"""The shipped models. This folder is installed as the package ``nli_check.models`` so
the default model is found the same way in a checkout and after ``pip install .``."""
