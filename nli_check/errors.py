"""The one exception type for bad input. Its message is a single readable line that
names the problem and where it is (file, line); the CLI prints it and exits 2."""


class InputError(ValueError):
    """Input that nli-check cannot use: missing, empty, binary, malformed."""


class Cancelled(RuntimeError):
    """A check stopped between two of its steps because whoever asked for it gave up
    (the web app's time limit passed): its work is not left running."""
