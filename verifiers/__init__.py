"""Factuality, recency and harmlessness checks on answers (the verifiers issue)."""
