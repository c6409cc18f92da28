"""The docs site's build-time generators and MkDocs hook (not part of the daemon)."""
