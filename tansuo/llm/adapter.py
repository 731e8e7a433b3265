"""Which LoRA adapter the embedded llama-server loads (`--lora`): the tool-calling fine-tune
(`tansuo train tools`). By default the newest one trained here (`$TANSUO_DATA_DIR/adapters/`), else
the one shipped with Tansuo, each only when it was trained on this very model file: an adapter made
for another model would change its outputs into noise, so then the base model runs alone, with a
notice that says why."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tansuo.errors import ConfigError
from tansuo.settings import Settings

ADAPTER_FILE = "tools-lora.gguf"
SHIPPED = Path(__file__).parent / "adapters" / ADAPTER_FILE
META = "tansuo.adapter."  # our keys in the adapter's GGUF metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdapterChoice:
    path: Path | None  # what llama-server loads; None: the base model alone
    notice: str | None = None  # why an adapter that is there is not used
    meta: dict[str, str] = field(default_factory=dict)


def demos_path(adapter: Path) -> Path:
    """The requests an adapter was trained on, beside it (agent.demos picks demonstrations from them)."""
    return adapter.with_name(adapter.name.removesuffix(".gguf") + ".demos.jsonl")


def trained_path(settings: Settings) -> Path:
    return settings.data_dir / "adapters" / ADAPTER_FILE


def choose_adapter(settings: Settings, model_path: Path) -> AdapterChoice:
    if settings.tool_adapter == "off":
        return AdapterChoice(None)
    if settings.tool_adapter == "auto":
        found = [p for p in (trained_path(settings), SHIPPED) if p.is_file()]
        if not found:
            return AdapterChoice(None)
        path = found[0]
    else:
        path = Path(settings.tool_adapter).expanduser()
        if not path.is_file():
            raise ConfigError(f"TANSUO_TOOL_ADAPTER: no adapter file at {path} (train one with `tansuo train tools`, "
                              "or set it to auto or off)")
    try:
        meta = read_meta(path)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        return _without(path, f"cannot read it ({exc})")
    trained_on = meta.get("base_model_sha256")
    if trained_on != model_fingerprint(model_path):
        return _without(path, f"it was trained for {meta.get('base_model', 'another model')} "
                              f"({trained_on or 'no fingerprint'}), not {model_path.name}")
    return AdapterChoice(path, None, meta)


def _without(path: Path, why: str) -> AdapterChoice:
    notice = (f"tool adapter {path} not loaded: {why}; the base model runs without it "
              "(retrain with `tansuo train tools`, or set TANSUO_TOOL_ADAPTER=off to silence this)")
    log.warning(notice)
    return AdapterChoice(None, notice)


@lru_cache(maxsize=8)
def _fingerprint(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def model_fingerprint(path: Path) -> str:
    """sha256 of a model file (16 hex digits), computed once per file version."""
    stat = path.stat()
    return _fingerprint(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def read_meta(path: Path) -> dict[str, str]:
    """Tansuo's metadata of an adapter file ({} for one made elsewhere)."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    if reader.fields.get("adapter.type") is None:
        raise ValueError("not a LoRA adapter GGUF")
    return {name.removeprefix(META): bytes(f.parts[f.data[0]]).decode("utf-8")
            for name, f in reader.fields.items() if name.startswith(META)}
