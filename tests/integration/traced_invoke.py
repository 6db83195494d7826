"""Invoke one handler the way Lambda does, with X-Ray on, and write the segments it emitted.

Run in its own interpreter (``python -m tests.integration.traced_invoke <function> <event.json>
<segments.jsonl>``) with Lambda's variables set, so X-Ray's recorder is built for Lambda at import
as it is there, and patching botocore touches no other test's process. The emitter is the one
thing replaced: it writes each entity it is given instead of sending it to the daemon's UDP port.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:traced"


class FileEmitter:
    """aws_xray_sdk's emitter interface (``send_entity``, ``set_daemon_address``), into a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send_entity(self, entity) -> None:
        with self.path.open("a") as fh:
            fh.write(entity.serialize() + "\n")

    def set_daemon_address(self, address) -> None:
        pass


def main(function: str, event_path: str, segments_path: str) -> None:
    from aws_xray_sdk.core import xray_recorder

    xray_recorder.configure(emitter=FileEmitter(Path(segments_path)))
    module = importlib.import_module(f"functions.{function}.handler")
    event = json.loads(Path(event_path).read_text())
    reply = module.handler(event, LambdaContext(function_name=f"cloutagent-{function}"))
    print(json.dumps({"reply": reply}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
