"""`tansuo serve` (the chat service), `tansuo mcp` (the same as an MCP server over stdio) and
`tansuo keys` (the service's API keys)."""

from __future__ import annotations

import argparse
import sys

from tansuo.errors import ConfigError
from tansuo.settings import load_settings


def add_parsers(sub) -> None:
    serve = sub.add_parser("serve", help="run the chat service: OpenAI-compatible API and the chat page")
    serve.add_argument("--host", help="address to bind (default: TANSUO_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: TANSUO_PORT, 8000)")
    serve.set_defaults(handler=_serve)

    mcp = sub.add_parser("mcp", help="serve Tansuo's search and ask tools to an MCP host over stdio")
    mcp.set_defaults(handler=_mcp)

    keys = sub.add_parser("keys", help="API keys of the chat service (stored hashed)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    add = keys_sub.add_parser("add", help="create a key; it is printed once")
    add.add_argument("name", help="whose key (a person or a client)")
    add.add_argument("--profiles", help="comma-separated profiles it may ask for: tools, plugins, agent "
                                        "(default: TANSUO_KEY_PROFILES, tools,plugins)")
    add.set_defaults(handler=_keys_add)
    remove = keys_sub.add_parser("remove", help="forget a key: requests with it are refused from then on")
    remove.add_argument("name")
    remove.set_defaults(handler=_keys_remove)
    listing = keys_sub.add_parser("list", help="the keys' names (never the keys)")
    listing.set_defaults(handler=_keys_list)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tansuo.cli.index import progress_bars
    from tansuo.cli.running import announce, withdraw
    from tansuo.server.app import create_app
    from tansuo.server.auth import KeyRing, keys_required
    from tansuo.server.parts import build_parts

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = load_settings(**overrides)
    keys = keys_required(settings.api_keys, settings.host)
    if keys and not KeyRing(settings.effective_api_keys_file).records():
        raise ConfigError(f"serving on {settings.host} (not a loopback address) needs API keys: create one with "
                          "`tansuo keys add NAME`, or set TANSUO_API_KEYS=off to serve without")
    where = f"http://{settings.host}:{settings.port}/"
    print(f"tansuo: starting on {where} (store: {'redis' if settings.redis_url else 'in-process'})",
          file=sys.stderr, flush=True)

    with progress_bars() as progress:  # the first start indexes the default corpus (minutes)
        async def build():
            parts = await build_parts(settings, progress=progress)
            print(f"tansuo: ready: the chat page at {where}, the OpenAI-compatible API at {where}v1",
                  file=sys.stderr, flush=True)
            announce(settings, keys=keys)  # `tansuo ask` on this data dir sends its questions here
            return parts

        # a SIGTERM while the parts are still being built (a first index, a plugin listing) stops the start
        app = create_app(settings, build, stopping=lambda: server.should_exit)
        class Server(uvicorn.Server):
            async def shutdown(self, sockets=None) -> None:
                # here, not after run(): uvicorn re-raises a caught SIGTERM once it has shut down
                await super().shutdown(sockets)
                withdraw(settings)

        server = Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                                       timeout_graceful_shutdown=int(settings.shutdown_grace_s) or None))
        try:
            server.run()
        finally:
            withdraw(settings)
    return 0


def _mcp(args: argparse.Namespace) -> int:
    """stdout is the protocol's alone: the process keeps a private copy of it for the SDK and points
    file descriptor 1 at stderr, so nothing else (a plugin's print in its forked child, a library's
    notice) can write into the JSON-RPC stream."""
    import asyncio
    import io
    import logging
    import os

    from tansuo.server.mcp_server import build_mcp
    from tansuo.server.parts import build_parts

    settings = load_settings()
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(protocol, encoding="utf-8", write_through=True)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    async def run() -> None:
        parts = await build_parts(settings)
        try:
            await build_mcp(lambda: parts, index_add=settings.mcp_index_add).run_stdio_async()
        finally:
            await parts.aclose()

    print("tansuo: MCP server on stdio (tools: search, ask" + (", index_add" if settings.mcp_index_add else "")
          + ")", file=sys.stderr, flush=True)
    asyncio.run(run())
    return 0


def _keys_add(args: argparse.Namespace) -> int:
    from tansuo.server.auth import KeyRing

    settings = load_settings()
    profiles = tuple(p.strip() for p in args.profiles.split(",") if p.strip()) if args.profiles else None
    key = KeyRing(settings.effective_api_keys_file).add(args.name, profiles)
    print(key)
    print(f"tansuo: key {args.name!r} added to {settings.effective_api_keys_file} (only its hash is kept; "
          "this is the one time it is shown)", file=sys.stderr)
    return 0


def _keys_remove(args: argparse.Namespace) -> int:
    from tansuo.server.auth import KeyRing

    settings = load_settings()
    KeyRing(settings.effective_api_keys_file).remove(args.name)
    print(f"tansuo: key {args.name!r} removed from {settings.effective_api_keys_file}", file=sys.stderr)
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    from tansuo.server.auth import KeyRing

    settings = load_settings()
    for record in KeyRing(settings.effective_api_keys_file).records():
        print(f"{record.name}\tprofiles: {','.join(record.profiles or settings.key_profiles)}")
    return 0
