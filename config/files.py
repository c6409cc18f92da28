"""Env files read into raw key -> text, with every problem of the file named by line."""
from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from .file_access import denied, hidden
from .problems import ConfigError, FileProblem, Problem
from .settings import DEFAULT_DATA_DIR, DEFAULT_DOTENV


def _line_key(line: str) -> str:
    """The key a broken .env line seems to set ('' if none), to name it in the problem."""
    m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", line)
    return m.group(1) if m else ""


def _file_text(path: Path) -> tuple[str, list[Problem]]:
    """The file as strict UTF-8 text, or the problem that prevents reading it."""
    try:
        data = path.read_bytes()
    except PermissionError:
        return "", [FileProblem(str(path), "", f"cannot be read ({denied(path)})")]
    except OSError as e:
        return "", [FileProblem(str(path), "", f"cannot be read ({e.strerror or e})")]
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        return "", [FileProblem(f"{path} line {line}", "", "contains a NUL byte: not a text "
                                "file (save it as UTF-8 text, e.g. not as UTF-16)")]
    try:
        return data.decode("utf-8-sig"), []  # a BOM would otherwise become part of the first key
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return "", [FileProblem(f"{path} line {line}", "", "is not UTF-8 text (save it as UTF-8)")]


def _broken_lines(path: Path, text: str) -> tuple[str, list[Problem]]:
    """Lines python-dotenv cannot parse (it would silently drop them, e.g. an unclosed quote),
    and the text with them blanked (line numbers kept), so that they are reported only once."""
    problems: list[Problem] = []
    kept: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.string
        kept.append("\n" * line.count("\n") if binding.error else line)
        if binding.error:
            key = _line_key(line)
            problems.append(FileProblem(
                f"{path} line {binding.original.line}", "",
                f"cannot be parsed{f' (sets {key})' if key else ''}: write KEY=value, and close "
                "every quote on the line it opens"))
    return "".join(kept), problems


def read_dotenv(path: str | os.PathLike) -> tuple[dict[str, str], list[Problem]]:
    """Key -> text from one env file, and every problem of the file (nothing from a bad one)."""
    text, problems = _file_text(Path(path))
    if problems:
        return {}, problems
    text, problems = _broken_lines(Path(path), text)
    values = dotenv_values(stream=io.StringIO(text))
    return {k: v for k, v in values.items() if v is not None}, problems


def _read(env: Mapping[str, str] | None, dotenv_path: str | os.PathLike | None,
          required: bool | None) -> tuple[dict[str, str], list[Problem]]:
    """Raw key -> text (the env file overlaid by the environment) and the file's problems."""
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    if dotenv_path is not None:
        if required is None:  # a file named by the caller must exist; the default may not
            required = os.fspath(dotenv_path) != DEFAULT_DOTENV
        # A directory this user may not enter hides the file: never "no such env file".
        blocked = hidden(Path(dotenv_path))
        if blocked is not None:
            problems = [FileProblem(os.fspath(dotenv_path), "", f"cannot be read ({blocked})")]
        elif Path(dotenv_path).is_file():
            raw, problems = read_dotenv(dotenv_path)
        elif required:
            why = "not a file" if Path(dotenv_path).exists() else "no such env file"
            problems = [FileProblem(os.fspath(dotenv_path), "", why)]
    raw.update(os.environ if env is None else env)
    return raw, problems


def read_environment(env: Mapping[str, str] | None = None,
                     dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV,
                     required: bool | None = None) -> dict[str, str]:
    """Raw key -> text: the .env file (if any) overlaid by the process environment."""
    raw, problems = _read(env, dotenv_path, required)
    if problems:
        raise ConfigError(problems)
    return raw


def read_data_dir(env: Mapping[str, str] | None = None,
                  dotenv_path: str | os.PathLike | None = DEFAULT_DOTENV) -> str:
    """DATA_DIR alone, for a command that reads no other setting (a backtest over the store)."""
    return read_environment(env, dotenv_path).get("DATA_DIR", "").strip() or DEFAULT_DATA_DIR
