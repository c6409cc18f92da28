"""The Dask cluster a sweep may run on: the optional `cluster` extra, imported only when used."""
from __future__ import annotations

import importlib.util
from typing import Any

INSTALL = "pip install .[cluster] (from a checkout: pip install -r requirements-cluster.txt)"


class ClusterUnavailable(ImportError):
    """A sweep was asked to run on a Dask cluster, but dask.distributed is not installed."""


def missing() -> str | None:
    """Why a sweep cannot run on a Dask cluster from this install, or None when it can."""
    absent = [m for m in ("dask", "distributed") if importlib.util.find_spec(m) is None]
    if not absent:
        return None
    return (f"--scheduler runs the sweep on a Dask cluster, which needs the optional 'cluster' "
            f"extra ({' and '.join(absent)} not installed): {INSTALL}")


def client_class() -> Any:
    """dask.distributed.Client; ClusterUnavailable naming the extra when it is not installed."""
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise ClusterUnavailable(missing() or f"dask.distributed cannot be imported ({e}): "
                                 f"{INSTALL}") from e
    return Client
