"""Keep a project's secret values out of everything the executor emits or logs.

The agent may print a secret (``echo $TOKEN``); its value must still never reach an event,
a log line or an error message.
"""

from __future__ import annotations

from typing import Any, Iterable

MASK = "[redacted]"
# Shorter values ("1", "true", a port) are too common in ordinary text to mask safely.
MIN_SECRET_LENGTH = 6


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def scrub(self, value: Any) -> Any:
        """A copy of a JSON-like value with every secret value masked."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict):
            return {self.scrub(key): self.scrub(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(item) for item in value]
        return value

    def _text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
