"""Watches and alerts: matches recorded by the store are delivered here, at least once, by notifiers."""

from monitor.alerts.delivery import deliver_pending
from monitor.alerts.notifiers import Notifiers, resolve_watches

__all__ = ["Notifiers", "deliver_pending", "resolve_watches"]
