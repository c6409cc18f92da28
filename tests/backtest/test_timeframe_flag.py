"""--timeframe that disagrees with a file's candle spacing is said, not silently used."""
from __future__ import annotations

from app.backtest_inputs import _load

ROWS = "timestamp,open,high,low,close,volume\n" + "".join(
    f"{1_700_000_040_000 + i * 60_000},10,11,9,10.5,1\n" for i in range(5))


def test_a_timeframe_other_than_the_spacing_is_warned_about(tmp_path, capsys):
    path = tmp_path / "X-1m.csv"
    path.write_text(ROWS)
    _, tf_ms, label = _load(str(path), "5m")
    err = capsys.readouterr().err
    assert (tf_ms, label) == (300_000, "5m")
    assert "warning: --timeframe 5m but the candles" in err and "spaced 1m apart" in err


def test_the_same_timeframe_as_the_spacing_says_nothing_more(tmp_path, capsys):
    path = tmp_path / "X-1m.csv"
    path.write_text(ROWS)
    _load(str(path), "1m")
    assert "warning" not in capsys.readouterr().err
