"""Secret rules without AWS: names, sizes, masking, the KMS and Secrets Manager adapters on Stubber."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from cloutagent.adapters.kms_secrets import KmsSecretCipher
from cloutagent.adapters.platform_secrets import SecretsManagerPlatformSecrets, StaticPlatformSecrets
from cloutagent.domain.identity import Identity, Role, require_permission
from cloutagent.domain.secrets import encryption_context
from cloutagent.errors import ERROR_CODES, Forbidden, SecretsUnavailable
from cloutagent.protocol.actions import SecretRef, SecretSet

CONTEXT = encryption_context("t_1", "p_1", "API_TOKEN")


def secret_set(**data):
    return SecretSet.model_validate({"projectId": "p_1", "name": "API_TOKEN", "value": "v", **data})


@pytest.mark.parametrize("name", ["A", "_", "API_TOKEN", "_X1", "A" * 64])
def test_names_that_are_environment_variables_are_accepted(name):
    assert secret_set(name=name).name == name


@pytest.mark.parametrize("name", ["", "a", "api_token", "1A", "A-B", "A B", "A" * 65, "Ä", "A\n"])
def test_other_names_are_refused(name):
    with pytest.raises(ValidationError):
        secret_set(name=name)
    with pytest.raises(ValidationError):
        SecretRef.model_validate({"projectId": "p_1", "name": name})


@pytest.mark.parametrize("name", ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "LD_PRELOAD", "AWS_ACCESS_KEY_ID",
                                  "CLAUDE_CONFIG_DIR", "CLOUTAGENT_TABLE_NAME", "NODE_OPTIONS", "PATH", "HOME",
                                  "HTTPS_PROXY", "NO_PROXY", "PYTHONPATH", "IS_SANDBOX", "GIT_SSH_COMMAND"])
def test_names_that_would_reconfigure_the_agents_runtime_cannot_be_set(name):
    # GIVEN an admin trying to plant a runtime setting as a secret  THEN it is a bad request
    with pytest.raises(ValidationError) as refused:
        secret_set(name=name)
    assert "configures the agent's runtime" in str(refused.value)
    # while an existing one could still be deleted (names only became reserved later)
    assert SecretRef.model_validate({"projectId": "p_1", "name": name}).name == name


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "NPM_TOKEN", "DATABASE_URL", "PROXY_HOST", "MY_AWS_KEY"])
def test_ordinary_names_that_look_alike_stay_allowed(name):
    assert secret_set(name=name).name == name


def test_a_value_is_1_to_4096_bytes_of_utf8_without_nul():
    assert secret_set(value="x" * 4096).value.get_secret_value() == "x" * 4096
    assert secret_set(value="é" * 2048).value.get_secret_value() == "é" * 2048  # 4096 bytes
    for bad in ["", "x" * 4097, "é" * 2049, "a\x00b", 42, None]:
        with pytest.raises(ValidationError):
            secret_set(value=bad)


def test_a_value_never_shows_in_a_repr_or_a_validation_error():
    value = "do-not-print-me-" * 300  # too long: a validation error
    with pytest.raises(ValidationError) as caught:
        secret_set(value=value)
    errors = caught.value.errors(include_url=False, include_input=False)
    assert "do-not-print-me" not in json.dumps(errors, default=str)
    assert "do-not-print-me" not in repr(secret_set(value="do-not-print-me"))


def test_only_owners_and_admins_change_secrets_and_viewers_see_nothing():
    def who(role):
        return Identity(tenant_id="t", user_id="u", role=Role.parse(role))

    for role in ("owner", "admin"):
        for action in ("secret.set", "secret.delete", "secret.list"):
            require_permission(who(role), action)
    require_permission(who("member"), "secret.list")
    for role, action in [("member", "secret.set"), ("member", "secret.delete"),
                         ("viewer", "secret.list"), ("viewer", "secret.set"), ("viewer", "secret.delete")]:
        with pytest.raises(Forbidden):
            require_permission(who(role), action)


def test_secrets_unavailable_is_a_stable_code():
    assert "SECRETS_UNAVAILABLE" in ERROR_CODES


# -- the KMS adapter ----------------------------------------------------------------------------
@pytest.fixture
def kms():
    client = boto3.client("kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          endpoint_url="http://127.0.0.1:9")  # never reached: Stubber answers
    with Stubber(client) as stubber:
        yield client, stubber


def test_encrypt_sends_the_value_and_its_context_and_returns_base64(kms):
    client, stubber = kms
    stubber.add_response("encrypt", {"CiphertextBlob": b"sealed", "KeyId": "k"},
                         {"KeyId": "k", "Plaintext": b"s3cret", "EncryptionContext": CONTEXT})
    assert KmsSecretCipher(client, "k").encrypt("s3cret", CONTEXT) == base64.b64encode(b"sealed").decode()


@pytest.mark.parametrize("code", ["KMSInternalException", "DependencyTimeoutException", "DisabledException",
                                  "KeyUnavailableException", "AccessDeniedException", "ThrottlingException"])
def test_any_kms_failure_is_secrets_unavailable_without_the_value(kms, code):
    client, stubber = kms
    stubber.add_client_error("encrypt", service_error_code=code, service_message="kms says no", http_status_code=400)
    with pytest.raises(SecretsUnavailable) as caught:
        KmsSecretCipher(client, "k").encrypt("s3cret-value", CONTEXT)
    assert caught.value.code == "SECRETS_UNAVAILABLE" and "s3cret-value" not in caught.value.message


def test_decrypt_asks_for_the_context_and_the_key(kms):
    client, stubber = kms
    stubber.add_response("decrypt", {"Plaintext": b"s3cret", "KeyId": "k"},
                         {"CiphertextBlob": b"sealed", "KeyId": "k", "EncryptionContext": CONTEXT})
    assert KmsSecretCipher(client, "k").decrypt(base64.b64encode(b"sealed").decode(), CONTEXT) == "s3cret"


def test_without_a_configured_key_nothing_is_sent_to_kms(kms):
    client, _ = kms  # no stubbed response: any call would fail the Stubber
    with pytest.raises(SecretsUnavailable, match="not configured"):
        KmsSecretCipher(client, "").encrypt("s3cret", CONTEXT)


# -- platform secrets ---------------------------------------------------------------------------
@pytest.fixture
def secretsmanager():
    client = boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9")
    with Stubber(client) as stubber:
        yield client, stubber


def test_a_platform_secret_is_read_once_and_then_served_from_the_cache(secretsmanager):
    client, stubber = secretsmanager
    stubber.add_response("get_secret_value", {"Name": "cloutagent/stripe", "SecretString": '{"apiKey": "sk_test_1"}'},
                         {"SecretId": "cloutagent/stripe"})
    secrets = SecretsManagerPlatformSecrets(client)
    assert secrets.get("cloutagent/stripe") == {"apiKey": "sk_test_1"}
    assert secrets.get("cloutagent/stripe") == {"apiKey": "sk_test_1"}  # a second call would fail the Stubber
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("answer", ["missing", "not json", "[1, 2]"])
def test_a_missing_or_malformed_platform_secret_is_secrets_unavailable(secretsmanager, answer):
    client, stubber = secretsmanager
    if answer == "missing":
        stubber.add_client_error("get_secret_value", service_error_code="ResourceNotFoundException")
    else:
        stubber.add_response("get_secret_value", {"Name": "cloutagent/x", "SecretString": answer})
    with pytest.raises(SecretsUnavailable):
        SecretsManagerPlatformSecrets(client).get("cloutagent/x")


def test_the_in_memory_port_behaves_like_the_real_one():
    port = StaticPlatformSecrets({"cloutagent/anthropic": {"apiKey": ""}})
    assert port.get("cloutagent/anthropic") == {"apiKey": ""}
    with pytest.raises(SecretsUnavailable):
        port.get("cloutagent/stripe")
