"""The user directory (Cognito): invitations create users; Cognito owns passwords."""

from __future__ import annotations

from typing import Any

from cloutagent.adapters.dynamo.table import error_code


class CognitoDirectory:
    def __init__(self, client: Any, user_pool_id: str):
        self.client = client
        self.pool = user_pool_id

    def invite(self, email: str) -> str:
        """Create (or find) the user for an email and return their stable id (``sub``)."""
        try:
            out = self.client.admin_create_user(
                UserPoolId=self.pool, Username=email,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                DesiredDeliveryMediums=["EMAIL"],
            )
            attributes = out["User"]["Attributes"]
        except Exception as exc:
            if error_code(exc) != "UsernameExistsException":
                raise
            attributes = self.client.admin_get_user(UserPoolId=self.pool, Username=email)["UserAttributes"]
        return next(a["Value"] for a in attributes if a["Name"] == "sub")
