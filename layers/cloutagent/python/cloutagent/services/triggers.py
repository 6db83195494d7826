"""Git host triggers: admins connect a project to its repository's comments (``TriggerService``
set/get/delete), a signed delivery that mentions the trigger word starts a run (``receive``),
and the run's end is answered on the Git host (``follow_up``, from the table stream's notifier).

A delivery is checked before anything is read for it but the trigger itself: an unknown project,
a project without a trigger and a wrong signature all get the same ``UNAUTHORIZED``, so the
endpoint tells nobody which projects exist. A delivery that starts a run is recorded first (a
conditional write), so the host's redelivery of it starts none.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Protocol

from pydantic import ValidationError

from cloutagent.domain.changes import ProjectChange, TriggerRemoved, TriggerSaved
from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.models import Event, Project
from cloutagent.domain.repositories import Repository, host_repo_name
from cloutagent.domain.secrets import encryption_context
from cloutagent.domain.triggers import (
    DELIVERY_TTL_SECONDS, GIT_HOSTS, TRIGGER_SECRET_PREFIX, Comment, CommentTarget, NewTrigger, TriggerConfig,
    acknowledgement, busy_notice, delivery_id, event_name, follow_up, is_own_comment, mentions, not_started,
    parse_comment, prompt_for, signature_valid, trigger_secret_context, trusted,
)
from cloutagent.errors import BadRequest, NotFound, ProjectBusy, ProjectNotFound, ServiceError, Unauthorized
from cloutagent.ids import new_secret_token, now_iso
from cloutagent.observability import logger, record_metric
from cloutagent.protocol.actions import Execute, TriggerSet
from cloutagent.services.audit import audited
from cloutagent.services.ports import ExecutionStore, GitHost, ProjectStore, SecretCipher, TriggerStore
from cloutagent.services.publisher import Publisher

HOST_NAMES = {"github": "GitHub", "gitlab": "GitLab"}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOT_SIGNED = "The delivery is not signed with this project's trigger secret"


class RunStarter(Protocol):
    """``ExecutionService.start``: the same start as the ``execute`` action's."""

    def start(self, identity: Identity, data: Execute, *, trigger: dict[str, Any] | None = None) -> Any: ...


