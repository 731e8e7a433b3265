"""The agent: one chat turn in, a stream of trace events out, ending with an answer that cites
its sources. `agent.service.build_agent(settings)` builds it; `Agent.run(TurnRequest(...))` runs
a turn. Modes: direct answers, search, native tool calls, plugins by description, plans of steps.
"""
