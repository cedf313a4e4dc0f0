"""The fetcher against a real local server: policy, limits and error translation."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from monitor.config import HttpSettings
from monitor.errors import BlockedAddressError, FetchError, TooLargeError
from monitor.fetch import AddressGuard, Fetcher
from monitor.fetch.client import parse_retry_after
from monitor.fetch.guard import is_public_address
from tests.support.newssite import NewsServer


def fetch(url: str, **settings: Any) -> Any:
    async def go() -> Any:
        options = {"allow_private_networks": True, "timeout": 2, **settings}
        async with Fetcher(HttpSettings(**options)) as fetcher:
            return await fetcher.get(url)

    return asyncio.run(go())


def test_get_sends_user_agent_and_decodes_gzip(server: NewsServer) -> None:
    server.add("/big", "<p>" + "word " * 2000 + "</p>")
    result = fetch(server.url("/big"), user_agent="monitor-test/1.0")
    assert result.status == 200 and result.content.startswith(b"<p>word") and len(result.content) > 10_000
    assert server.requests[0][1]["user-agent"] == "monitor-test/1.0"
    assert "gzip" in server.requests[0][1]["accept-encoding"]
    assert result.charset == "utf-8" and result.content_type == "text/html"


def test_http_error_carries_status_and_retry_after(server: NewsServer) -> None:
    server.add("/busy", "slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as caught:
        fetch(server.url("/busy"))
    assert caught.value.status == 429 and caught.value.retry_after == 120
    assert caught.value.url == server.url("/busy") and "HTTP 429" in str(caught.value)


def test_retry_after_as_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:00 GMT", now=now) == 60
    assert parse_retry_after("soon", now=now) is None


def test_redirects_followed_up_to_five(server: NewsServer) -> None:
    for i in range(7):
        server.add(f"/r{i}", "", status=301, headers={"Location": f"/r{i + 1}"})
    server.add("/r7", "done")
    server.add("/ok-start", "", status=302, headers={"Location": "/r7"})
    assert fetch(server.url("/ok-start")).final_url == server.url("/r7")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(server.url("/r0"))


def test_redirect_to_other_scheme_is_refused(server: NewsServer) -> None:
    server.add("/to-file", "", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError, match="scheme"):
        fetch(server.url("/to-file"))


def test_body_cap_counts_decoded_bytes_while_streaming(server: NewsServer) -> None:
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(2000):  # would be 128 MiB; the client must stop long before
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            return

    server.routes["/endless"] = endless
    with pytest.raises(TooLargeError, match="max_bytes"):
        fetch(server.url("/endless"), max_bytes="1MB")
    bomb = gzip.compress(b"\0" * 5_000_000)
    server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError):
        fetch(server.url("/bomb"), max_bytes="1MB")
    server.add("/declared", b"y" * 3_000_000, headers={"Content-Encoding": "identity"})
    with pytest.raises(TooLargeError, match=r"over http\.max_bytes"):
        fetch(server.url("/declared"), max_bytes="1MB")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_server_that_never_answers_times_out(silent_port: int) -> None:
    with pytest.raises(FetchError, match=r"timed out|no complete response"):
        fetch(f"http://127.0.0.1:{silent_port}/feed", timeout=0.5)


def test_refused_connection_is_a_fetch_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="ConnectError"):
        fetch(f"http://127.0.0.1:{port}/feed")


def test_private_addresses_are_refused_by_default(server: NewsServer) -> None:
    server.add("/feed", "secret")
    with pytest.raises(BlockedAddressError, match=r"non-public address 127\.0\.0\.1"):
        fetch(server.url("/feed"), allow_private_networks=False)
    assert server.hits == {}  # refused before any request was sent


def test_guard_checks_every_redirect_hop(server: NewsServer) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"public.example": ["93.184.216.34"], "internal.example": ["10.0.0.5"]}[host]

    async def go() -> None:
        guard = AddressGuard(allow_private=False, resolver=resolver)
        await guard.check("http://public.example/", "public.example", 80)
        with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.5"):
            await guard.check("http://internal.example/", "internal.example", 80)

    asyncio.run(go())


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("172.16.5.4", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("2606:4700::1111", True),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_host_gate_caps_spaces_and_slows_down() -> None:
    from monitor.fetch.politeness import MAX_HOST_DELAY_S, HostGate

    clock = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    async def go() -> None:
        gate = HostGate(per_host=2, delay_s=1.0, clock=lambda: clock[0], sleep=fake_sleep)
        for _ in range(3):
            async with gate.slot("a.example"):
                pass
        assert slept == [1.0, 1.0]  # starts one second apart
        async with gate.slot("b.example"):
            pass
        assert slept == [1.0, 1.0]  # another host does not wait for this one
        for _ in range(10):
            gate.slow_down("a.example")
        assert gate.delay_of("a.example") == MAX_HOST_DELAY_S
        for _ in range(10):
            gate.recover("a.example")
        assert gate.delay_of("a.example") == 1.0

    asyncio.run(go())


def test_429_slows_the_whole_host(server: NewsServer) -> None:
    server.add("/limited", "", status=429, headers={"Retry-After": "5"})

    async def go() -> float:
        async with Fetcher(HttpSettings(allow_private_networks=True, per_host_delay=0)) as fetcher:
            with pytest.raises(FetchError):
                await fetcher.get(server.url("/limited"))
            return fetcher.hosts.delay_of("127.0.0.1")

    assert asyncio.run(go()) == 1.0  # from no delay at all to one second between request starts


def test_robots_txt_fetched_once_and_failures_allow(server: NewsServer) -> None:
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    async def go() -> list[bool]:
        async with Fetcher(HttpSettings(allow_private_networks=True, per_host_delay=0)) as fetcher:
            return [
                await fetcher.allowed_by_robots(server.url("/news/1")),
                await fetcher.allowed_by_robots(server.url("/private/2")),
                await fetcher.allowed_by_robots(server.url("/news/3")),
            ]

    assert asyncio.run(go()) == [True, False, True]
    assert server.hits["/robots.txt"] == 1
    server.routes["/robots.txt"] = server.routes["/robots.txt"].__class__(b"oops", status=500)
    assert asyncio.run(go()) == [True, True, True]  # a robots.txt that fails to load allows all


def _bomb(encoding: str, inflated: int = 512 * 2**20) -> bytes:
    """``inflated`` zero bytes compressed, built a megabyte at a time (never held whole)."""
    import zlib

    import brotli

    block = b"\0" * 2**20
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        parts = [compressor.process(block) for _ in range(inflated // len(block))]
        return b"".join(parts) + compressor.finish()
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    deflater = zlib.compressobj(1, zlib.DEFLATED, wbits)
    return b"".join(deflater.compress(block) for _ in range(inflated // len(block))) + deflater.flush()


@pytest.mark.parametrize("encoding", ["br", "gzip", "deflate"])
def test_compression_bombs_stop_at_the_cap_without_inflating_whole(server: NewsServer, encoding: str) -> None:
    import tracemalloc

    server.add("/bomb", _bomb(encoding), headers={"Content-Encoding": encoding})
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError):
            fetch(server.url("/bomb"), max_bytes="1MB")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # 512 MiB inflated would show here; the cap is 1 MB


@pytest.mark.parametrize("encoding", ["br", "gzip", "deflate"])
def test_compressed_bodies_decode(server: NewsServer, encoding: str) -> None:
    import zlib

    import brotli

    text = ("Ünïcode news " * 5000).encode("utf-8")
    body = {"br": brotli.compress, "gzip": gzip.compress, "deflate": zlib.compress}[encoding](text)
    server.add("/c", body, headers={"Content-Encoding": encoding})
    assert fetch(server.url("/c")).content == text
    server.add("/raw-deflate", zlib.compress(text)[2:-4], headers={"Content-Encoding": "deflate"})
    assert fetch(server.url("/raw-deflate")).content == text
    server.add(
        "/two-members",
        gzip.compress(text[:100]) + gzip.compress(text[100:]),
        headers={"Content-Encoding": "gzip"},
    )
    assert fetch(server.url("/two-members")).content == text


def test_broken_encoding_and_unknown_encoding_are_fetch_errors(server: NewsServer) -> None:
    server.add("/broken", b"definitely not gzip" * 100, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="cannot decode"):
        fetch(server.url("/broken"))
    server.add("/weird", b"x" * 600, headers={"Content-Encoding": "snappy"})
    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        fetch(server.url("/weird"))


def test_overlong_host_label_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match=r"invalid URL|cannot resolve"):
        fetch("http://" + "a" * 64 + ".example.com/feed", allow_private_networks=False)
    with pytest.raises(FetchError):
        fetch("http://[oops/feed")


def _fetch_with(resolver: Any, url: str, **settings: Any) -> Any:
    async def go() -> Any:
        options = {"timeout": 2, "per_host_delay": 0, **settings}
        http = HttpSettings(**options)
        guard = AddressGuard(
            allow_private=http.allow_private_networks, allow_hosts=http.allow_hosts, resolver=resolver
        )
        async with Fetcher(http, guard=guard) as fetcher:
            return await fetcher.get(url)

    return asyncio.run(go())


def test_connections_go_to_the_checked_address_resolved_once(server: NewsServer) -> None:
    """A host name resolving to a private address is refused before any byte is sent; allowed by
    `allow_hosts`, the connection goes to exactly the address that was checked (no second lookup to rebind)."""
    server.add("/feed", "ok")
    port = server.url("/").rsplit(":", 1)[1].rstrip("/")
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    with pytest.raises(BlockedAddressError, match=r"address guard refused intranet\.test"):
        _fetch_with(resolver, f"http://intranet.test:{port}/feed")
    assert server.hits == {} and lookups == ["intranet.test"]
    lookups.clear()
    result = _fetch_with(resolver, f"http://intranet.test:{port}/feed", allow_hosts=["intranet.test"])
    assert result.content == b"ok" and lookups == ["intranet.test"]
    assert server.requests[-1][1]["host"] == f"intranet.test:{port}"  # the name is kept for Host (and TLS)
    assert (
        _fetch_with(resolver, f"http://other.test:{port}/feed", allow_hosts=["127.0.0.0/8"]).content == b"ok"
    )


@pytest.mark.parametrize(
    "target",
    ["http://10.0.0.5/x", "http://172.16.0.1/x", "http://192.168.1.1/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]/x", "http://[fc00::1]/x", "http://127.0.0.2/x", "http://0.0.0.0/x"],
)  # fmt: skip
def test_private_and_metadata_addresses_are_refused(server: NewsServer, target: str) -> None:
    with pytest.raises(BlockedAddressError):
        fetch(target, allow_private_networks=False)


def test_redirect_to_a_private_address_is_refused(server: NewsServer) -> None:
    port = server.url("/").rsplit(":", 1)[1].rstrip("/")
    server.add("/hop", "", status=302, headers={"Location": f"http://127.0.0.1:{port}/secret"})
    server.add("/secret", "internal")

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with pytest.raises(BlockedAddressError):
        _fetch_with(resolver, f"http://public.test:{port}/hop", allow_hosts=["public.test"])
    assert "/secret" not in server.hits and server.hits["/hop"] == 1
