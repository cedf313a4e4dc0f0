from __future__ import annotations

import pytest

from monitor.dedup import canonical_url, choose_canonical, content_hash, same_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/News/Story?b=2&a=1#comments",
            "https://www.example.com/News/Story?a=1&b=2",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=abc&gclid=def&mc_cid=1&mc_eid=2", "https://example.com/a"),
        ("https://example.com/a?UTM_Campaign=x&page=2", "https://example.com/a?page=2"),
        ("https://example.fr/a?xtor=RSS-12&at_medium=x", "https://example.fr/a"),
        ("https://example.co.uk/a?ns_mchannel=rss&ns_source=PublicRSS20-sa", "https://example.co.uk/a"),
        ("https://example.com/a?q=&z=1", "https://example.com/a?q=&z=1"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
        ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
        ("https://example.com/story.php?12345", "https://example.com/story.php?12345"),
        ("https://example.com/s?q=%E9t%E9&utm_source=x", "https://example.com/s?q=%E9t%E9"),
        ("https://example.com/s?id=5;lang=fr", "https://example.com/s?id=5;lang=fr"),
        ("https://example.com/s?b=2&&a=1&", "https://example.com/s?a=1&b=2"),
        ("http://[oops/feed", "http://[oops/feed"),
        ("http://example.com:99999/x", "http://example.com:99999/x"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    url = "https://Example.com/path?b=1&utm_source=x&a=2#frag"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_page_canonical_wins_on_same_site_only() -> None:
    landed = "https://www.example.com/news/123?ref=home"
    assert (
        choose_canonical(landed, "https://example.com/news/123-slug") == "https://example.com/news/123-slug"
    )
    assert choose_canonical(landed, "/news/123-slug") == "https://www.example.com/news/123-slug"
    assert (
        choose_canonical(landed, "https://aggregator.example.org/x")
        == "https://www.example.com/news/123?ref=home"
    )
    assert choose_canonical(landed, "javascript:void(0)") == "https://www.example.com/news/123?ref=home"
    assert choose_canonical(landed, None) == "https://www.example.com/news/123?ref=home"
    # a template canonical pointing every article at the home page is ignored
    assert choose_canonical(landed, "https://www.example.com/") == "https://www.example.com/news/123?ref=home"
    assert choose_canonical("https://example.com/", "https://example.com/") == "https://example.com/"
    assert choose_canonical(landed, "http://[oops/") == "https://www.example.com/news/123?ref=home"


def test_same_site() -> None:
    assert same_site("https://www.bbc.co.uk/a", "https://bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk/a", "https://other.co.uk/b")
    assert same_site("https://m.example.com/a", "https://amp.example.com/b")
    assert not same_site("http://127.0.0.1/a", "http://127.0.0.2/a")


def test_content_hash_folds_case_and_whitespace() -> None:
    assert content_hash("Hello   World\n\nSecond") == content_hash("hello world second")
    assert content_hash("Hello World") != content_hash("Hello Word")
    assert len(content_hash("")) == 64


def test_band_keys_never_change() -> None:
    """Archived articles are filed under these keys: a change to the recipe (shingles, MinHash, bands)
    would hide every archived copy from new ones. These were made by datasketch 2.0 (`affine32`, seed
    20261128), which `dedup` reproduces without it; change them only with FINGERPRINT_VERSION and a
    migration that refiles `article_bands`."""
    from monitor.dedup import FINGERPRINT_VERSION, band_keys

    text = " ".join(f"word{i % 97} token{i % 13} item{i}" for i in range(120))
    assert FINGERPRINT_VERSION == 1
    assert band_keys(text) == (
        4226072051451907842, 2201122131850616150, 1237113518283117550, -8752327976580979922,
        -4229287106695148756, -8502369890445075604, -6831143026020043326, -2868730147809747734,
        -8086732148790881943, 3953609276443952315, 7421342611260462790, -3234600490438766588,
        8364811953194991393, -5271143924673426537, -8568491741748634812, -3839052105390475226,
        -1255126141190656250, 9180690054311161785, -738437987105498828, 6933774145743807129,
        -133145713997999240, 3586137863134568561, 5627288408751563718, -1699899393607190272,
    )  # fmt: skip
    assert band_keys("too short to sketch") == ()
