"""Fine-tuning the NLI cross-encoder, and the synthetic pairs mixed into its training data."""
