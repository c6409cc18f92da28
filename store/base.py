"""What the Store's mixins share, declared once so that each mixin is type-checked against the
Store it is mixed into (the connection is opened by Store.__init__)."""
from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any


class StoreBase:
    """The connection and the steps one mixin calls in another (declarations only)."""

    conn: sqlite3.Connection

    # Declared for the type checker only: defined at run time, these stubs would shadow the
    # real methods of Store and of the mixins that come later in its MRO.
    if TYPE_CHECKING:
        def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def enqueue(self, topic: str, payload: dict[str, Any], now_ms: int, *,
                    dedupe_key: str | None = None,
                    signal_id: int | None = None) -> int | None: ...
