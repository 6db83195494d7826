"""EventBridge "ECS Task State Change" (STOPPED): finish executions whose task died silently.

A cold-started task names its execution in its container overrides. A pool task names none (it
was started before there was a run): its run is the one it recorded itself on as claimer, found
by its task ARN. A pool task that stopped without claiming (idle, scaled in) finds nothing.
"""

from aws_lambda_powertools.logging import correlation_paths

from cloutagent.adapters.ecs_launcher import POOL_STARTED_BY
from cloutagent.observability import lambda_handler, logger
from cloutagent.wiring import get_container


@lambda_handler(correlation_id_path=correlation_paths.EVENT_BRIDGE)
def handler(event, context=None):
    detail = event.get("detail") or {}
    if detail.get("lastStatus") != "STOPPED":
        return {"finished": False}
    reason = detail.get("stoppedReason") or "The executor task stopped"
    exit_codes = [c.get("exitCode") for c in detail.get("containers", []) if "exitCode" in c]
    exit_code = exit_codes[0] if exit_codes else "unknown"
    task_arn = detail.get("taskArn")
    ids = _execution_ids(detail)
    if ids:
        finished = get_container().executions.finish_if_unfinished(
            ids["CLOUTAGENT_TENANT_ID"], ids["CLOUTAGENT_PROJECT_ID"], ids["CLOUTAGENT_EXECUTION_ID"],
            f"{reason} (exit code {exit_code})",
        )
        return {"finished": finished}
    if detail.get("startedBy") != POOL_STARTED_BY or not task_arn:
        logger.info("stopped task without execution ids", extra={"task": task_arn})
        return {"finished": False}
    container = get_container()
    finished = False
    for claim in container.claim_records.claims_of(task_arn):
        logger.info("pool task stopped with a claim", extra={"task": task_arn, "tenant_id": claim.tenant_id,
                                                             "execution_id": claim.execution_id})
        finished = container.executions.finish_if_unfinished(
            claim.tenant_id, claim.project_id, claim.execution_id,
            f"The executor stopped ({reason}, exit code {exit_code}) before finishing",
        ) or finished
    if not finished:
        logger.info("pool task stopped with no unfinished claim", extra={"task": task_arn})
    return {"finished": finished}


def _execution_ids(detail: dict) -> dict[str, str] | None:
    wanted = {"CLOUTAGENT_TENANT_ID", "CLOUTAGENT_PROJECT_ID", "CLOUTAGENT_EXECUTION_ID"}
    for override in (detail.get("overrides") or {}).get("containerOverrides", []):
        env = {e["name"]: e["value"] for e in override.get("environment", [])}
        if wanted <= env.keys():
            return env
    return None
