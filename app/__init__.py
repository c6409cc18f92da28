"""The application layer: command line, scan command, and the daemon's orchestration."""

__version__ = "1.0.0"
