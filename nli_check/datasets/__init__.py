"""Readers of the labelled sets in ../shared/data: NLI pairs for training, claim sets for evaluation."""
