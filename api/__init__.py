"""The optional HTTP server on the daemon's loop: read-only JSON API, control, dashboard, metrics.

Nothing here imports app/: the daemon hands in a DaemonView (and DaemonControls when control is
enabled) and a Metrics object, and starts/stops an ApiServer.
"""
from .metrics import Metrics
from .server import ApiConfig, ApiServer, create_app
from .state import DaemonControls, DaemonView

__all__ = ["ApiConfig", "ApiServer", "DaemonControls", "DaemonView", "Metrics", "create_app"]
