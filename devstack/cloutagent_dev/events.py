"""Sample events in events/: the same JSON tests load and ``cloutagent invoke`` replays.

Placeholders (``$TENANT_ID``, ``$USER_ID``, ``$ROLE``, ``$CONNECTION_ID``, ``$PROJECT_ID``) are
filled in from the caller's values, so one file serves any tenant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"  # devstack/cloutagent_dev/ -> repository root


def load_event(name_or_path: str, **values: Any) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix != ".json":  # a bare name such as "project.create"
        path = EVENTS_DIR / f"{name_or_path}.json"
    text = path.read_text()
    for key, value in values.items():
        text = text.replace(f"${key.upper()}", str(value))
    return json.loads(text)
