"""EventBridge "ECS Task State Change" (STOPPED): finish executions whose task died silently."""

from cloutagent.observability import logger
from cloutagent.wiring import get_container


def handler(event, context=None):
    detail = event.get("detail") or {}
    if detail.get("lastStatus") != "STOPPED":
        return {"finished": False}
    ids = _execution_ids(detail)
    if not ids:
        logger.info("stopped task without execution ids", extra={"task": detail.get("taskArn")})
        return {"finished": False}
    reason = detail.get("stoppedReason") or "The executor task stopped"
    exit_codes = [c.get("exitCode") for c in detail.get("containers", []) if "exitCode" in c]
    finished = get_container().executions.finish_if_unfinished(
        ids["CLOUTAGENT_TENANT_ID"], ids["CLOUTAGENT_PROJECT_ID"], ids["CLOUTAGENT_EXECUTION_ID"],
        f"{reason} (exit code {exit_codes[0] if exit_codes else 'unknown'})",
    )
    return {"finished": finished}


def _execution_ids(detail: dict) -> dict[str, str] | None:
    wanted = {"CLOUTAGENT_TENANT_ID", "CLOUTAGENT_PROJECT_ID", "CLOUTAGENT_EXECUTION_ID"}
    for override in (detail.get("overrides") or {}).get("containerOverrides", []):
        env = {e["name"]: e["value"] for e in override.get("environment", [])}
        if wanted <= env.keys():
            return env
    return None
