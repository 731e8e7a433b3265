"""The planner: direct answers, native tool calls, plugins by description, agent decomposition.

Built in the agent issue; the LLM seam it uses is `tansuo.llm`.
"""
