"""Shared parts of the benchmarks (not benchmarks themselves): targets and `--check`, the corpus caches."""
