"""Logger, metrics and tracer: one of each per process, configured by Powertools' env vars."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="cloutagent")
metrics = Metrics(namespace="cloutagent", service="cloutagent")
