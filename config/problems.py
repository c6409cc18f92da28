"""A configuration problem: the key, what was given (redacted when secret) and what is allowed."""
from __future__ import annotations

from dataclasses import dataclass

from .values import mask_userinfo

REDACTED = "***"


@dataclass(frozen=True)
class Problem:
    """One invalid setting: the key, the value given and what is allowed."""

    key: str
    value: str
    allowed: str
    secret: bool = False

    def __str__(self) -> str:
        # A URL's user:password@ is a credential even under a key that is not a secret.
        shown = REDACTED if self.secret and self.value else repr(mask_userinfo(self.value))
        return f"{self.key}={shown}: {self.allowed}"


@dataclass(frozen=True)
class FileProblem(Problem):
    """An env file that cannot be used: `key` names the file (and line), never a value."""

    def __str__(self) -> str:
        return f"{self.key}: {self.allowed}"


class ConfigError(Exception):
    """Every configuration problem found, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
