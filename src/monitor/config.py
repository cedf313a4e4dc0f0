"""Load and validate ``config.yaml`` into typed settings.

Pure apart from reading the one file. Every problem is reported at once, each naming its field path and the
offending value (``sources[3].interval: "10 minutes" is not a duration like 10m, 2h``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
)

from monitor._version import __version__
from monitor.errors import ConfigError
from monitor.logs import redact_credentials
from monitor.models import (
    COMMIT_EVERY,
    COMMIT_INTERVAL_S,
    LEASE_S,
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    Selectors,
    Source,
)

DEFAULT_USER_AGENT = f"monitor/{__version__} (+https://github.com/monitor-news/monitor)"

MAX_DURATION_S = 366 * 86400.0
MAX_SIZE = 100 * 10**9
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_SIZE_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)\s*$", re.IGNORECASE)


def parse_duration(value: object) -> float:
    """``30s``, ``10m``, ``2h``, ``1d`` or plain seconds -> seconds (> 0)."""
    seconds: float | None = None
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif match := _DURATION_RE.match(text.lower()):
            seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds is None or not math.isfinite(seconds):
        raise ValueError("is not a duration like 10m, 2h")
    if seconds <= 0:
        raise ValueError("must be a positive duration like 10m, 2h")
    if seconds > MAX_DURATION_S:
        raise ValueError("is more than a year")
    return seconds


def parse_size(value: object) -> int:
    """``500KB``, ``10MB``, ``1GiB`` (KB/MB/GB = 10^3/10^6/10^9, KiB/MiB/GiB = 2^10/2^20/2^30) or bytes."""
    size: float | None = None
    if isinstance(value, bool):
        size = None
    elif isinstance(value, int | float):
        size = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            size = float(text)
        elif match := _SIZE_RE.match(text):
            size = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if size is None or not math.isfinite(size):
        raise ValueError("is not a size like 500KB, 10MB")
    if size < 1:
        raise ValueError("must be a positive size like 500KB, 10MB")
    if size > MAX_SIZE:
        raise ValueError("is more than 100GB")
    return int(size)


def parse_duration_or_zero(value: object) -> float:
    """Like :func:`parse_duration`, but 0 is allowed (no delay)."""
    if value in (0, "0", "0s"):
        return 0.0
    return parse_duration(value)


POSTGRES_SCHEMES = ("postgresql", "postgres")
POSTGRES_INSTALL = "pip install 'monitor[postgres]'"
_SCHEME_RE = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://")


@dataclass(frozen=True, repr=False)
class PostgresURL:
    """A PostgreSQL archive's connection URL, as libpq reads it (issue 16).

    The password may be in the URL, or left to ``PGPASSWORD`` and ``~/.pgpass``, which libpq reads itself.
    ``str()`` and ``repr()`` give :attr:`display`, so an f-string never prints the password; only the store
    reads :attr:`url`.
    """

    url: str

    @property
    def display(self) -> str:
        """The URL with its password (in the user part or a ``password=`` parameter) shown as ``***``."""
        scheme, rest = self.url.split("://", 1)
        netloc, slash, tail = rest.partition("/")
        userinfo, at, hosts = netloc.rpartition("@")
        if at:
            user, colon, _ = userinfo.partition(":")
            netloc = f"{user}:***@{hosts}" if colon else f"{user}@{hosts}"
        tail = re.sub(r"(?i)(^|[?&])(password=)[^&#]*", r"\1\2***", tail)
        return f"{scheme}://{netloc}{slash}{tail}"

    @property
    def passwords(self) -> list[str]:
        """The password(s) the URL carries, as written and percent-decoded, for the log redactor."""
        parts = urlsplit(self.url)
        netloc = parts.netloc.rpartition("@")[0]
        found = [netloc.partition(":")[2]] if ":" in netloc else []
        found += [value for key, value in parse_qsl(parts.query) if key.lower() == "password"]
        found = [value for value in found if value]
        return list(dict.fromkeys(found + [unquote(value) for value in found]))

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"PostgresURL({self.display!r})"


ArchiveLocation = Path | PostgresURL
"""Where the archive lives: a SQLite file (``Path``) or a PostgreSQL server (:class:`PostgresURL`)."""


def postgres_driver_available() -> bool:
    """Whether psycopg 3 (the ``postgres`` extra) can be imported; a seam for the tests."""
    return importlib.util.find_spec("psycopg") is not None


def parse_archive(value: object) -> ArchiveLocation:
    """A file path, or a ``postgresql://`` / ``postgres://`` URL; any other ``scheme://`` is refused."""
    if isinstance(value, Path | PostgresURL):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is not a file path or a postgresql:// URL")
    text = value.strip()
    match = _SCHEME_RE.match(text)
    if match is None:
        return Path(text)
    scheme = match.group("scheme").lower()
    if scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"is a {scheme}:// URL: the archive is a SQLite file path or a postgresql:// URL "
            "(postgresql://user@host:5432/dbname)"
        )
    if not postgres_driver_available():
        raise ValueError(f"is a PostgreSQL URL, which needs the PostgreSQL driver: {POSTGRES_INSTALL}")
    return PostgresURL(text)


