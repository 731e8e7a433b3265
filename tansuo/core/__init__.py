"""The types and text helpers that the agent and the verifiers share: numbered sources and their
citations, the fences around outside text, verdicts. Below both; imports nothing of the project above it."""
