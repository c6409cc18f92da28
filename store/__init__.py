"""The daemon's durable state in SQLite: signals, detector states, the alert outbox, orders."""
from .db import Store, connect
from .outbox import OutboxRow
from .signals import NewSignal, SignalRow, event_identity

__all__ = ["NewSignal", "OutboxRow", "SignalRow", "Store", "connect", "event_identity"]
