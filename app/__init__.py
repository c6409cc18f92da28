"""The application layer: command line, scan command, and (later) the daemon's orchestration."""
