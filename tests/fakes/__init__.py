"""Local fake servers that answer like the real services (used by the tests and bench/)."""
