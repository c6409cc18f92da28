"""The Dask cluster is an optional extra: without it a --scheduler sweep stops at once, naming
`pip install .[cluster]`; the runtime requirements do not carry it."""
from __future__ import annotations

import builtins
import tomllib
from pathlib import Path

import pytest

from backtest import cluster, sweep

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv"


@pytest.fixture
def no_dask(monkeypatch):
    """This process as if dask and distributed were not installed."""
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    monkeypatch.setattr(cluster.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("dask", "distributed") else object())


def test_with_the_extra_installed_nothing_is_missing():
    assert cluster.missing() is None
    assert cluster.client_class().__module__.startswith("distributed")


def test_without_it_the_client_import_names_the_extra(no_dask):
    assert "pip install .[cluster]" in cluster.missing()
    with pytest.raises(cluster.ClusterUnavailable, match=r"pip install \.\[cluster\]"):
        sweep.run_sweep([], [], None, scheduler="tcp://127.0.0.1:1")


def test_without_it_a_scheduler_sweep_exits_2_before_reading_any_candles(no_dask, monkeypatch,
                                                                          capsys):
    from app import backtest_inputs
    from app.cli import main as cli_main

    loaded: list[str] = []
    monkeypatch.setattr(backtest_inputs, "_load", lambda *a, **k: loaded.append("x") or 1 / 0)
    status = cli_main(["backtest", "--csv", str(SAMPLE), "--grid", "left=3,5",
                       "--scheduler", "tcp://127.0.0.1:8786"])
    err = capsys.readouterr().err
    assert status == 2 and loaded == []
    assert "optional 'cluster' extra (dask and distributed not installed)" in err
    assert "pip install .[cluster]" in err


def test_a_local_sweep_does_not_need_the_extra(no_dask, capsys):
    from app.cli import main as cli_main

    assert cli_main(["backtest", "--csv", str(SAMPLE), "--grid", "risk_reward=2",
                     "--jobs", "1"]) == 0


def _pins(name: str) -> list[str]:
    lines = (REPO / name).read_text().splitlines()
    return [ln.split("==")[0] for ln in lines if ln and not ln.startswith(("#", "-r"))]


def test_the_runtime_requirements_leave_dask_to_the_cluster_extra():
    assert not [p for p in _pins("requirements.txt") if p.startswith(("dask", "distributed"))]
    assert _pins("requirements-cluster.txt") == ["dask[distributed]", "distributed"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = project["tool"]["setuptools"]["dynamic"]["optional-dependencies"]
    assert extras == {"cluster": {"file": ["requirements-cluster.txt"]}}
    assert "-r requirements-cluster.txt" in (REPO / "requirements-dev.txt").read_text()
