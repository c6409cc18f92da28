"""Telegram alerts and commands: outbox delivery, alert texts, charts, the command channel."""
from .commands import CommandChannel, Controller
from .delivery import OutboxDelivery
from .notifiers import (
                        ConsoleNotifier,
                        DeliveryError,
                        Notifier,
                        Permanent,
                        RateLimited,
                        TelegramNotifier,
                        Transient,
                        notifier_for,
)
from .payload import signal_payload

__all__ = ["CommandChannel", "ConsoleNotifier", "Controller", "DeliveryError", "Notifier",
           "OutboxDelivery", "Permanent", "RateLimited", "TelegramNotifier", "Transient",
           "notifier_for", "signal_payload"]
