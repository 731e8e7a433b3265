"""The agent: one chat turn in, a stream of trace events out, ending with an answer that cites
its sources. `tansuo.server.assembly.build_agent(settings)` builds it with its checks;
`Agent.run(TurnRequest(...))` runs a turn. Modes: direct answers, search, native tool calls,
plugins by description, plans of steps.
"""