def archive_display(location: ArchiveLocation) -> str:
    """The archive's location as it may be printed or logged: a path, or the URL with its password hidden."""
    return location.display if isinstance(location, PostgresURL) else str(location)


Duration = Annotated[float, BeforeValidator(parse_duration)]
Duration0 = Annotated[float, BeforeValidator(parse_duration_or_zero)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Section(BaseModel):
    # a field's docstring is its description (in the model's schema, and for `Settings.model_fields`)
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class HttpSettings(_Section):
    user_agent: str = DEFAULT_USER_AGENT
    timeout: Duration = 20.0
    max_bytes: Size = 10_000_000
    allow_private_networks: bool = False
    allow_hosts: list[str] = Field(default_factory=list)
    """Host names, addresses or CIDR ranges allowed although not public (an intranet feed)."""
    max_connections: int = Field(default=32, ge=1, le=1000)
    """Global cap on simultaneous requests."""
    per_host: int = Field(default=2, ge=1, le=100)
    """Simultaneous requests to one host, feeds and articles of every source together."""
    per_host_delay: Duration0 = 1.0
    """Minimum time between the starts of two requests to one host."""
    respect_robots: bool = True


class DefaultSettings(_Section):
    interval: Duration = 900.0
    fetch_articles: bool = True
    min_interval: Duration = MIN_INTERVAL_S
    max_interval: Duration = MAX_INTERVAL_S
    dead_after: int = Field(default=10, ge=1)
    conditional: bool = True
    max_age: Duration = 259200.0
    recheck: Duration0 = 172800.0
    """How long after first sight an article is re-fetched for revisions (1h, 6h, 24h, 48h); 0: never."""


SOURCE_KINDS = ("feed", "sitemap", "html")


class SelectorSettings(_Section):
    """CSS selectors (BeautifulSoup) that override the generic extractor for one source."""

    title: str | None = None
    body: str | None = None
    authors: str | None = None
    published: str | None = None
    drop: list[str] = Field(default_factory=list)

    @field_validator("title", "body", "authors", "published")
    @classmethod
    def _check_selector(cls, value: str | None) -> str | None:
        if value is not None:
            _compile_selector(value)
        return value

    @field_validator("drop")
    @classmethod
    def _check_drop(cls, values: list[str]) -> list[str]:
        for value in values:
            _compile_selector(value)
        return values


def _compile_selector(value: str) -> None:
    import soupsieve  # with BeautifulSoup and lxml: ~0.1 s that only a config with selectors needs

    try:
        soupsieve.compile(value)
    except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
        raise ValueError(f"is not a CSS selector ({str(exc).splitlines()[0]})") from None


class SourceSettings(_Section):
    id: str
    name: str | None = None
    kind: Literal["feed", "sitemap", "html"] = "feed"
    feed: str | None = None
    url: str | None = None
    links: str | None = None
    interval: Duration | None = None
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    max_age: Duration | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    enabled: bool = True
    fetch_articles: bool | None = None
    conditional: bool | None = None
    recheck: Duration0 | None = None
    selectors: SelectorSettings | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_-]+", value):
            raise ValueError("is not a source id: use lowercase letters, digits, '_' and '-'")
        return value

    @field_validator("feed", "url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http(s) URL")
        return value.strip()

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}", value):
            raise ValueError("is not a lowercase ISO 639-1 code like en, ar, fr")
        return value


