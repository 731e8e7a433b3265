"""Tansuo (探索): a self-hosted agentic search assistant.

The project's folders (agent/, server/, ...) install as subpackages of `tansuo` (pyproject's
package-dir mapping). Run from a source checkout (a git worktree of another commit, say), the
checkout's own folders are found under `tansuo` first, so one checkout never mixes in another's."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "agent" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # tansuo.agent is <checkout>/agent (an installed wheel has no pyproject)

try:
    __version__ = version("tansuo")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
