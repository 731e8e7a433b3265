"""Everything a process needs to offer plugins: load the manifests, keep the index fresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tansuo.embedding import default_embedder
from tansuo.plugins.http_runtime import HostPolicy
from tansuo.plugins.index import Embedder, PluginIndex
from tansuo.plugins.registry import LoadReport, discover, load_plugins
from tansuo.settings import Settings

# Reserved: the built-in tools' names, and the planner's own options.
BUILTIN_TOOL_NAMES = ("math", "units", "calendar", "table", "plot", "answer", "search", "plan")


@dataclass
class Catalog:
    report: LoadReport
    index: PluginIndex


def host_policy(settings: Settings) -> HostPolicy:
    return HostPolicy(frozenset(h.lower() for h in settings.plugin_allow_private_hosts))


async def load_report(settings: Settings, paths: list[Path] | None = None, *, check_entries: bool = False,
                      builtin: bool = True) -> LoadReport:
    files = discover(paths if paths is not None else settings.plugin_dirs, builtin=builtin,
                     entry_points=paths is None)
    return await load_plugins(files, policy=host_policy(settings), reserved=BUILTIN_TOOL_NAMES,
                              check_entries=check_entries, system_entries=settings.plugin_system_entries)


async def load_catalog(settings: Settings, *, embedder: Embedder | None = None,
                       progress: Callable[[int, int], None] | None = None) -> Catalog:
    """Load all plugins and bring the persisted index up to date (embedding only what changed)."""
    report = await load_report(settings)
    embedder = embedder or default_embedder(settings, progress=progress)
    index = PluginIndex(embedder, threshold=settings.plugin_threshold)
    folder = settings.data_dir / "plugin-index"
    index.load(folder)
    if index.build(p.spec for p in report.plugins.values()):
        index.save(folder)
    return Catalog(report, index)