class NotifySettings(_Section):
    """One way to deliver a watch's matches: exactly one of ``jsonl``, ``webhook``, ``email``."""

    jsonl: str | None = None
    """A file to append one JSON object per match to, or ``-`` for standard output."""
    webhook: str | None = None
    secret_env: str | None = None
    """Environment variable holding the webhook's HMAC-SHA256 secret (never the secret itself)."""
    email: str | None = None
    digest: Duration | None = None
    """For email: gather matches and send one message every this often instead of one per match."""

    @field_validator("webhook")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("is not an http(s) URL")
        return value

    def channel(self) -> str:
        """This notifier's name within its watch: ``jsonl:PATH``, ``webhook:URL`` or ``email:TO``."""
        for kind in ("jsonl", "webhook", "email"):
            if (target := getattr(self, kind)) is not None:
                return f"{kind}:{target}"
        return "none"


class WatchSettings(_Section):
    id: str
    query: str
    sources: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    notify: list[NotifySettings] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_-]+", value):
            raise ValueError("is not a watch id: use lowercase letters, digits, '_' and '-'")
        return value


class SmtpSettings(_Section):
    host: str
    port: int = 587
    from_: str = Field(alias="from")
    user_env: str | None = None
    password_env: str | None = None
    starttls: bool = True
    timeout: Duration = 20.0


class CommitSettings(_Section):
    """How often a poll writes the new articles it has so far (issue 15): each time ``every`` are ready, or
    once the first of them has waited ``interval``, whichever comes first. A crash loses at most the batch
    being filled (and the pages in flight); `monitor tail -f` shows articles as their batch lands."""

    every: int = Field(default=COMMIT_EVERY, ge=1, le=10_000)
    interval: Duration = COMMIT_INTERVAL_S


class WorkerSettings(_Section):
    """This worker's share of a PostgreSQL archive that several `monitor run` processes poll together
    (issue 16). ``lease``: how long a worker holds a feed host without renewing it (renewed every third of
    that), so a worker that dies has its hosts taken over within two leases. ``processes``: the extraction
    pool's size, per worker (default: the machine's cores)."""

    lease: Duration = Field(default=LEASE_S, ge=1.0, le=3600.0)
    processes: int | None = Field(default=None, ge=1, le=256)


