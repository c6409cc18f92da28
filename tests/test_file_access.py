"""An unreadable env file is named as such: permission denied, and what blocks it."""
from __future__ import annotations

import os

from tests.unprivileged import REPO, locked_dir, open_tmp, run_python

__all__ = ["open_tmp"]  # the fixture, used by name


def test_a_file_in_a_directory_the_user_may_not_enter_is_permission_denied(open_tmp):
    blocked = locked_dir(open_tmp)
    (open_tmp / "ok.env").write_text("X=1\n")
    if os.geteuid() == 0:
        (blocked / "choch.env").write_text("X=1\n")
    (open_tmp / "ok.env").chmod(0o644)
    code = ("import sys; from config.file_access import unreadable; "
            "print(unreadable(sys.argv[1])); print(unreadable(sys.argv[2])); "
            "print(unreadable(sys.argv[3], missing_ok=True))")
    res = run_python(code, args=[str(blocked / "choch.env"), str(open_tmp / "ok.env"),
                                 str(open_tmp / "absent.env")])
    lines = res.stdout.splitlines()
    assert res.returncode == 0, res.stderr
    assert lines[0].startswith("permission denied") and f"may not enter {blocked}" in lines[0]
    assert "no such file" not in lines[0]
    assert lines[1:] == ["None", "None"]


def test_an_unreadable_file_is_named_with_its_owner_and_mode(open_tmp):
    env = open_tmp / "choch.env"
    env.write_text("X=1\n")
    env.chmod(0o600 if os.geteuid() == 0 else 0o000)
    res = run_python("import sys; from config.file_access import unreadable; "
                     "print(unreadable(sys.argv[1]))", args=[str(env)])
    assert f"may not read {env}" in res.stdout and ("0600" in res.stdout or "0000" in res.stdout)


def test_check_with_an_env_file_it_may_not_read_says_permission_denied_and_exits_2(open_tmp):
    blocked = locked_dir(open_tmp)
    if os.geteuid() == 0:
        (blocked / "choch.env").write_text("SYMBOLS=BTC/USDT\n")
    code = ("import sys; sys.argv = ['main.py', '--env-file', sys.argv[1], 'check']; "
            "import runpy; runpy.run_path('main.py', run_name='__main__')")
    res = run_python(code, cwd=REPO, args=[str(blocked / "choch.env")])
    assert res.returncode == 2, res.stdout + res.stderr
    assert "permission denied" in res.stderr and "no such file" not in res.stderr


def test_the_settings_say_permission_denied_for_an_env_file_behind_a_closed_directory(open_tmp):
    blocked = locked_dir(open_tmp)
    if os.geteuid() == 0:
        (blocked / "choch.env").write_text("SYMBOLS=BTC/USDT\n")
    code = ("import sys; from config import ConfigError, read_environment\n"
            "try:\n    read_environment({}, sys.argv[1])\n"
            "except ConfigError as e:\n    print(e)")
    res = run_python(code, args=[str(blocked / "choch.env")])
    assert "cannot be read (permission denied" in res.stdout, res.stdout + res.stderr
    assert "no such env file" not in res.stdout
