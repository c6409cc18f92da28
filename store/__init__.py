"""The daemon's durable state in SQLite: signals, detector states, the alert outbox, orders."""
from .db import Store, connect
from .health import StateDbError, check_state_db
from .lock import StateDbBusy, StateLock, open_exclusive
from .outbox import OutboxRow
from .signals import NewSignal, SignalRow, event_identity

__all__ = ["NewSignal", "OutboxRow", "SignalRow", "StateDbBusy", "StateDbError", "StateLock",
           "Store", "check_state_db", "connect", "event_identity", "open_exclusive"]
