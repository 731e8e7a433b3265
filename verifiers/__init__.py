"""Checks on a turn: harmlessness of the request, the sources and the answer; factuality of each
claim against the source it cites; recency of the evidence for time-sensitive questions. Built
from settings by `verifiers.build.build_verifiers`; run by the agent (`agent.checking`)."""
