"""The command line: help that says what each command does, --version, --env-file."""
from __future__ import annotations

import pytest

import app
from app.cli import main


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    """No setting from the test runner's environment; the working directory is empty."""
    for key in ("LEVERAGE", "PIVOT_RIGHT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def _exit(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def test_version_prints_the_package_version(capsys):
    code, out, _ = _exit(["--version"], capsys)
    assert code == 0 and out.strip() == f"main.py {app.__version__}"


@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_help_describe_the_command_its_exit_codes_and_the_env_file(
        command, capsys):
    code, out, _ = _exit([command, "--help"], capsys)
    assert code == 0
    description = out.split("\n\n")[1]  # usage, blank line, then the description
    assert len(description) > 200 and "--env-file" in description
    statuses = [line.split()[0] for line in out.splitlines() if line.startswith("  ")
                and line.split()[0].isdigit()]
    assert statuses == (["0", "1", "2", "130"] if command == "run" else ["0", "1", "2"])


@pytest.mark.parametrize("argv", [["--env-file", "missing.env", "check"],
                                  ["run", "--env-file", "missing.env"]])
def test_an_env_file_given_but_missing_is_a_usage_error_naming_it(argv, capsys):
    code, _, err = _exit(argv, capsys)
    assert code == 2 and "--env-file missing.env: no such file" in err


def test_the_env_file_given_is_read_instead_of_dot_env(tmp_path, capsys):
    (tmp_path / ".env").write_text("LEVERAGE=900\n")
    (tmp_path / "other.env").write_text("PIVOT_RIGHT=0\n")
    code, _, err = _exit(["--env-file", "other.env", "check"], capsys)
    assert code == 2 and "PIVOT_RIGHT" in err and "LEVERAGE" not in err
    code, _, err = _exit(["check"], capsys)  # without the flag: ./.env, as before
    assert code == 2 and "LEVERAGE" in err and "PIVOT_RIGHT" not in err


def test_a_look_alike_key_in_the_env_file_is_warned_about_before_the_command_runs(
        tmp_path, capsys):
    from app import cli

    (tmp_path / ".env").write_text("ENABLE_TRADNG=1\n")
    settings = cli.load_settings_or_exit(".env")
    _, err = capsys.readouterr()
    assert settings.enable_trading is False
    assert "ENABLE_TRADNG" in err and "ENABLE_TRADING" in err
