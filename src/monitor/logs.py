"""Logging setup: human-readable lines by default, JSON lines for log shippers, secrets redacted.

Messages carry their context as ``key=value`` pairs (``source=``, ``url=``); the JSON form lifts those into
fields. Every record passes a redaction filter first: credentials in URLs (``https://user:pass@host``) and
the values of secret environment variables named in the config never reach a log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]+)(?P<password>:[^/\s@]*)?@"
)
_NAMED_USERS = ("postgresql://", "postgres://")
"""Schemes whose user name is an account, shown as ``PostgresURL.display`` shows it (``user:***@``); any
other URL's user part may be a token (``https://TOKEN@host``) and is hidden whole."""
_PASSWORD_PARAMETER = re.compile(r"(?i)(?P<key>[?&]password=)[^&\s#]+")
_PAIR = re.compile(r"(?P<key>[a-z_]+)=(?P<value>\S+)")
NOISY = ("httpx", "httpcore", "apscheduler", "trafilatura", "htmldate", "charset_normalizer", "courlan")


def redact_credentials(text: str) -> str:
    """``scheme://user:password@host`` -> ``scheme://***@host`` (``postgresql://user:***@host``: a database
    account's name is no secret, and `PostgresURL.display` shows it) and ``?password=x`` ->
    ``?password=***``, anywhere in ``text``."""
    text = _URL_CREDENTIALS.sub(_hidden, text)
    return _PASSWORD_PARAMETER.sub(r"\g<key>***", text)


def _hidden(match: re.Match[str]) -> str:
    scheme = match["scheme"]
    if scheme.lower() in _NAMED_USERS:
        return f"{scheme}{match['user']}{':***' if match['password'] is not None else ''}@"
    return f"{scheme}***@"


class Redactor(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret and len(secret) >= 4]

    def redact(self, text: str) -> str:
        text = redact_credentials(text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(message), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        for match in _PAIR.finditer(message):
            entry.setdefault(match.group("key"), match.group("value"))
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    *, level: int, json_lines: bool, secrets: Iterable[str] = (), verbose_libraries: bool = False
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(Redactor(secrets))
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%dT%H:%M:%S")
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose_libraries else logging.WARNING)


def add_secrets(secrets: Iterable[str]) -> None:
    """Redact these values too, from now on (the config names them only after logging is set up)."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, Redactor):
                log_filter.secrets.extend(
                    s for s in secrets if s and len(s) >= 4 and s not in log_filter.secrets
                )
