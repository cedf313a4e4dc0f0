"""Duplicate recognition, first level: canonical URLs and content hashes (pure).

Near-duplicates and revisions build on these (issue "Duplicates").
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt.mc_id",
        "__twitter_impression",
        "xtor",
        "at_medium",
        "at_campaign",
        "at_source",
        "at_platform",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ito",
        "ocid",
        "cmpid",
        "smid",
        "sr_share",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_campaign", "pk_kwd", "pk_source", "pk_medium")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The form of ``url`` that two links to the same page share.

    Lowercase scheme and host, default port and fragment dropped, tracking parameters dropped and the
    remaining query pairs sorted as they are (never re-encoded: ``?12345``, ``;`` separators and latin-1
    escapes survive); an empty path becomes ``/``. Path case and percent-escapes are kept: servers may
    treat them as distinct. A string that does not parse as a URL is returned stripped, unchanged.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{host}"
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    pairs = [pair for pair in parts.query.split("&") if pair]
    kept = sorted(pair for pair in pairs if not _is_tracking(unquote_plus(pair.split("=", 1)[0])))
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def without_fragment(url: str) -> str:
    """The URL to request: as published, only the fragment dropped (servers never see it anyway)."""
    return url.strip().split("#", 1)[0]


def site_of(url: str) -> str:
    """Rough registrable domain: ``www.bbc.co.uk`` -> ``bbc.co.uk``, ``m.example.org`` -> ``example.org``."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    labels = host.split(".")
    if len(labels) <= 2 or all(label.isdigit() for label in labels):
        return host
    keep = 3 if len(labels[-2]) <= 3 and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def same_site(a: str, b: str) -> bool:
    return site_of(a) == site_of(b) != ""


def choose_canonical(final_url: str, page_canonical: str | None) -> str:
    """The page's own ``<link rel=canonical>`` wins when it is on the same site as where we landed, and
    is not the site's home page (a template default that would fold every article into one)."""
    if page_canonical:
        try:
            absolute = urljoin(final_url, page_canonical.strip())
            parts = urlsplit(absolute)
            landed_path = urlsplit(final_url).path
        except ValueError:
            return canonical_url(final_url)
        is_home = parts.path in ("", "/") and landed_path not in ("", "/")
        if parts.scheme in ("http", "https") and same_site(absolute, final_url) and not is_home:
            return canonical_url(absolute)
    return canonical_url(final_url)


def fold_text(text: str) -> str:
    """Case and whitespace folded: the form ``content_hash`` is computed over."""
    return " ".join(text.casefold().split())


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the text with case and whitespace folded."""
    return hashlib.sha256(fold_text(text).encode("utf-8")).hexdigest()
