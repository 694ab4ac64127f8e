"""nli-check: does the cited source support, contradict, or not back each claim?

>>> from nli_check import Checker
>>> report = Checker().check(article_text, [source_text])
"""

from nli_check.errors import InputError

__version__ = "0.1.0"
__all__ = ["Checker", "InputError", "__version__"]


def __getattr__(name):
    # Imported lazily: the CLI's --help and error paths should not wait for torch.
    if name == "Checker":
        from nli_check.pipeline.checker import Checker

        return Checker
    raise AttributeError(f"module 'nli_check' has no attribute {name!r}")
