"""Run a prompt and print what the agent says, from a plain script (docs/clients.md).

    CLOUTAGENT_URL=wss://… CLOUTAGENT_API_KEY=cla_… python sync_run.py PROJECT "Add a README"

``make test`` runs it against the local stack and type-checks it with mypy --strict.
"""

from __future__ import annotations

import sys

from cloutagent_client import SyncClient
from cloutagent_client.types import Execution, Project


def run(project_ref: str, prompt: str) -> str:
    """The run's final status, after printing the agent's text as it comes."""
    with SyncClient() as client:
        project: Project = client.find_project(project_ref)
        with client.subscribe(project["projectId"]) as events:
            execution: Execution = client.execute(project["projectId"], prompt)
            for event in events:
                data = event["data"]
                if event["event"] == "execution.message" and data.get("kind") == "text":
                    print(data["text"], flush=True)
                if event["event"] == "execution.finished" and data["executionId"] == execution["executionId"]:
                    return str(data["status"])
    return "unknown"


if __name__ == "__main__":
    status = run(sys.argv[1], sys.argv[2])
    print(status)
    sys.exit(0 if status == "completed" else 1)