class Settings(_Section):
    archive: Annotated[ArchiveLocation, PlainValidator(parse_archive)] = Path("data/monitor.db")
    """A SQLite file (relative paths are taken from the config's folder), or a ``postgresql://`` URL."""
    archive_raw: bool = True
    """Keep each fetched article page (compressed), so `monitor reextract` can re-read it."""
    shutdown_grace: Duration = 10.0
    """On SIGTERM/SIGINT, how long running polls may take to finish before they are cancelled (a cancelled
    poll still writes the pages it has fetched)."""
    http: HttpSettings = Field(default_factory=HttpSettings)
    defaults: DefaultSettings = Field(default_factory=DefaultSettings)
    commit: CommitSettings = Field(default_factory=CommitSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    sources: list[SourceSettings] = Field(default_factory=list)
    watches: list[WatchSettings] = Field(default_factory=list)
    smtp: SmtpSettings | None = None

    def secrets(self) -> list[str]:
        """Values of the secret environment variables the config names, for the log redactor."""
        names = [n.secret_env for w in self.watches for n in w.notify if n.secret_env]
        if self.smtp is not None:
            names += [name for name in (self.smtp.user_env, self.smtp.password_env) if name]
        values = [value for name in names if (value := os.environ.get(name))]
        if isinstance(self.archive, PostgresURL):
            values += self.archive.passwords
        return values

    @property
    def archive_display(self) -> str:
        """The archive's location as it may be printed or logged (no password)."""
        return archive_display(self.archive)

    def resolved_sources(self) -> list[Source]:
        """The sources with ``defaults`` applied, in config order."""
        d = self.defaults
        resolved = []
        for s in self.sources:
            min_interval = s.min_interval if s.min_interval is not None else d.min_interval
            max_interval = s.max_interval if s.max_interval is not None else d.max_interval
            start = s.interval if s.interval is not None else d.interval
            resolved.append(
                Source(
                    id=s.id,
                    name=s.name or s.id,
                    url=s.feed or s.url or "",
                    kind=s.kind,
                    interval_s=start
                    if s.interval is not None
                    else min(max(start, min_interval), max_interval),
                    pinned=s.interval is not None,
                    min_interval_s=min_interval,
                    max_interval_s=max_interval,
                    tags=tuple(s.tags),
                    language=s.language,
                    enabled=s.enabled,
                    fetch_articles=s.fetch_articles if s.fetch_articles is not None else d.fetch_articles,
                    conditional=s.conditional if s.conditional is not None else d.conditional,
                    max_age_s=s.max_age if s.max_age is not None else d.max_age,
                    recheck_s=s.recheck if s.recheck is not None else d.recheck,
                    links=s.links,
                    dead_after=d.dead_after,
                    selectors=Selectors(
                        title=s.selectors.title,
                        body=s.selectors.body,
                        authors=s.selectors.authors,
                        published=s.selectors.published,
                        drop=tuple(s.selectors.drop),
                    )
                    if s.selectors
                    else None,
                )
            )
        return resolved


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _describe(error: Any) -> str:
    path = _field_path(tuple(error["loc"]))
    kind = error["type"]
    value = error.get("input")
    if kind == "value_error":
        return f"{path}: {redact_credentials(_show(value))} {error['ctx']['error']}"
    if kind == "missing":
        return f"{path}: is required"
    if kind == "extra_forbidden":
        return f"{path}: unknown key (check the spelling; see config.yaml in the repository for every key)"
    return f"{path}: {redact_credentials(_show(value))}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def _cross_checks(data: dict[str, Any]) -> list[str]:
    """Checks that span fields, done on the raw data so they are reported with the per-field ones."""
    problems: list[str] = []
    raw_defaults = data.get("defaults")
    defaults: dict[str, Any] = raw_defaults if isinstance(raw_defaults, dict) else {}

    def seconds(value: object, fallback: float) -> float | None:
        try:
            return parse_duration(value) if value is not None else fallback
        except ValueError:
            return None  # reported by the field's own check

    default_low = seconds(defaults.get("min_interval"), MIN_INTERVAL_S)
    default_high = seconds(defaults.get("max_interval"), MAX_INTERVAL_S)
    if default_low is not None and default_high is not None and default_low > default_high:
        problems.append(
            f"defaults.min_interval: {default_low:g}s is more than max_interval ({default_high:g}s)"
        )
    sources = data.get("sources")
    seen: dict[object, int] = {}
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(source, dict):
            continue
        where = f"sources[{index}]"
        kind = source.get("kind", "feed")
        if kind == "feed":
            if source.get("feed") is None:
                problems.append(f"{where}.feed: is required (the feed's URL)")
            if source.get("url") is not None:
                problems.append(f"{where}.url: is for kind sitemap or html; a feed source takes `feed:`")
        elif kind in SOURCE_KINDS:
            if source.get("url") is None:
                problems.append(f"{where}.url: is required for kind {kind}")
            if source.get("feed") is not None:
                problems.append(f"{where}.feed: is for kind feed; a {kind} source takes `url:`")
        if kind == "html" and not source.get("links"):
            problems.append(f'{where}.links: is required for kind html (a CSS selector such as "h3 a")')
        if source.get("links") is not None and kind != "html":
            problems.append(f"{where}.links: only applies to kind html")
        low = seconds(source.get("min_interval"), default_low or MIN_INTERVAL_S)
        high = seconds(source.get("max_interval"), default_high or MAX_INTERVAL_S)
        if low is not None and high is not None and low > high:
            problems.append(f"{where}.min_interval: {low:g}s is more than max_interval ({high:g}s)")
        source_id = source.get("id")
        if isinstance(source_id, str):
            if source_id in seen:
                problems.append(
                    f"{where}.id: {_show(source_id)} is already used by sources[{seen[source_id]}]"
                )
            seen.setdefault(source_id, index)
    return problems


def validate_config(data: object, *, base_dir: Path | None = None) -> Settings:
    """Validate already-loaded YAML data; relative ``archive`` paths are taken from ``base_dir``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    problems = _cross_checks(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()] + problems) from None
    if problems:
        raise ConfigError(problems)
    if base_dir is not None and isinstance(settings.archive, Path) and not settings.archive.is_absolute():
        settings = settings.model_copy(update={"archive": base_dir / settings.archive})
    if base_dir is not None:  # relative alert files, like the archive, are taken from the config's folder
        for watch in settings.watches:
            for index, notify in enumerate(watch.notify):
                if notify.jsonl not in (None, "-") and not Path(str(notify.jsonl)).is_absolute():
                    watch.notify[index] = notify.model_copy(
                        update={"jsonl": str(base_dir / str(notify.jsonl))}
                    )
    return settings


def load_config(path: Path) -> Settings:
    """Read and validate a config file; every problem is raised together as one :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found (pass -c PATH or set MONITOR_CONFIG)"], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read the file: {exc}"], str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}not valid YAML: {problem}"], str(path)) from None
    try:
        return validate_config(data, base_dir=path.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(exc.problems, str(path)) from None
