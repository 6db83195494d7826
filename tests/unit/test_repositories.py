"""A project's repository: which URLs and branches may be stored, and who may set them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloutagent.domain.identity import Identity, Role
from cloutagent.domain.repositories import Repository, check_branch, check_url
from cloutagent.errors import BadRequest, Forbidden
from cloutagent.protocol.actions import Execute, ProjectCreate
from cloutagent_executor.git_client import GitAccess, failure_of
from cloutagent_executor.repository import commit_message


@pytest.mark.parametrize("url", [
    "file:///etc", "ext::sh -c touch% /tmp/pwned", "ssh://git@github.com/a/b.git", "git@github.com:a/b.git",
    "http://github.com/a/b.git", "https://user:tok@github.com/a/b.git", "https://github.com/a/b.git?x=1",
    "https://github.com", "https://github.com/a b", "-uhttps://x/y",
])
def test_only_https_urls_without_credentials_are_accepted(url):
    with pytest.raises(ValueError):
        check_url(url)


def test_a_plain_repository_url_is_accepted_and_its_provider_known():
    assert Repository(url="https://github.com/acme/app.git").host_provider() == "github"
    assert Repository(url="https://gitlab.com/acme/app").host_provider() == "gitlab"
    assert Repository(url="https://git.acme.dev/acme/app.git").host_provider() == "generic"
    assert Repository(url="https://git.acme.dev/acme/app.git", provider="gitlab").host_provider() == "gitlab"


def test_loopback_http_is_only_for_a_stack_that_allows_it():
    check_url("http://127.0.0.1:8080/git/local/demo.git", allow_loopback_http=True)
    with pytest.raises(ValueError):
        check_url("http://127.0.0.1:8080/git/local/demo.git")
    with pytest.raises(ValueError):
        check_url("http://10.0.0.5/git/a.git", allow_loopback_http=True)


@pytest.mark.parametrize("name", ["-f", "a..b", "a//b", "/a", "a/", "a.lock", "a b", "a~1", "a^", "a:b", "@{-1}", ""])
def test_branch_names_git_would_misread_are_refused(name):
    with pytest.raises(ValueError):
        check_branch(name)
    with pytest.raises(ValidationError):
        Execute(projectId="p_1", prompt="x", branch=name)


def test_ordinary_branch_names_pass():
    for name in ("main", "feature/login-form", "release-1.2", "cloutagent/x_abc"):
        assert check_branch(name) == name


def test_a_token_secret_must_be_a_secret_name():
    with pytest.raises(ValidationError):
        ProjectCreate(name="p", repository={"url": "https://github.com/a/b", "tokenSecret": "lower-case"})


def test_only_admins_set_a_repository():
    from cloutagent.services.projects import ProjectService

    service = ProjectService(store=None, room_store=None, publisher=None)
    repository = Repository(url="https://github.com/a/b")
    with pytest.raises(Forbidden):
        service._checked_repository(Identity("t", "u", Role.member), repository)
    assert service._checked_repository(Identity("t", "u", Role.admin), repository) == repository
    with pytest.raises(BadRequest):
        service._checked_repository(Identity("t", "u", Role.admin), Repository(url="http://localhost/a/b.git"))


@pytest.mark.parametrize("stderr, code", [
    ("fatal: Authentication failed for 'https://x/y.git/'", "REPOSITORY_AUTH_FAILED"),
    ("fatal: could not read Username for 'https://x': terminal prompts disabled", "REPOSITORY_AUTH_FAILED"),
    ("warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin",
     "BRANCH_NOT_FOUND"),
    (" ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs", "PUSH_REJECTED"),
    ("fatal: unable to access 'https://nowhere.invalid/a.git/': Could not resolve host: nowhere.invalid",
     "REPOSITORY_UNREACHABLE"),
    ("fatal: something new", "REPOSITORY_FAILED"),
])
def test_what_git_prints_becomes_a_code_a_user_can_act_on(stderr, code):
    assert failure_of(stderr, "clone").code == code


def test_the_token_is_a_header_in_the_environment_and_transports_are_locked(tmp_path):
    env = GitAccess(token="ghp_secret123").environment(tmp_path)
    config = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert config["http.extraHeader"].startswith("Authorization: Basic ")
    assert config["protocol.allow"] == "never" and config["protocol.https.allow"] == "always"
    assert "protocol.http.allow" not in config and env["GIT_ALLOW_PROTOCOL"] == "https"
    assert config["core.hooksPath"] == "/dev/null" and config["http.followRedirects"] == "false"
    assert "ghp_secret123" not in " ".join(env.values())  # only base64 of it, in the header


def test_the_commit_message_is_the_agents_last_words():
    assert commit_message("Fixed the login form.\nIt now validates emails.", "x_1").startswith("Fixed the login form.\n\n")
    assert commit_message("", "x_1") == "cloutagent run x_1"
    assert len(commit_message("a" * 200, "x_1").splitlines()[0]) == 72


def test_the_github_api_and_repository_come_from_the_url():
    from cloutagent_executor.pull_requests import github_api

    assert github_api(Repository(url="https://github.com/acme/app.git")) == ("https://api.github.com", "acme", "app")
    assert github_api(Repository(url="https://ghe.acme.dev/git/tools")) == ("https://ghe.acme.dev/api/v3", "git", "tools")
    assert github_api(Repository(url="http://127.0.0.1:8765/git/local/demo.git")) == (
        "http://127.0.0.1:8765/api/v3", "local", "demo")
