"""pyproject.toml: the `choch` script runs the same command line as main.py, the version has one
source, and every top-level package and module is packaged."""
from __future__ import annotations

import importlib
import sys
import tomllib

import pytest

import app
from tests.shared_data import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
NOT_PACKAGED = {"tests", "bench", "docsite"}  # checks, measurements, the docs build


def _resolve(target: str):
    """`module:attribute` (an entry point) or `module.attribute` (setuptools' attr)."""
    module, _, name = target.rpartition(":") if ":" in target else target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_choch_script_target_runs_the_command_line(monkeypatch, capsys):
    entry = _resolve(PROJECT["project"]["scripts"]["choch"])
    monkeypatch.setattr(sys, "argv", ["choch", "--version"])
    with pytest.raises(SystemExit) as stopped:
        entry()
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"choch {app.__version__}"


def test_the_package_version_is_app_version():
    assert "version" in PROJECT["project"]["dynamic"]
    version = _resolve(PROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"])
    assert version == app.__version__


def test_the_dependencies_are_the_pinned_runtime_requirements():
    assert "dependencies" in PROJECT["project"]["dynamic"]
    files = PROJECT["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert files == ["requirements.txt"]


def test_every_top_level_package_and_module_is_packaged():
    settings = PROJECT["tool"]["setuptools"]
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()} - NOT_PACKAGED
    modules = {p.stem for p in REPO.glob("*.py")} - {"main"}  # main.py: the checkout's launcher
    assert set(settings["packages"]) == packages
    assert set(settings["py-modules"]) == modules
