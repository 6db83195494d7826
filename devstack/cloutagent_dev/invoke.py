"""``cloutagent invoke <function> --event events/x.json``: one handler, against the running local
stack, like ``sam local invoke``. Placeholders in the event are filled with the dev identity."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def invoke(function: str, event_path: str, ready_file: str, values: dict[str, str] | None = None) -> int:
    from cloutagent_dev.events import load_event
    from cloutagent_dev.lambdas import Invoker
    from cloutagent_dev.stack import apply_environment, join_environment

    ready_path = Path(ready_file)
    if not ready_path.exists():
        print(f"cloutagent invoke: no running stack ({ready_file} not found); start one with `make dev`", file=sys.stderr)
        return 2
    ready = json.loads(ready_path.read_text())
    apply_environment(join_environment(ready))
    fills = {"tenant_id": ready["tenantId"], "user_id": ready["userId"], "role": "owner", "token": ready["token"],
             "connection_id": "cli-invoke", "project_id": "", "execution_id": "", **(values or {})}
    event = load_event(event_path, **fills)
    try:
        result = Invoker(max_workers=4).invoke_sync(function, event)
    except KeyError:
        print(f"cloutagent invoke: unknown function '{function}'", file=sys.stderr)
        return 2
    except Exception as exc:  # the authorizer refuses by raising, as in Lambda
        print(json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}, indent=2))
        return 1
    print(json.dumps(result, indent=2))
    return 0
