"""Load and validate ``config.yaml`` into typed settings.

Pure apart from reading the one file. Every problem is reported at once, each naming its field path and the
offending value (``sources[3].interval: "10 minutes" is not a duration like 10m, 2h``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from monitor import __version__
from monitor.errors import ConfigError
from monitor.models import Source

DEFAULT_USER_AGENT = f"monitor/{__version__} (+https://github.com/monitor-news/monitor)"

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
    if seconds is None:
        raise ValueError("is not a duration like 10m, 2h")
    if seconds <= 0:
        raise ValueError("must be a positive duration like 10m, 2h")
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
    if size is None:
        raise ValueError("is not a size like 500KB, 10MB")
    if size < 1:
        raise ValueError("must be a positive size like 500KB, 10MB")
    return int(size)


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    user_agent: str = DEFAULT_USER_AGENT
    timeout: Duration = 20.0
    max_bytes: Size = 10_000_000
    allow_private_networks: bool = False
    concurrency: int = Field(default=16, ge=1, le=1000)
    """Global cap on simultaneous requests."""


class DefaultSettings(_Section):
    interval: Duration = 900.0
    fetch_articles: bool = True


class SourceSettings(_Section):
    id: str
    name: str | None = None
    feed: str
    interval: Duration | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    enabled: bool = True
    fetch_articles: bool | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_-]+", value):
            raise ValueError("is not a source id: use lowercase letters, digits, '_' and '-'")
        return value

    @field_validator("feed")
    @classmethod
    def _check_feed(cls, value: str) -> str:
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


class Settings(_Section):
    archive: Path = Path("data/monitor.db")
    http: HttpSettings = Field(default_factory=HttpSettings)
    defaults: DefaultSettings = Field(default_factory=DefaultSettings)
    sources: list[SourceSettings] = Field(default_factory=list)

    def resolved_sources(self) -> list[Source]:
        """The sources with ``defaults`` applied, in config order."""
        return [
            Source(
                id=s.id,
                name=s.name or s.id,
                feed=s.feed,
                interval_s=s.interval if s.interval is not None else self.defaults.interval,
                tags=tuple(s.tags),
                language=s.language,
                enabled=s.enabled,
                fetch_articles=(
                    s.fetch_articles if s.fetch_articles is not None else self.defaults.fetch_articles
                ),
            )
            for s in self.sources
        ]


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
        return f"{path}: {_show(value)} {error['ctx']['error']}"
    if kind == "missing":
        return f"{path}: is required"
    if kind == "extra_forbidden":
        return f"{path}: unknown key (check the spelling; see config.yaml in the repository for every key)"
    return f"{path}: {_show(value)}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def validate_config(data: object, *, base_dir: Path | None = None) -> Settings:
    """Validate already-loaded YAML data; relative ``archive`` paths are taken from ``base_dir``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, source in enumerate(settings.sources):
        if source.id in seen:
            problems.append(
                f"sources[{index}].id: {_show(source.id)} is already used by sources[{seen[source.id]}]"
            )
        seen.setdefault(source.id, index)
    if problems:
        raise ConfigError(problems)
    if base_dir is not None and not settings.archive.is_absolute():
        settings = settings.model_copy(update={"archive": base_dir / settings.archive})
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
