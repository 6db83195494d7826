"""The user directory (Cognito): Cognito owns people and passwords; this only reads who someone is."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo.table import error_code


class CognitoDirectory:
    def __init__(self, client: Any, user_pool_id: str):
        self.client = client
        self.pool = user_pool_id

    def verified_email(self, username: str) -> str | None:
        """The user's email, lower-cased, if Cognito has verified it; else None."""
        try:
            attributes = self.client.admin_get_user(UserPoolId=self.pool, Username=username)["UserAttributes"]
        except Exception as exc:
            if error_code(exc) == "UserNotFoundException":
                return None
            raise
        values = {a["Name"]: a["Value"] for a in attributes}
        if values.get("email_verified") != "true" or not values.get("email"):
            return None
        return values["email"].strip().lower()
