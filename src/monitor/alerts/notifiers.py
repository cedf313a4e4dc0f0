"""Notifiers: jsonl (a file or stdout), webhook (signed JSON POST through the fetcher), email (SMTP).

Each takes a batch of alerts for one channel and raises :class:`NotifyError` when it could not deliver;
delivery (``monitor.alerts.delivery``) records the outcome and retries with backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

from monitor.config import NotifySettings, Settings, SmtpSettings
from monitor.errors import FetchError, MonitorError
from monitor.fetch import Fetcher
from monitor.models import Alert, Watch


class NotifyError(MonitorError):
    pass


def resolve_watches(settings: Settings) -> list[Watch]:
    return [
        Watch(
            id=w.id,
            query=w.query,
            sources=tuple(w.sources),
            tags=tuple(w.tags),
            languages=tuple(w.languages),
            channels=tuple(n.channel() for n in w.notify),
        )
        for w in settings.watches
    ]


def signature(body: bytes, secret: str) -> str:
    """``X-Monitor-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Notifiers:
    """The notifiers of every configured channel, by channel name."""

    def __init__(self, settings: Settings, fetcher: Fetcher | None, *, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.base_dir = base_dir or Path.cwd()
        self.options: dict[str, NotifySettings] = {n.channel(): n for w in settings.watches for n in w.notify}

    def digest_s(self, channel: str) -> float | None:
        option = self.options.get(channel)
        return option.digest if option else None

    async def send(self, channel: str, alerts: list[Alert]) -> None:
        option = self.options.get(channel)
        if option is None:
            raise NotifyError(f"alerts: channel {channel} is no longer configured")
        if option.jsonl is not None:
            self._jsonl(option.jsonl, alerts)
        elif option.webhook is not None:
            await self._webhook(option, alerts)
        elif option.email is not None:
            await asyncio.to_thread(self._email, option, alerts)

    def _jsonl(self, target: str, alerts: list[Alert]) -> None:
        lines = "".join(json.dumps(alert.payload(), ensure_ascii=False) + "\n" for alert in alerts)
        if target == "-":
            sys.stdout.write(lines)
            sys.stdout.flush()
            return
        path = Path(target) if Path(target).is_absolute() else self.base_dir / target
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise NotifyError(f"alerts: cannot append to {path}: {exc}") from None

    async def _webhook(self, option: NotifySettings, alerts: list[Alert]) -> None:
        assert option.webhook is not None
        if self.fetcher is None:
            raise NotifyError("alerts: no HTTP client for webhooks")
        secret = os.environ.get(option.secret_env) if option.secret_env else None
        if option.secret_env and not secret:
            raise NotifyError(
                f"alerts: environment variable {option.secret_env} (the webhook secret) is not set"
            )
        for alert in alerts:
            body = json.dumps(alert.payload(), ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Monitor-Signature"] = signature(body, secret)
            try:
                await self.fetcher.post(option.webhook, body, headers=headers)
            except FetchError as exc:
                raise NotifyError(f"alerts: webhook failed: {exc}") from None

    def _email(self, option: NotifySettings, alerts: list[Alert]) -> None:
        smtp = self.settings.smtp
        assert smtp is not None and option.email is not None
        message = EmailMessage()
        message["From"] = smtp.from_
        message["To"] = option.email
        watches = sorted({alert.watch for alert in alerts})
        if len(alerts) == 1:
            message["Subject"] = f"[monitor] {alerts[0].watch}: {alerts[0].title or alerts[0].url}"
        else:
            message["Subject"] = f"[monitor] {len(alerts)} new matches for {', '.join(watches)}"
        message.set_content("\n\n".join(_plain(alert) for alert in alerts) + "\n")
        try:
            _send_mail(smtp, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(
                f"alerts: email to {option.email} failed: {type(exc).__name__}: {exc}"
            ) from None


def _plain(alert: Alert) -> str:
    return (
        f"{alert.title or '(untitled)'}\n{alert.source}, {alert.published_at or 'time unknown'}"
        f" (watch {alert.watch})\n{alert.snippet}\n{alert.url}"
    )


def _send_mail(smtp: SmtpSettings, message: EmailMessage) -> None:
    user = os.environ.get(smtp.user_env) if smtp.user_env else None
    password = os.environ.get(smtp.password_env) if smtp.password_env else None
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        client.ehlo()
        if smtp.starttls and client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        if user and password:
            client.login(user, password)
        client.send_message(message)
