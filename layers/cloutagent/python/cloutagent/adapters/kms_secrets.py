"""Seal and open secret values with the customer-managed project key (KMS Encrypt/Decrypt).

Values are at most 4 KB, KMS's own plaintext limit, so each is one Encrypt call: no data keys,
no envelope. The encryption context is mandatory on both sides (the IAM policies require it too).
Every failure becomes ``SecretsUnavailable``; what KMS said goes to the log, never the value.
"""

from __future__ import annotations

import base64
from typing import Any

from cloutagent.adapters.dynamo.table import error_code
from cloutagent.errors import SecretsUnavailable
from cloutagent.observability import logger


class KmsSecretCipher:
    def __init__(self, client: Any, key_id: str):
        self.client = client
        self.key_id = key_id

    def encrypt(self, plaintext: str, context: dict[str, str]) -> str:
        """The base64 ciphertext of ``plaintext`` under the project key, bound to ``context``."""
        self._require_key()
        try:
            out = self.client.encrypt(KeyId=self.key_id, Plaintext=plaintext.encode(), EncryptionContext=context)
        except Exception as exc:  # botocore ClientError or connection error, not imported eagerly
            _log_failure("Encrypt", exc)
            raise SecretsUnavailable() from exc
        return base64.b64encode(out["CiphertextBlob"]).decode()

    def decrypt(self, ciphertext: str, context: dict[str, str]) -> str:
        """The value sealed in ``ciphertext``; fails unless ``context`` is the one it was sealed with."""
        self._require_key()
        try:
            out = self.client.decrypt(CiphertextBlob=base64.b64decode(ciphertext), KeyId=self.key_id,
                                      EncryptionContext=context)
        except Exception as exc:
            _log_failure("Decrypt", exc)
            raise SecretsUnavailable("A project secret could not be decrypted") from exc
        return out["Plaintext"].decode()

    def _require_key(self) -> None:
        if not self.key_id:
            raise SecretsUnavailable("Project secrets are not configured on this deployment")


def _log_failure(operation: str, exc: Exception) -> None:
    logger.warning("KMS call failed", extra={"operation": operation, "error_type": type(exc).__name__,
                                             "error_code": error_code(exc)})
