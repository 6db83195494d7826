"""The libraries' log lines (claude_agent_sdk, botocore, urllib3, asyncio, …) as the executor's own:
JSON through the structured logger's handler, each with the execution's keys and its logger's name.

Without this they bypass the structured logger: a library's logger propagates to the root logger,
which has no handler, so Python's last resort prints its warnings to stderr as bare text, saying
neither which run nor which library.
"""

from __future__ import annotations

import logging

from cloutagent.observability import logger

# Libraries' INFO is chatter (botocore logs every credential lookup); their warnings are not.
LIBRARY_LEVEL = logging.WARNING
# The executor's own standard loggers (agent_run.py, outcome.py) keep their INFO.
OWN_PACKAGE = "cloutagent_executor"


def route_library_logs() -> logging.Handler:
    """Give the root logger the structured logger's handler (once): every logger that propagates,
    which is every library's, then writes through it."""
    handler = logger.registered_handler
    # The structured logger writes through that handler already: not a second time through the root.
    logging.getLogger(logger.name).propagate = False
    root = logging.getLogger()
    if handler not in root.handlers:
        root.addHandler(handler)
    root.setLevel(LIBRARY_LEVEL)
    logging.getLogger(OWN_PACKAGE).setLevel(logging.INFO)
    # Which library a line came from: the record's logger (Powertools fills in "%(name)s").
    logger.append_keys(name="%(name)s")
    return handler


def log_as_execution(**keys: str) -> None:
    """The execution's keys on every line from here on, the libraries' included, whatever thread
    or task logs it. Process-wide, not per thread: an executor process serves one execution."""
    logger.append_keys(**keys)
