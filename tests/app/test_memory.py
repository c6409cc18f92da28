"""The pinned mmap threshold: large blocks keep getting their own mapping after a big free."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Frees a 4 MB block (glibc then raises its threshold above 1 MB unless pinned), allocates 1 MB
# and reports whether that block got its own mapping (mallinfo2's hblks went up).
PROBE = """
    import ctypes, json, sys
    from app.memory import pin_mmap_threshold
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Info
    pinned = pin_mmap_threshold() if sys.argv[1] == "pin" else False
    big = bytearray(4 << 20); del big
    before = libc.mallinfo2().hblks
    block = bytearray(1 << 20)
    print(json.dumps({"pinned": pinned, "mapped": libc.mallinfo2().hblks - before}))
"""


def _probe(mode: str, **env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE), mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(autouse=True)
def _glibc_only():
    try:
        import ctypes
        ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")


def test_pinned_threshold_maps_large_blocks_after_a_bigger_free():
    assert _probe("pin") == {"pinned": True, "mapped": 1}


def test_without_it_glibc_serves_the_block_from_the_heap():
    # The behaviour the pin exists to avoid; if glibc stops doing this, the pin is moot.
    assert _probe("none") == {"pinned": False, "mapped": 0}


def test_an_operator_setting_wins():
    assert _probe("pin", MALLOC_MMAP_THRESHOLD_="65536")["pinned"] is False


def test_freezing_keeps_live_objects_out_of_full_collections_but_not_garbage():
    import gc
    import weakref

    from app.memory import freeze_startup_objects

    class Node:
        pass

    garbage = Node()
    garbage.self = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(10)]
    before = gc.get_freeze_count()
    freeze_startup_objects()
    assert gone() is None  # collected first, not frozen
    assert gc.get_freeze_count() >= before + len(kept)
