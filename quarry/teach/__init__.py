"""Teaching the owned model: questions synthesized from facts, teacher and oracle traces, retraining rounds."""
