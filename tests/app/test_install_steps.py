"""The systemd install steps of docs/systemd.md, run as written with a throwaway service user."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest

from tests.unprivileged import REPO, open_tmp

__all__ = ["open_tmp"]  # the fixture, used by name

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("useradd", "userdel", "runuser")),
    reason="needs root with useradd, userdel and runuser (as the install steps do)")]


def install_steps() -> list[str]:
    """The shell lines of the 'Install' block of docs/systemd.md."""
    text = (REPO / "docs" / "systemd.md").read_text()
    block = re.search(r"## Install\n\nAs root:\n```sh\n(.*?)```", text, re.S)
    assert block, "docs/systemd.md: the 'Install' block (as root) is gone"
    return block.group(1).strip().splitlines()


def adapt(lines: list[str], root: Path, user: str, data_url: str,
          python: str = sys.executable) -> str:
    """The steps with paths under root, the throwaway user, this checkout as /opt/choch, the
    editor step writing a test config, and the systemd lines left out (no systemd here)."""
    out = []
    for line in lines:
        if line.startswith("git clone"):
            out.append(f"cd {REPO}")
            continue
        if "systemctl" in line:
            continue
        if line.startswith("$EDITOR"):
            out.append(f"printf 'BINANCE_DATA_URL={data_url}\\nSYMBOLS=BTC/USDT\\n"
                       f"TIMEFRAMES=1m\\nWARMUP_BARS=60\\n' >> /etc/choch/choch.env")
        else:
            out.append(line.split("  #")[0].rstrip())
    script = "\n".join(out)
    script = re.sub(r"(?<![\w./-])choch(?![\w./-])", user, script)  # the user, not the paths
    for path in ("/etc/choch", "/var/lib/choch"):
        script = script.replace(path, f"{root}{path}")
    return script.replace(".venv/bin/python", python)


@pytest.fixture
def service_user():
    name = f"chk{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["userdel", name], capture_output=True)


def _runs_for_others(python: str) -> bool:
    return subprocess.run(["runuser", "-u", "nobody", "--", python, "-c", "import app, ccxt"],
                          cwd=REPO, capture_output=True).returncode == 0


def python_for_others(scratch: Path) -> str:
    """An interpreter with the project's packages that other users may run: this one, or (when
    it lives in root's home, as pyenv's does) a venv of the system Python of the same version
    that reads this venv's site-packages."""
    if _runs_for_others(sys.executable):
        return sys.executable
    system = shutil.which("python3", path="/usr/bin:/bin")
    version = "{}.{}".format(*sys.version_info[:2])
    if system is None or subprocess.run(
            [system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True).stdout.strip() != version:
        pytest.skip(f"{sys.executable} is not runnable by other users, no system Python {version}")
    venv = scratch / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "project.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = str(venv / "bin/python")
    if not _runs_for_others(python):
        pytest.skip("this checkout or its venv is not readable by other users")
    return python


async def test_the_documented_install_steps_pass_check_as_the_service_user(
        fake, open_tmp, service_user):
    python = python_for_others(open_tmp)
    script = adapt(install_steps(), open_tmp, service_user, fake.url, python)
    proc = await asyncio.create_subprocess_exec(  # the fake serves from this test's loop
        "bash", "-euo", "pipefail", "-c", script, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 120))
    assert proc.returncode == 0, f"{script}\n---\n{out}\n{err}"
    assert "configuration: ok" in out and "FAIL" not in out and "ok   state DB" in out
    env_file = open_tmp / "etc/choch/choch.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o640"


def test_the_steps_are_adapted_without_touching_the_paths():
    script = adapt(["install -d -m 0750 -g choch /etc/choch && install -m 0640 -g choch "
                    ".env.example /etc/choch/choch.env",
                    "runuser -u choch -- env STATE_DIRECTORY=/var/lib/choch .venv/bin/python "
                    "main.py --env-file /etc/choch/choch.env check"],
                   Path("/r"), "u1", "http://x")
    assert "-g u1 /r/etc/choch &&" in script and "/r/etc/choch/choch.env" in script
    assert "runuser -u u1 -- env STATE_DIRECTORY=/r/var/lib/choch" in script
