"""`tansuo doctor`: check each part the configuration needs, one line each."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from tansuo.embedding import embedding_model_path
from tansuo.errors import ConfigError, TansuoError
from tansuo.llm.adapter import choose_adapter, demos_path
from tansuo.llm.factory import resolve_model_path, server_config
from tansuo.llm.llama_server import LlamaServer
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.settings import Settings

_GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def run_checks(settings: Settings) -> list[Check]:
    checks: list[tuple[str, Callable[[Settings], str]]] = [
        ("model", _check_model if settings.backend == "embedded" else _check_model_server),
        ("tool adapter", _check_tool_adapter),
        ("embedding model", _check_embedding_model),
        ("store", _check_store),
        ("plugins", _check_plugins),
        ("index", _check_index),
        ("verifiers", _check_verifiers),
        ("service", _check_service),
        ("data dir", _check_data_dir),
    ]
    return [_run(name, fn, settings) for name, fn in checks]


def _run(name: str, fn: Callable[[Settings], str], settings: Settings) -> Check:
    try:
        return Check(name, True, fn(settings))
    except TansuoError as exc:
        return Check(name, False, str(exc))
    except Exception as exc:  # a check must report, never crash the doctor
        return Check(name, False, f"{type(exc).__name__}: {exc}")


def _check_tool_adapter(settings: Settings) -> str:
    """Which LoRA adapter llama-server loads, and whether the tools changed since it was trained."""
    if settings.backend != "embedded":
        return "not used (the openai backend serves its own model)"
    try:
        model = resolve_model_path(settings)
    except TansuoError:  # the model check names that failure once
        return "not checked: no model to fit an adapter to"
    choice = choose_adapter(settings, model)
    if choice.path is None:
        return choice.notice or f"none (TANSUO_TOOL_ADAPTER={settings.tool_adapter}): the base model runs alone"
    from tansuo.plugins.builtin import toolbox_from_settings
    from tansuo.plugins.catalog import load_report
    from tansuo.plugins.tool import toolset_hash

    report = asyncio.run(load_report(settings))
    specs = list(toolbox_from_settings(settings).specs) + [p.spec for p in report.plugins.values()]
    meta = choice.meta
    demos = demos_path(choice.path)
    shown = (f"{settings.tool_demos} nearest trained requests as demonstrations" if demos.is_file()
             else "no trained requests recorded beside it")
    trained = (f"{choice.path} (trained {meta.get('trained', '?')[:10]} on {meta.get('tools', '?')}; scale "
               f"{settings.tool_adapter_route_scale:g} routing, {settings.tool_adapter_calls_scale:g} writing calls; "
               f"{shown})")
    if meta.get("toolset") != toolset_hash(specs):
        return (f"{trained}; the installed tools or plugins changed since it was trained: "
                "retrain with `tansuo train tools`")
    return f"{trained}; fits {model.name} and the installed tools"


def _check_service(settings: Settings) -> str:
    """Where `tansuo serve` listens, and whether it may: off loopback it needs API keys."""
    from tansuo.server.auth import KeyRing, keys_required

    keys = KeyRing(settings.effective_api_keys_file).records()
    if keys_required(settings.api_keys, settings.host) and not keys:
        raise ConfigError(f"serving on {settings.host} needs API keys and {settings.effective_api_keys_file} has "
                          "none: run `tansuo keys add NAME` (or set TANSUO_API_KEYS=off)")
    auth = f"{len(keys)} API key(s) required" if keys_required(settings.api_keys, settings.host) else "no API keys"
    return (f"http://{settings.host}:{settings.port}/, {auth}, queue {settings.queue_slots or settings.parallel} "
            f"running + {settings.queue_depth} waiting, answer cache {'on' if settings.answer_cache else 'off'}")


def _check_verifiers(settings: Settings) -> str:
    """What runs, what may block, and whether the model judges and revises (auto: by model size)."""
    if not settings.verifiers:
        return "off (TANSUO_VERIFIERS is empty)"
    from tansuo.verifiers.build import model_roles
    from tansuo.verifiers.exemplars import load_data

    for name in ("harm", "recency"):
        load_data(name)  # the shipped exemplars parse
    try:
        judge, revisions = model_roles(settings)
        roles = f"model as judge {'on' if judge else 'off'}, {revisions} revision(s)"
    except ConfigError:  # the model line above says what is missing; auto needs its size
        roles = "model as judge and revisions: decided by the model's size once it is found"
    guard = f"; guard model {settings.guard_model} at {settings.guard_base_url}" if settings.guard_base_url else ""
    return f"{', '.join(settings.verifiers)}; may block: {', '.join(settings.verify_block) or 'none'}; {roles}{guard}"


def _check_model(settings: Settings) -> str:
    path = resolve_model_path(settings)
    with open(path, "rb") as f:
        if f.read(4) != _GGUF_MAGIC:
            raise TansuoError(f"{path} is not a GGUF file")
    cfg, env = server_config(settings)
    server = LlamaServer(cfg, env=env, log_path=settings.data_dir / "logs" / "doctor-llama-server.log",
                         start_timeout_s=settings.server_start_timeout_s)
    started = time.perf_counter()
    try:
        server.start()
    finally:
        server.stop()
    size_mb = path.stat().st_size / 2**20
    return (f"{path.name} ({size_mb:.0f} MiB) loaded by llama-server in {time.perf_counter() - started:.1f}s "
            f"(kv cache {cfg.kv_cache_type}, flash attention {'on' if cfg.flash_attn else 'off'}, "
            f"{cfg.threads} threads, {cfg.parallel} slots)")


def _check_model_server(settings: Settings) -> str:
    async def probe() -> list[str]:
        backend = OpenAIBackend(settings.openai_base_url or "", timeout_s=settings.connect_timeout_s,
                                connect_timeout_s=settings.connect_timeout_s, max_retries=0)
        try:
            return await backend.served_models()
        finally:
            await backend.aclose()

    served = asyncio.run(probe())
    wanted = settings.openai_model
    if wanted and served and wanted not in served:
        raise TansuoError(f"{settings.openai_base_url} does not serve {wanted!r} (it serves {', '.join(served)}); "
                          "set TANSUO_OPENAI_MODEL")
    return f"{settings.openai_base_url} serves {', '.join(served) or 'an unlisted model'}"


def _check_embedding_model(settings: Settings) -> str:
    path = embedding_model_path(settings)
    missing = [n for n in ("config.json", "modules.json") if not (path / n).is_file()]
    if missing:
        raise TansuoError(f"{path} is not a sentence-transformers model (missing {', '.join(missing)}); "
                          "set TANSUO_EMBEDDING_MODEL_PATH")
    return str(path)


def _check_store(settings: Settings) -> str:
    if not settings.redis_url:
        return "in-process store (set TANSUO_REDIS_URL to share history across processes)"
    import redis
    import redis.cluster

    kind = redis.cluster.RedisCluster if settings.redis_cluster else redis.Redis
    what = "Redis Cluster" if settings.redis_cluster else "Redis"
    try:
        client = kind.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
        raise TansuoError(f"{what} at {settings.redis_url} does not answer: {exc}") from None
    return f"{what} at {settings.redis_url} answers"


def _check_plugins(settings: Settings) -> str:
    from tansuo.plugins.catalog import load_report

    report = asyncio.run(load_report(settings))
    if report.problems:
        raise TansuoError(f"{len(report.problems)} manifest problem(s), first: {report.problems[0]} "
                          "(tansuo plugins validate PATH shows them all)")
    return f"{len(report.plugins)} plugins load ({', '.join(sorted(report.plugins))})"


def _check_index(settings: Settings) -> str:
    """Reads the manifest only: opening the index would build the default corpus."""
    from tansuo.retrieval.storage import IndexCorrupt, read_manifest

    if settings.index_server:
        return _check_milvus(settings)
    folder = settings.effective_index_dir
    try:
        manifest = read_manifest(folder) if folder.is_dir() else None
    except IndexCorrupt as exc:
        raise TansuoError(f"{exc}; remove {folder} to rebuild it") from None
    if manifest is None:
        corpus = ("the default corpus (" + ", ".join(settings.corpus_packages) + ") is built on first start"
                  if settings.default_corpus else "empty until `tansuo index add`")
        return f"no index in {folder} yet; {corpus}"
    docs = manifest["documents"]
    return f"{len(docs)} documents, {sum(d['count'] for d in docs.values())} chunks in {folder}"


def _check_milvus(settings: Settings) -> str:
    """The server answers, and whether the collections exist (they are made on first start)."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise TansuoError("TANSUO_INDEX_URI names a Milvus server: pip install 'tansuo[milvus]'") from None
    token = settings.index_token.get_secret_value() if settings.index_token else ""
    chunks = f"{settings.index_collection}_chunks"
    try:
        client = MilvusClient(uri=settings.index_uri, token=token, timeout=5)
        if not client.has_collection(chunks):
            return f"Milvus at {settings.index_uri} answers; no collection {chunks} yet (made on first start)"
        count = client.query(chunks, filter="", output_fields=["count(*)"])[0]["count(*)"]
    except MilvusException as exc:
        raise TansuoError(f"Milvus at {settings.index_uri} does not answer: {exc.message or exc}") from None
    return f"Milvus at {settings.index_uri}: {count} chunks in {chunks}"


def _check_data_dir(settings: Settings) -> str:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
    except OSError as exc:
        raise TansuoError(f"{settings.data_dir} is not writable: {exc.strerror}; set TANSUO_DATA_DIR") from None
    return f"{settings.data_dir} is writable"
