"""Builds the object graph lazily, once per process. Tests build their own Container."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from typing import Any

from cloutagent.settings import Settings, get_settings

FANOUT_THREADS = 32
WEBHOOK_THREADS = 10  # the notifier's stream batch size (infra/constructs/notifications.py)


class Container:
    def __init__(self, settings: Settings | None = None, clients: Any = None, *, launcher: Any = None):
        self.settings = settings or get_settings()
        self._launcher = launcher
        if clients is None:
            from cloutagent.adapters import aws as clients
        self.clients = clients

    # -- adapters ----------------------------------------------------------------------------
    @cached_property
    def table(self):
        from cloutagent.adapters.dynamo.table import Table

        return Table(self.clients.dynamodb(), self.settings.table_name)

    @cached_property
    def event_log(self):
        from cloutagent.adapters.dynamo.events import DynamoEventLog

        return DynamoEventLog(self.table, self.settings.event_retention_days, self.settings.seq_contention_seconds)

    @cached_property
    def rate_limiter(self):
        from cloutagent.adapters.dynamo.rate_counter import DynamoRateCounter
        from cloutagent.services.rate_limits import RateLimiter

        from cloutagent.settings import get_settings

        return RateLimiter(DynamoRateCounter(self.table), self.licenses,
                           scale=lambda: get_settings().rate_limit_scale)

    @cached_property
    def project_store(self):
        from cloutagent.adapters.dynamo.projects import DynamoProjectStore

        return DynamoProjectStore(self.table, self.event_log)

    @cached_property
    def room_store(self):
        from cloutagent.adapters.dynamo.rooms import DynamoRoomStore

        return DynamoRoomStore(self.table, self.settings.connection_ttl_seconds)

    @cached_property
    def access_store(self):
        from cloutagent.adapters.dynamo.access import DynamoAccessStore

        return DynamoAccessStore(self.table)

    @cached_property
    def audit(self):
        from cloutagent.adapters.dynamo.audit import DynamoAuditStore
        from cloutagent.services.audit import AuditLog

        return AuditLog(DynamoAuditStore(self.table),
                        retention_days=lambda tenant_id: self.licenses.standing(tenant_id).entitlements.audit_retention_days)

    @cached_property
    def execution_store(self):
        from cloutagent.adapters.dynamo.executions import DynamoExecutionStore

        return DynamoExecutionStore(self.table)

    @cached_property
    def steering_store(self):
        from cloutagent.adapters.dynamo.steering import DynamoSteering

        return DynamoSteering(self.table)

    @cached_property
    def launcher(self):
        """The injected launcher (the local stack's child processes), else ECS RunTask."""
        if self._launcher is not None:
            return self._launcher
        from cloutagent.adapters.ecs_launcher import EcsLauncher

        pooled = self.claim_queue is not None
        return EcsLauncher(self.clients.client("ecs"), self.settings, claims=self.claim_queue,
                           claimers=self.claim_records if pooled else None)

    @cached_property
    def claim_queue(self):
        """Where pooled launches send their claims; None without a pool (every run cold-starts)."""
        if not (self.settings.executor_pool_size and self.settings.claim_queue_url):
            return None
        from cloutagent.adapters.claims import SqsClaimQueue

        return SqsClaimQueue(self.clients.client("sqs"), self.settings.claim_queue_url)

    @cached_property
    def claim_records(self):
        from cloutagent.adapters.claims import ClaimRecords

        return ClaimRecords(self.table)

    @cached_property
    def secret_store(self):
        from cloutagent.adapters.dynamo.secrets import DynamoSecretStore

        return DynamoSecretStore(self.table)

    @cached_property
    def secret_cipher(self):
        from cloutagent.adapters.kms_secrets import KmsSecretCipher

        return KmsSecretCipher(self.clients.client("kms"), self.settings.kms_key_id)

    @cached_property
    def platform_secrets(self):
        from cloutagent.adapters.platform_secrets import SecretsManagerPlatformSecrets

        return SecretsManagerPlatformSecrets(self.clients.client("secretsmanager"))

    @cached_property
    def sockets(self):
        """API Gateway's @connections API: posts frames to, and closes, WebSocket connections."""
        from cloutagent.adapters.connections import ApiGatewayConnections

        return ApiGatewayConnections(self.clients.connections_api())

    @cached_property
    def directory(self):
        from cloutagent.adapters.cognito import CognitoDirectory

        return CognitoDirectory(self.clients.client("cognito-idp"), self.settings.user_pool_id)

    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=FANOUT_THREADS, thread_name_prefix="fanout")

    # -- services ----------------------------------------------------------------------------
    @cached_property
    def fanout(self):
        from cloutagent.services.fanout import Fanout

        return Fanout(self.room_store, self.sockets, self.pool)

    @cached_property
    def publisher(self):
        from cloutagent.services.publisher import Publisher

        return Publisher(self.event_log, self.fanout)

    @cached_property
    def projects(self):
        from cloutagent.services.projects import ProjectService

        return ProjectService(self.project_store, self.room_store, self.publisher, limits=self.licenses,
                              allow_loopback_repositories=self.settings.allow_loopback_repositories, audit=self.audit)

    @cached_property
    def rooms(self):
        from cloutagent.services.rooms import RoomService

        return RoomService(self.project_store, self.room_store, self.event_log, self.publisher)

    @cached_property
    def access(self):
        from cloutagent.services.access import AccessService

        return AccessService(self.access_store, sessions=self.connections, limits=self.licenses,
                             projects=self.project_store, audit=self.audit)

    @cached_property
    def invitations(self):
        from cloutagent.services.invitations import InvitationService

        return InvitationService(self.access_store, limits=self.licenses, audit=self.audit)

    @cached_property
    def executions(self):
        from cloutagent.services.executions import ExecutionService

        return ExecutionService(self.project_store, self.execution_store, self.publisher, self.launcher,
                                limits=self.licenses, diffs=self.diffs)

    @cached_property
    def steering(self):
        from cloutagent.services.steering import SteeringService

        return SteeringService(self.project_store, self.steering_store, self.publisher)

    @cached_property
    def diffs(self):
        from cloutagent.adapters.s3_diffs import S3Diffs

        return S3Diffs(self.clients.client("s3"), self.settings.sessions_bucket)

    @cached_property
    def secrets(self):
        from cloutagent.services.secrets import SecretService

        return SecretService(self.secret_store, self.secret_cipher, self.publisher, self.pool, limits=self.licenses,
                             audit=self.audit)

    @cached_property
    def webhook_store(self):
        from cloutagent.adapters.dynamo.webhooks import DynamoWebhookStore

        return DynamoWebhookStore(self.table)

    @cached_property
    def webhook_poster(self):
        from cloutagent.adapters.webhook_http import HttpWebhookPoster

        return HttpWebhookPoster()

    @cached_property
    def webhooks(self):
        from cloutagent.services.webhooks import WebhookService

        return WebhookService(self.project_store, self.secret_cipher, self.publisher,
                              allow_loopback=self.settings.allow_loopback_webhooks, audit=self.audit)

    @cached_property
    def webhook_notifier(self):
        """Sends project notifications (not ``notifier``: that one posts tenant notices to connections)."""
        from cloutagent.services.webhooks import WebhookNotifier

        # Its own threads: a slow receiver must not hold up the fan-out's (one process locally).
        pool = ThreadPoolExecutor(max_workers=WEBHOOK_THREADS, thread_name_prefix="webhooks")
        return WebhookNotifier(self.project_store, self.webhook_store, self.secret_cipher, self.webhook_poster,
                               pool, allow_loopback=self.settings.allow_loopback_webhooks)

    @cached_property
    def trigger_store(self):
        from cloutagent.adapters.dynamo.triggers import DynamoTriggerStore

        return DynamoTriggerStore(self.table)

    @cached_property
    def git_host(self):
        from cloutagent.adapters.git_host import HttpGitHost

        return HttpGitHost(allow_loopback=self.settings.allow_loopback_repositories)

    @cached_property
    def triggers(self):
        from cloutagent.services.triggers import TriggerService

        return TriggerService(self.project_store, self.trigger_store, self.secret_store, self.secret_cipher,
                              self.git_host, self.executions, self.publisher, endpoint_base=self.settings.http_api_url,
                              audit=self.audit)

    @cached_property
    def schedule_store(self):
        from cloutagent.adapters.dynamo.schedules import DynamoScheduleStore

        return DynamoScheduleStore(self.table)

    @cached_property
    def schedule_backend(self):
        from cloutagent.adapters.eventbridge_scheduler import EventBridgeSchedules

        return EventBridgeSchedules(self.clients.client("scheduler"), group=self.settings.schedule_group,
                                    target_arn=self.settings.scheduled_run_arn,
                                    role_arn=self.settings.scheduler_role_arn)

    @cached_property
    def schedules(self):
        from cloutagent.services.schedules import ScheduleService

        return ScheduleService(self.project_store, self.schedule_store, self.schedule_backend, self.executions,
                               self.publisher)

    @cached_property
    def connections(self):
        from cloutagent.services.connections import ConnectionService

        return ConnectionService(self.room_store, self.rooms, sockets=self.sockets, limits=self.licenses,
                                 api_keys=self.access_store)

    # -- plans, limits and billing -------------------------------------------------------------
    @cached_property
    def billing_store(self):
        from cloutagent.adapters.billing.store import DynamoBillingStore

        return DynamoBillingStore(self.table)

    @cached_property
    def plan_catalog(self):
        from cloutagent import definitions
        from cloutagent.domain.billing import PlanCatalog

        return PlanCatalog(definitions.plans())

    @cached_property
    def notifier(self):
        from cloutagent.services.billing.notices import TenantNotifier

        return TenantNotifier(self.room_store, self.sockets, self.pool)

    @cached_property
    def licenses(self):
        """The license manager: the ``limits`` hook of every service that a plan limits."""
        from cloutagent.services.billing.licenses import LicenseManager

        return LicenseManager(self.billing_store, self.plan_catalog, billing_enabled=self.settings.billing_enabled,
                              notifier=self.notifier)

    @cached_property
    def payments(self):
        from cloutagent.adapters.billing.stripe import StripePayments

        name = self.settings.stripe_secret_name
        return StripePayments(lambda: self.platform_secrets.get(name) if name else {},
                             api_base=self.settings.stripe_api_base, timeout=self.settings.stripe_timeout_seconds)

    @cached_property
    def billing(self):
        from cloutagent.services.billing.account import BillingService

        return BillingService(self.billing_store, self.licenses, self.payments, prices=self.settings.stripe_price_map,
                              metered_price=self.settings.stripe_metered_price)

    @cached_property
    def stripe_webhooks(self):
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from cloutagent.adapters.dynamo.keys import STRIPE_IDEMPOTENCY_PK
        from cloutagent.services.billing.webhooks import StripeWebhookService

        # Same table; records sit outside the tenant keyspace and expire through its TTL attribute.
        persistence = DynamoDBPersistenceLayer(
            table_name=self.settings.table_name, key_attr="PK", sort_key_attr="SK",
            static_pk_value=STRIPE_IDEMPOTENCY_PK, expiry_attr="expiresAt", boto3_client=self.clients.dynamodb(),
        )
        return StripeWebhookService(self.billing_store, self.payments, self.notifier, persistence=persistence,
                                    prices=self.settings.stripe_price_map, default_plan=self.plan_catalog.default_plan,
                                    audit=self.audit)

    @cached_property
    def usage_reporter(self):
        from cloutagent.services.billing.metering import UsageReporter

        return UsageReporter(self.billing_store, self.payments, event_name=self.settings.stripe_meter_event_name)

    @cached_property
    def tenants(self):
        from cloutagent.services.tenants import TenantService

        return TenantService(self.access_store)

    @cached_property
    def authenticator(self):
        from cloutagent.adapters.jwks import JwksCache, http_fetch_jwks
        from cloutagent.services.auth import Authenticator, TokenVerifier

        url = self.settings.effective_jwks_url
        jwks = JwksCache(lambda: http_fetch_jwks(url), self.settings.jwks_min_refetch_seconds)
        verifier = TokenVerifier(jwks, self.settings.issuer, self.settings.user_pool_client_id)
        return Authenticator(verifier, self.access_store, directory=self.directory)


_installed: Container | None = None


@lru_cache(maxsize=1)
def get_container() -> Container:
    """The process's container: the one installed by whoever composed it, else the AWS default."""
    return _installed or Container()


def install_container(container: Container) -> Container:
    """Make ``container`` the process's container (the local stack injects its launcher this way)."""
    global _installed
    _installed = container
    get_container.cache_clear()
    return container


def reset_container() -> None:
    global _installed
    _installed = None
    get_container.cache_clear()
