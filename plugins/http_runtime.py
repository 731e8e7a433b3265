"""Calling `http` plugins safely: declared hosts only, no private addresses unless allowed,
no redirects to undeclared hosts, capped responses, secrets kept out of messages."""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from tansuo.plugins.manifest import HttpRuntime
from tansuo.plugins.tool import ToolError

MAX_REDIRECTS = 3
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT and overlay networks: not public


async def _addresses(host: str) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    # the resolver's order, IPv4 first (a host without IPv6 routes still connects on its first try)
    found = list(dict.fromkeys(info[4][0] for info in infos))
    return sorted(found, key=lambda a: ":" in a)


@dataclass(frozen=True)
class HostPolicy:
    """Which private hosts the operator allows (e.g. 127.0.0.1 in tests, an intranet API).
    `resolve` is the name lookup (the system's; tests pass their own)."""

    allow_private: frozenset[str] = field(default_factory=frozenset)
    resolve: Callable[[str], Awaitable[list[str]]] = _addresses

    async def check(self, url: str, declared: list[str]) -> list[str]:
        """The addresses to connect to, in order: the ones that were checked, so a second lookup (DNS
        rebinding) cannot move the connection to another address between the check and the connect."""
        host = (urlsplit(url).hostname or "").lower()
        if not any(fnmatch.fnmatch(host, pattern.lower()) for pattern in declared):
            raise ToolError(f"host {host!r} is not among the hosts this plugin declares ({', '.join(declared) or 'none'})")
        addresses = await self.resolve(host)
        if not addresses:
            raise ToolError(f"cannot resolve host {host!r}")
        if host not in self.allow_private:
            for address in addresses:
                if _is_private(address):
                    raise ToolError(f"host {host!r} resolves to a private address ({address}); "
                                    "the operator must allow it (TANSUO_PLUGIN_ALLOW_PRIVATE_HOSTS)")
        return addresses


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
        or ip.is_unspecified or ip in _SHARED


async def call_http(runtime: HttpRuntime, hosts: list[str], arguments: dict[str, Any], *,
                    policy: HostPolicy, timeout_s: float) -> Any:
    secret = _secret(runtime)
    url, rest = _fill_template(runtime.url, arguments)
    headers = dict(runtime.headers)
    params: dict[str, Any] = {}
    if secret is not None and runtime.auth is not None:
        if runtime.auth.scheme == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif runtime.auth.scheme == "header":
            headers[runtime.auth.name] = secret
        else:
            params[runtime.auth.name] = secret
    send_body = runtime.body == "json" and runtime.method != "GET"
    if not send_body:
        params |= {k: v if isinstance(v, str) else json.dumps(v) for k, v in rest.items()}
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            return await _send(client, runtime, url, hosts, headers, params, rest if send_body else None, policy)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a bad Location is a ValueError
        raise ToolError(_redact(f"request failed: {type(exc).__name__}: {exc}", secret)) from None
    except ToolError as exc:
        raise ToolError(_redact(str(exc), secret)) from None


async def _send(client: httpx.AsyncClient, runtime: HttpRuntime, url: str, hosts: list[str],
                headers: dict[str, str], params: dict[str, Any], body: dict[str, Any] | None,
                policy: HostPolicy) -> Any:
    origin = _origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        addresses = await policy.check(url, hosts)
        response = await _send_to_one(client, runtime.method, url, addresses, headers, params, body)
        try:
            if response.is_redirect:
                moved = urljoin(url, response.headers.get("location", ""))
                if urlsplit(url).scheme == "https" and urlsplit(moved).scheme != "https":
                    raise ToolError("the plugin's server redirected from https to plain http; not followed")
                url = moved
                if _origin(url) != origin:
                    # another origin (host, port or scheme), even a declared one, gets only the URL it was
                    # sent to: not the secret (a header, or a query parameter among `params`), not the arguments
                    headers = {k: v for k, v in headers.items() if not _carries_secret(k, runtime)}
                    params, body = {}, None
                continue
            content = await _read_capped(response, runtime.max_response_bytes)
        finally:
            await response.aclose()
        if response.status_code >= 400:
            raise ToolError(f"HTTP {response.status_code} from {urlsplit(url).hostname}: {content[:300]!r}")
        return _decode(response, content)
    raise ToolError(f"more than {MAX_REDIRECTS} redirects")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


async def _send_to_one(client: httpx.AsyncClient, method: str, url: str, addresses: list[str],
                       headers: dict[str, str], params: dict[str, Any], body: dict[str, Any] | None) -> httpx.Response:
    """The response from the first checked address that takes the connection."""
    for n, address in enumerate(addresses):
        try:
            return await client.send(_pinned(client, method, url, address, headers, params, body), stream=True)
        except httpx.ConnectError:
            if n == len(addresses) - 1:
                raise
    raise ToolError("no address to connect to")


def _pinned(client: httpx.AsyncClient, method: str, url: str, address: str, headers: dict[str, str],
            params: dict[str, Any], body: dict[str, Any] | None) -> httpx.Request:
    """A request to `url` sent to `address`: the Host header and (for https) the TLS server name and
    certificate check keep the URL's host name; only the connection goes to the checked address."""
    # Merged, not passed as params=: httpx would drop a query the URL template already has.
    target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
    host = target.host
    request = client.build_request(method, target.copy_with(host=address), json=body,
                                   headers={**headers, "Host": target.netloc.decode("ascii")},
                                   extensions={"sni_hostname": host} if target.scheme == "https" else None)
    return request


def _carries_secret(header: str, runtime: HttpRuntime) -> bool:
    auth = runtime.auth
    return header.lower() == "authorization" or (auth is not None and auth.scheme == "header"
                                                 and header.lower() == (auth.name or "").lower())


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ToolError(f"response larger than {limit} bytes; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(response: httpx.Response, content: bytes) -> Any:
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.loads(content)
        except json.JSONDecodeError:
            raise ToolError("the plugin's server sent invalid JSON") from None
    return {"text": content.decode(response.encoding or "utf-8", errors="replace")}


def _fill_template(template: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Replace {name} with the URL-quoted argument; return the unused arguments too."""
    rest = dict(arguments)
    url = template
    for name in list(rest):
        token = "{" + name + "}"
        if token in url:
            url = url.replace(token, quote(str(rest.pop(name)), safe=""))
    if "{" in urlsplit(url).path or "{" in urlsplit(url).netloc:
        raise ToolError(f"URL template needs arguments that were not given: {template}")
    return url, rest


def _secret(runtime: HttpRuntime) -> str | None:
    if runtime.auth is None:
        return None
    value = os.environ.get(runtime.auth.env)
    if not value:
        raise ToolError(f"this plugin needs the environment variable {runtime.auth.env}; ask the operator to set it")
    return value


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text