class TriggerService:
    def __init__(self, projects: ProjectStore, store: TriggerStore, secrets: Any, cipher: SecretCipher,
                 git_host: GitHost, runs: RunStarter, publisher: Publisher, *, endpoint_base: str = "",
                 audit: Any = None):
        self.audit = audit  # an AuditLog
        self.projects = projects
        self.publisher = publisher
        self.store = store
        self.secrets = secrets  # the project's sealed secrets: the repository token is one of them
        self.cipher = cipher
        self.git_host = git_host
        self.runs = runs
        self.endpoint_base = endpoint_base.rstrip("/")

    # -- admins' actions ---------------------------------------------------------------------------
    def set(self, identity: Identity, data: TriggerSet) -> NewTrigger:
        """Set (or replace) the project's trigger with a new secret: the old one stops working."""
        tenant_id, project_id = identity.tenant_id, data.projectId
        project = self.projects.get(tenant_id, project_id)
        repository = project.repository
        if repository is None or repository.host_provider() != data.provider:
            raise BadRequest(f"A {HOST_NAMES[data.provider]} trigger needs a project whose repository is on "
                             f"{HOST_NAMES[data.provider]} (project.update {{repository}})", {"field": "provider"})
        if not repository.token_secret:
            raise BadRequest("A trigger answers on the Git host with the repository's token: set repository.tokenSecret",
                             {"field": "provider"})
        config = TriggerConfig(provider=data.provider, word=data.word, trust_org_members=data.trustOrgMembers,
                               trusted_logins=list(dict.fromkeys(data.trustedLogins)), created_at=now_iso(),
                               created_by=identity.user_id)
        secret = new_secret_token(TRIGGER_SECRET_PREFIX)
        ciphertext = self.cipher.encrypt(secret, trigger_secret_context(tenant_id, project_id))
        # Who may now start runs from outside is every watcher's business: the event says it (never the secret).
        announced = {"action": "set", "provider": config.provider, "word": config.word,
                     "trustOrgMembers": config.trust_org_members, "trustedLogins": config.trusted_logins,
                     "by": identity.user_id}
        audit = audited(self.audit, identity, "trigger.set", project_id,
                        {k: v for k, v in announced.items() if k != "by"}, project_id=project_id)
        self.publisher.publish(tenant_id, project_id, [("trigger.changed", announced)], last_seq=project.last_seq,
                               change=ProjectChange(records=(TriggerSaved(tenant_id, project_id, config, ciphertext),
                                                             *audit)))
        return NewTrigger(config=config, url=self.endpoint(data.provider, tenant_id, project_id), secret=secret)

    def get(self, identity: Identity, project_id: str) -> tuple[TriggerConfig, str] | None:
        """The trigger's config and endpoint URL (never its secret), or None."""
        self.projects.get(identity.tenant_id, project_id)  # another tenant's project: not found
        found = self.store.get(identity.tenant_id, project_id)
        if found is None:
            return None
        config = found[0]
        return config, self.endpoint(config.provider, identity.tenant_id, project_id)

    def delete(self, identity: Identity, project_id: str) -> None:
        tenant_id = identity.tenant_id
        project = self.projects.get(tenant_id, project_id)
        if self.store.get(tenant_id, project_id) is None:
            raise NotFound("This project has no trigger")
        audit = audited(self.audit, identity, "trigger.delete", project_id, project_id=project_id)
        self.publisher.publish(tenant_id, project_id, [("trigger.changed", {"action": "deleted", "by": identity.user_id})],
                               last_seq=project.last_seq,
                               change=ProjectChange(records=(TriggerRemoved(tenant_id, project_id), *audit)))

    def endpoint(self, provider: str, tenant_id: str, project_id: str) -> str:
        """Where the Git host sends deliveries (the tenant is in it: keys start from the tenant)."""
        return f"{self.endpoint_base}/v1/hooks/{provider}/{tenant_id}/{project_id}"

    # -- the Git host's deliveries -----------------------------------------------------------------
    def receive(self, provider: str, tenant_id: str, project_id: str, headers: dict[str, str],
                body: bytes) -> dict[str, Any]:
        """Act on one delivery (``headers`` lower-cased); what became of it, for the host's delivery log."""
        config = self._verified(provider, tenant_id, project_id, headers, body)
        event = event_name(config.provider, headers)
        if event == "ping":
            return {"status": "ok"}
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise BadRequest("The delivery is not JSON") from exc
        try:
            project = self.projects.get(tenant_id, project_id)
        except ProjectNotFound as exc:
            raise Unauthorized(NOT_SIGNED) from exc
        repository = project.repository
        if repository is None or repository.host_provider() != config.provider:
            return _ignored("the project has no repository on this host")
        comment = parse_comment(config.provider, event, payload, host_repo_name(repository),
                                delivery_id(config.provider, headers, body))
        if comment is None:
            return _ignored("not a new comment on the project's repository")
        if is_own_comment(comment):
            return _ignored("a comment by a bot or by this platform")
        if not mentions(comment.body, config.word):
            return _ignored("the comment does not mention the trigger word")
        if not trusted(config, comment):
            logger.info("git trigger: untrusted author", extra={"project_id": project_id, "login": comment.login})
            record_metric("TriggerUntrusted", tenant_id=tenant_id)
            return _ignored("the project does not trust the comment's author")
        if not self.store.claim_delivery(tenant_id, project_id, config.provider, comment.once_key,
                                         DELIVERY_TTL_SECONDS):
            return {"status": "duplicate"}
        return self._start(project, repository, comment)

    def _verified(self, provider: str, tenant_id: str, project_id: str, headers: dict[str, str],
                  body: bytes) -> TriggerConfig:
        if provider not in GIT_HOSTS or not (_ID.match(tenant_id) and _ID.match(project_id)):
            raise Unauthorized(NOT_SIGNED)
        found = self.store.get(tenant_id, project_id)
        if found is None or found[0].provider != provider:
            raise Unauthorized(NOT_SIGNED)
        config, ciphertext = found
        secret = self.cipher.decrypt(ciphertext, trigger_secret_context(tenant_id, project_id))
        if not signature_valid(config.provider, secret, headers, body):
            raise Unauthorized(NOT_SIGNED)
        return config

    def _start(self, project: Project, repository: Repository, comment: Comment) -> dict[str, Any]:
        tenant_id, project_id, target = project.tenant_id, project.project_id, comment.target
        token = self._token(tenant_id, project_id, repository)
        branch = comment.branch
        if branch is None and target.kind == "pull_request" and token:
            branch = self.git_host.pull_request_branch(repository, target, token)
        host = HOST_NAMES[target.provider]
        identity = Identity(tenant_id, user_id=f"{target.provider}:{comment.login}", role=Role.member,
                            auth_type="trigger", display_name=f"{comment.login} on {host}")
        try:
            # On a pull request's own branch, its pull request already exists; otherwise the run opens one.
            data = Execute(projectId=project_id, prompt=prompt_for(comment, host), branch=branch,
                           pullRequest=branch is None)
        except ValidationError:
            data = Execute(projectId=project_id, prompt=prompt_for(comment, host), pullRequest=True)
        try:
            execution = self.runs.start(identity, data, trigger=target.to_dict())
        except ProjectBusy:
            self._comment(repository, target, token, busy_notice())
            return {"status": "busy"}
        except ServiceError as exc:  # a plan limit, a subscription to settle: the details are the team's
            self._comment(repository, target, token, not_started(f"the project cannot start a run now ({exc.code})."))
            return {"status": "refused", "code": exc.code}
        record_metric("TriggerRunStarted", tenant_id=tenant_id)
        self._comment(repository, target, token, acknowledgement(execution.execution_id, None))
        return {"status": "started", "executionId": execution.execution_id}

    # -- the run's end -----------------------------------------------------------------------------
    def follow_up(self, events: list[tuple[str, Event]], executions: ExecutionStore) -> dict[str, int]:
        """Answer on the Git host for each finished run a comment started: how many were posted or
        failed (runs no comment started are not counted). Never raises."""
        outcomes: Counter[str] = Counter()
        for tenant_id, event in events:
            if event.event != "execution.finished":
                continue
            try:
                outcome = self._follow_up(tenant_id, event, executions)
                if outcome != "skipped":
                    outcomes[outcome] += 1
            except Exception:
                logger.exception("git trigger follow-up failed", extra={"tenant_id": tenant_id,
                                                                        "project_id": event.project_id})
                outcomes["failed"] += 1
        return dict(outcomes)

    def _follow_up(self, tenant_id: str, event: Event, executions: ExecutionStore) -> str:
        execution_id = event.data.get("executionId")
        if not isinstance(execution_id, str):
            return "skipped"
        try:
            execution = executions.get(tenant_id, event.project_id, execution_id)
        except NotFound:
            return "skipped"
        if not execution.trigger:
            return "skipped"
        repository = self.projects.get(tenant_id, event.project_id).repository
        if repository is None:
            return "skipped"
        token = self._token(tenant_id, event.project_id, repository)
        git = execution.git or {}
        pushed = git.get("branch") if git.get("pushed") and isinstance(git.get("branch"), str) else None
        text = follow_up(execution_id, execution.status, git.get("pullRequestUrl"), execution.error_code, pushed)
        return "posted" if self._comment(repository, CommentTarget.from_dict(execution.trigger), token, text) else "failed"

    # -- helpers -----------------------------------------------------------------------------------
    def _token(self, tenant_id: str, project_id: str, repository: Repository) -> str | None:
        name = repository.token_secret
        sealed = self.secrets.sealed_one(tenant_id, project_id, name) if name else None
        if sealed is None:
            return None
        return self.cipher.decrypt(sealed.ciphertext, encryption_context(tenant_id, project_id, name))

    def _comment(self, repository: Repository, target: CommentTarget, token: str | None, text: str) -> bool:
        if not token:
            logger.warning("git trigger: no repository token to comment with")
            return False
        return self.git_host.comment(repository, target, token, text)


def _ignored(reason: str) -> dict[str, Any]:
    return {"status": "ignored", "reason": reason}
