"""Table definitions. Each migration runs once, in order; `PRAGMA user_version` says how far."""
from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE signals (
        id            INTEGER PRIMARY KEY,
        symbol        TEXT NOT NULL,
        timeframe     TEXT NOT NULL,
        params        TEXT NOT NULL,      -- 'L5R5close': the detector parameters
        direction     TEXT NOT NULL,
        pivot_time    INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        level         REAL NOT NULL,
        break_time    INTEGER NOT NULL,
        confirmed_at  INTEGER NOT NULL,
        extreme       REAL NOT NULL,
        close         REAL NOT NULL,
        detected_at   INTEGER NOT NULL,   -- host ms when the daemon recorded it
        catch_up      INTEGER NOT NULL,   -- 1 when found while catching up after downtime
        trade_state   TEXT NOT NULL,      -- pending | done | skipped | not_traded
        trade_note    TEXT,
        UNIQUE (symbol, timeframe, params, direction, pivot_time)
    );
    CREATE INDEX signals_by_time ON signals (confirmed_at);

    CREATE TABLE detectors (
        symbol     TEXT NOT NULL,
        timeframe  TEXT NOT NULL,
        params     TEXT NOT NULL,
        state      TEXT NOT NULL,         -- StructureDetector.to_state() as JSON
        last_ts    INTEGER NOT NULL,      -- open time of the last candle fed
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (symbol, timeframe, params)
    );

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        topic           TEXT NOT NULL,    -- signal | trade | notice
        dedupe_key      TEXT UNIQUE,      -- one row per key, ever (e.g. 'signal:42')
        signal_id       INTEGER REFERENCES signals (id),
        payload         TEXT NOT NULL,    -- JSON
        status          TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed | dropped
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        sent_at         INTEGER,
        error           TEXT
    );
    CREATE INDEX outbox_pending ON outbox (status, id);

    CREATE TABLE order_intents (
        client_id    TEXT PRIMARY KEY,    -- derived from the signal identity: idempotency key
        signal_id    INTEGER REFERENCES signals (id),
        symbol       TEXT NOT NULL,
        role         TEXT NOT NULL,       -- entry | stop | target | close
        side         TEXT NOT NULL,
        quantity     REAL,
        price        REAL,
        -- intended | sent | open | filled | rejected | unknown | cancelled
        status       TEXT NOT NULL,
        exchange_id  TEXT,
        detail       TEXT,                -- JSON
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE INDEX order_intents_by_symbol ON order_intents (symbol, status);

    CREATE TABLE positions (
        id           INTEGER PRIMARY KEY,
        mode         TEXT NOT NULL,       -- paper | demo | live
        symbol       TEXT NOT NULL,
        direction    TEXT NOT NULL,       -- long | short
        quantity     REAL NOT NULL,
        entry_price  REAL NOT NULL,
        stop         REAL,
        target       REAL,
        signal_id    INTEGER REFERENCES signals (id),
        status       TEXT NOT NULL,       -- open | closed
        opened_at    INTEGER NOT NULL,
        closed_at    INTEGER,
        exit_price   REAL,
        pnl          REAL,
        exit_reason  TEXT
    );
    CREATE INDEX positions_open ON positions (status, symbol);

    CREATE TABLE kv (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: every row says which venue it belongs to (rows from before: binance). Signals and
    # detector states are rebuilt because their keys grow a column: the same symbol, timeframe
    # and pivot on two venues are two signals. (Run with foreign keys off: see db.connect.)
    """
    CREATE TABLE signals_v2 (
        id            INTEGER PRIMARY KEY,
        venue         TEXT NOT NULL,      -- the data venue: exchanges.registry name
        symbol        TEXT NOT NULL,
        timeframe     TEXT NOT NULL,
        params        TEXT NOT NULL,
        direction     TEXT NOT NULL,
        pivot_time    INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        level         REAL NOT NULL,
        break_time    INTEGER NOT NULL,
        confirmed_at  INTEGER NOT NULL,
        extreme       REAL NOT NULL,
        close         REAL NOT NULL,
        detected_at   INTEGER NOT NULL,
        catch_up      INTEGER NOT NULL,
        trade_state   TEXT NOT NULL,
        trade_note    TEXT,
        UNIQUE (venue, symbol, timeframe, params, direction, pivot_time)
    );
    INSERT INTO signals_v2 (id, venue, symbol, timeframe, params, direction, pivot_time, kind,
                            level, break_time, confirmed_at, extreme, close, detected_at,
                            catch_up, trade_state, trade_note)
        SELECT id, 'binance', symbol, timeframe, params, direction, pivot_time, kind, level,
               break_time, confirmed_at, extreme, close, detected_at, catch_up, trade_state,
               trade_note FROM signals;
    DROP TABLE signals;
    ALTER TABLE signals_v2 RENAME TO signals;
    CREATE INDEX signals_by_time ON signals (confirmed_at);

    CREATE TABLE detectors_v2 (
        venue      TEXT NOT NULL,
        symbol     TEXT NOT NULL,
        timeframe  TEXT NOT NULL,
        params     TEXT NOT NULL,
        state      TEXT NOT NULL,
        last_ts    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (venue, symbol, timeframe, params)
    );
    INSERT INTO detectors_v2 (venue, symbol, timeframe, params, state, last_ts, updated_at)
        SELECT 'binance', symbol, timeframe, params, state, last_ts, updated_at FROM detectors;
    DROP TABLE detectors;
    ALTER TABLE detectors_v2 RENAME TO detectors;

    -- The trading venue of an order and of a position.
    ALTER TABLE order_intents ADD COLUMN venue TEXT NOT NULL DEFAULT 'binance';
    ALTER TABLE positions ADD COLUMN venue TEXT NOT NULL DEFAULT 'binance';
    """,
]
