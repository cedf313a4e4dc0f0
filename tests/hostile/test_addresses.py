"""SSRF: with ``http.allow_private_networks: false``, nothing reaches a private, loopback, link-local or
metadata address: not a source, not an article link, not a redirect, not a host name resolving there.

Two servers stand in for the two networks: 127.0.0.2 is "the internet" (let through by ``http.allow_hosts``,
as an operator would allow an intranet feed) and 127.0.0.1 is the internal service an attacker wants to
reach; it must see no request at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

from monitor.config import HttpSettings
from monitor.errors import BlockedAddressError
from monitor.fetch import Fetcher
from monitor.fetch.guard import AddressGuard
from tests.support.newssite import NewsServer

from .conftest import HEALTHY, Poll, assert_failed, poll_once, roomy

GUARD = "address guard refused"


def _targets(internal: NewsServer, public: NewsServer) -> dict[str, str]:
    """Article links into the internal network, by case."""
    port = internal.httpd.server_address[1]
    return {
        "loopback": internal.url("/secret"),
        "localhost-name": f"http://localhost:{port}/secret",
        "loopback-short": f"http://127.1:{port}/secret",
        "loopback-decimal": f"http://2130706433:{port}/secret",
        "unspecified": f"http://0.0.0.0:{port}/secret",
        "ipv6-loopback": f"http://[::1]:{port}/secret",
        "ipv4-mapped": f"http://[::ffff:127.0.0.1]:{port}/secret",
        "ten": "http://10.1.2.3/admin",
        "one-seventy-two": "http://172.16.0.1/admin",
        "one-ninety-two": "http://192.168.1.1/admin",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "metadata-ipv6": "http://[fd00:ec2::254]/latest/meta-data/",
        "unique-local": "http://[fc00::1]/admin",
        "redirect": public.url("/bounce"),
    }


@dataclass
class World:
    internal: NewsServer
    public: NewsServer
    targets: dict[str, str]
    poll: Poll


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with NewsServer() as internal, NewsServer(host="127.0.0.2") as public:
        roomy(internal)
        internal.add("/secret", "root:x:0:0:the internal service answered", content_type="text/plain")
        internal.add("/feed.xml", "<rss version='2.0'><channel><title>Internal</title></channel></rss>")
        public.add("/bounce", "", status=302, headers={"Location": internal.url("/secret")})
        public.add("/feed-bounce.xml", "", status=301, headers={"Location": internal.url("/feed.xml")})
        targets = _targets(internal, public)
        items = "".join(
            f"<item><title>{case}</title><link>{link}</link><guid isPermaLink='false'>{case}</guid>"
            f"<description>Teaser of {case}.</description></item>"
            for case, link in targets.items()
        )
        public.add(
            "/links.xml",
            f"<rss version='2.0'><channel><title>Links</title>{items}</channel></rss>",
            content_type="application/rss+xml",
        )
        port = internal.httpd.server_address[1]
        sources: list[dict[str, object]] = [
            {"id": "direct", "feed": internal.url("/feed.xml")},
            {"id": "by-name", "feed": f"http://localhost:{port}/feed.xml"},
            {"id": "via-redirect", "feed": public.url("/feed-bounce.xml")},
            {"id": "links", "feed": public.url("/links.xml")},
        ]
        http = {"allow_private_networks": False, "allow_hosts": ["127.0.0.2"]}
        done = poll_once(public, tmp_path_factory.mktemp("addresses"), sources, http=http)
        yield World(internal, public, targets, done)


def test_the_internal_service_saw_no_request(world: World) -> None:
    assert world.internal.requests == [] and sum(world.internal.hits.values()) == 0
    assert "root:x" not in world.poll.everything()


def test_a_source_on_a_loopback_address_is_refused(world: World) -> None:
    assert_failed(world.poll, "direct", GUARD, "127.0.0.1", "allow_private_networks")


def test_a_source_whose_host_name_resolves_to_loopback_is_refused(world: World) -> None:
    row = assert_failed(world.poll, "by-name", GUARD, "localhost")
    assert "127.0.0.1" in row.last_error or "::1" in row.last_error


def test_a_source_redirecting_into_the_internal_network_is_refused(world: World) -> None:
    assert_failed(world.poll, "via-redirect", GUARD)
    assert world.public.hits["/feed-bounce.xml"] == 1
    assert world.poll.source("via-redirect").url == world.public.url("/feed-bounce.xml")  # not "moved"


def test_the_allowed_host_still_works(world: World) -> None:
    assert world.poll.source(HEALTHY).last_error is None


@pytest.mark.parametrize(
    "case",
    [
        "loopback",
        "localhost-name",
        "loopback-short",
        "loopback-decimal",
        "unspecified",
        "ipv6-loopback",
        "ipv4-mapped",
        "ten",
        "one-seventy-two",
        "one-ninety-two",
        "metadata",
        "metadata-ipv6",
        "unique-local",
        "redirect",
    ],
)
def test_an_article_link_into_the_internal_network_is_refused_and_recorded(world: World, case: str) -> None:
    assert world.poll.source("links").last_error is None  # the feed itself is fine
    (article,) = [a for a in world.poll.articles("links") if a.guid == case]
    assert (article.extraction, article.text) == ("feed", f"Teaser of {case}.")
    link = world.targets[case]
    errors = [f["error"] for f in world.poll.fetches("links") if f["kind"] == "page" and f["url"] == link]
    assert len(errors) == 1 and errors[0] and GUARD in errors[0], errors


# -- DNS rebinding: the address checked is the address connected to ------------------------------------


class Rebinder:
    """A resolver that answers the allowed public address once, then the internal one."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Iterable[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def _fetch(url: str, resolver: Rebinder) -> object:
    settings = HttpSettings(
        allow_private_networks=False, allow_hosts=["127.0.0.2"], per_host_delay=0, timeout=2
    )
    guard = AddressGuard(allow_private=False, allow_hosts=settings.allow_hosts, resolver=resolver)

    async def go() -> object:
        async with Fetcher(settings, guard=guard) as fetcher:
            try:
                return await fetcher.get(url)
            except BlockedAddressError as exc:
                return exc

    return asyncio.run(go())


@pytest.fixture
def twins() -> Iterator[tuple[NewsServer, NewsServer]]:
    """The public server on 127.0.0.2 and an internal one on 127.0.0.1, on the same port."""
    public = NewsServer(host="127.0.0.2")
    internal = NewsServer(port=public.httpd.server_address[1])
    with public, internal:
        for server, text in ((public, "public"), (internal, "internal")):
            server.add("/feed.xml", text, content_type="text/plain")
        yield public, internal


def test_a_rebinding_answer_cannot_slip_between_check_and_connect(
    twins: tuple[NewsServer, NewsServer],
) -> None:
    public, internal = twins
    resolver = Rebinder([["127.0.0.2"], ["127.0.0.1"]])
    result = _fetch(f"http://rebind.test:{public.httpd.server_address[1]}/feed.xml", resolver)
    assert getattr(result, "content", None) == b"public", result
    assert resolver.calls == ["rebind.test"]  # resolved once; connected to the address it checked
    assert internal.requests == [] and public.hits["/feed.xml"] == 1


def test_one_private_answer_among_public_ones_refuses_the_host(twins: tuple[NewsServer, NewsServer]) -> None:
    public, internal = twins
    resolver = Rebinder([["127.0.0.2", "127.0.0.1"]])
    result = _fetch(f"http://mixed.test:{public.httpd.server_address[1]}/feed.xml", resolver)
    assert isinstance(result, BlockedAddressError) and GUARD in str(result), result
    assert internal.requests == [] and public.requests == []
