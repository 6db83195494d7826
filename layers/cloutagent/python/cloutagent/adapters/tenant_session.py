"""AWS clients whose every call is made as one tenant: an STS role session tagged with it.

The executor's task role may do nothing but assume the tenant data role, and only with a
``tenantId`` session tag; that role's policies admit only keys, encryption contexts and object
prefixes naming ``${aws:PrincipalTag/tenantId}`` (infra/constructs/executions.py). So even code
that goes wrong in the executor cannot reach another tenant's items, secrets or transcripts.

Credentials are fetched on first use and refreshed by botocore before they expire, so a run longer
than one session duration keeps working. Locally the role lives in moto, over the same code path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cloutagent.adapters.aws import CONNECTIONS_MAX_RETRIES, client_of, shared_loader
from cloutagent.settings import get_settings

TENANT_TAG = "tenantId"
SESSION_SECONDS = 3600


def tenant_session_request(role_arn: str, tenant_id: str, execution_id: str) -> dict[str, Any]:
    """The AssumeRole arguments: the tenant as a session tag, the execution in the session name."""
    return {
        "RoleArn": role_arn,
        # Names appear in CloudTrail; 64 characters at most, and the execution id says which run.
        "RoleSessionName": f"run-{execution_id}"[:64],
        "DurationSeconds": SESSION_SECONDS,
        "Tags": [{"Key": TENANT_TAG, "Value": tenant_id}],
    }


class NotClaimedYet(RuntimeError):
    """A pool executor's clients were used before a claim named their tenant."""


def tenant_boto3_session(credentials: Any) -> Any:
    """A boto3 session signing with ``credentials``; its clients share the process's loaded models."""
    import boto3
    import botocore.session

    tagged = botocore.session.get_session()
    tagged.register_component("data_loader", shared_loader())
    tagged.set_config_variable("region", get_settings().region)
    tagged._credentials = credentials
    return boto3.session.Session(botocore_session=tagged)


def assume_role_fetcher(role_arn: str, tenant_id: str, execution_id: str) -> Any:
    """Fetches (and refreshes) the tenant's role session with the process's own credentials."""
    import botocore.session
    from botocore.credentials import AssumeRoleCredentialFetcher

    source = botocore.session.get_session()
    source.register_component("data_loader", shared_loader())
    source.set_config_variable("region", get_settings().region)  # STS is regional, like the data
    request = tenant_session_request(role_arn, tenant_id, execution_id)
    return AssumeRoleCredentialFetcher(client_creator=source.create_client,
                                       source_credentials=source.get_credentials(),
                                       role_arn=request.pop("RoleArn"), extra_args=request)


class TenantClients:
    """The same interface as ``cloutagent.adapters.aws`` (what ``Container`` calls), as one tenant.

    A pool executor makes them before it has a tenant (``tenant_id`` None), so that building the
    run's clients costs a warm run nothing; they sign nothing until ``bind`` names the claim's
    tenant, and a call before that fails with ``NotClaimedYet``.
    """

    def __init__(self, role_arn: str, tenant_id: str | None = None, execution_id: str | None = None):
        from botocore.credentials import DeferredRefreshableCredentials

        self.role_arn = role_arn
        self._fetcher: Any = None
        self.session = tenant_boto3_session(
            DeferredRefreshableCredentials(refresh_using=self._fetch_credentials, method="assume-role"))
        self.client = lru_cache(maxsize=None)(self._client)
        if tenant_id is not None:
            self.bind(tenant_id, execution_id or "")

    def bind(self, tenant_id: str, execution_id: str) -> None:
        """From now on every call is made as ``tenant_id``'s role session; once per process."""
        if self._fetcher is not None:
            raise RuntimeError("these clients already belong to a tenant")
        self._fetcher = assume_role_fetcher(self.role_arn, tenant_id, execution_id)

    def _fetch_credentials(self) -> dict[str, Any]:
        if self._fetcher is None:
            raise NotClaimedYet("no claim has named this executor's tenant yet")
        return self._fetcher.fetch_credentials()

    def _client(self, service: str, endpoint_url: str | None = None, max_retries: int = 5) -> Any:
        return client_of(self.session, service, endpoint_url, max_retries)

    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    def credentials(self) -> Any:
        return self.session.get_credentials()

    def connections_api(self) -> Any:
        return self.client("apigatewaymanagementapi", get_settings().connections_url, CONNECTIONS_MAX_RETRIES)
