"""The libraries' log lines in the executor are structured lines with the execution's keys.

Each case runs in its own interpreter, as the executor does: routing takes over the root logger,
which this test process's other tests (and pytest's own capture) must keep.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio, logging, threading
    from cloutagent_executor.logs import log_as_execution, route_library_logs

    route_library_logs()
    log_as_execution(tenant_id="t_1", project_id="p_1", execution_id="x_1")
    # from another thread, as the SDK's reader and botocore's pools log
    worker = threading.Thread(target=lambda: logging.getLogger("claude_agent_sdk._internal.query").warning(
        "the CLI wrote %d bytes to stderr", 12))
    worker.start(); worker.join()
    logging.getLogger("urllib3.connectionpool").warning("Connection pool is full, discarding connection")
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
    logging.getLogger("cloutagent_executor.agent_run").info("the agent's own info")
    async def main():
        logging.getLogger("asyncio").warning("Executing a task took 0.2 seconds")
    asyncio.run(main())
    from cloutagent.observability import logger
    logger.info("the platform's own line")
""")


def _lines() -> tuple[list[dict], str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")], done.stderr


def test_library_warnings_are_json_lines_with_the_execution_s_keys_from_any_thread():
    # GIVEN an executor that routed the libraries' logs and knows its execution
    # WHEN claude_agent_sdk (from another thread), urllib3 and asyncio warn
    lines, stderr = _lines()
    by_logger = {line["name"]: line for line in lines}

    # THEN each is a structured line on stdout naming its library and the execution
    for name in ("claude_agent_sdk._internal.query", "urllib3.connectionpool", "asyncio"):
        line = by_logger[name]
        assert line["level"] == "WARNING"
        assert (line["tenant_id"], line["project_id"], line["execution_id"]) == ("t_1", "p_1", "x_1"), line
    assert by_logger["claude_agent_sdk._internal.query"]["message"] == "the CLI wrote 12 bytes to stderr"
    # AND nothing leaks out as bare text on stderr (Python's last resort)
    assert "Connection pool is full" not in stderr


def test_library_chatter_stays_out_while_the_executor_s_own_info_and_the_platform_s_lines_stay_in():
    lines, _ = _lines()
    messages = {line["message"]: line for line in lines}
    assert "Found credentials in environment variables." not in messages  # botocore's INFO
    assert messages["the agent's own info"]["execution_id"] == "x_1"
    own = messages["the platform's own line"]
    assert own["execution_id"] == "x_1" and own["name"] == "cloutagent"
    # written once: the structured logger does not also propagate to the root's handler
    assert sum(1 for line in lines if line["message"] == "the platform's own line") == 1
