"""Tansuo (探索): a self-hosted agentic search assistant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tansuo")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
