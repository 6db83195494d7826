"""POST /v1/hooks/{provider}/{tenantId}/{projectId} (HTTP API): a GitHub or GitLab delivery, checked
against the project's trigger secret on the raw body; a trusted comment naming the trigger word starts a run."""

from cloutagent.gateway.http import HttpRequest, http_app
from cloutagent.wiring import get_container


@http_app
def handler(request: HttpRequest, context=None):
    where = request.path_parameters
    return get_container().triggers.receive(where.get("provider", ""), where.get("tenantId", ""),
                                            where.get("projectId", ""), request.headers, request.body)
