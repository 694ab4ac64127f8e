"""Scoring checkers on labelled sets, fitting thresholds, the leaderboard and the model card."""
