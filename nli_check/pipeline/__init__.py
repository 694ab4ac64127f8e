"""The check itself, one module per stage: segment, pair, infer, decide, explain; the Checker runs them."""
