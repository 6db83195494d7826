"""The run start timeline: one log line, at the model's first output, with each step's end."""

from __future__ import annotations

import time

from cloutagent_executor import timeline


def _timelines(caplog):
    return [r.ms for r in caplog.records if r.getMessage() == "run start timeline"]


def test_the_timeline_is_logged_once_with_every_step_in_order_from_the_claim(caplog):
    time.sleep(0.02)  # waiting for a claim is not part of the start
    timeline.restart()
    timeline.mark("claimed")
    timeline.mark("run begun")
    time.sleep(0.01)
    timeline.mark("run begun")  # a step's first end counts
    timeline.report_once("model's first output")
    timeline.report_once("model's first output")

    (logged,) = _timelines(caplog)
    assert list(logged) == ["claimed", "run begun", "model's first output"]
    assert 0 <= logged["claimed"] <= logged["run begun"] < 10 <= logged["model's first output"] < 1000
