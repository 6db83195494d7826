"""Sign-up and sign-in: a Cognito user pool and the public app client the web app and CLI use.

The post-confirmation trigger (which creates the tenant) is attached where the stack composes the
pool with the functions. That function cannot receive the pool id as an environment variable, since
the pool already references the function (a cycle); the trigger event carries ``userPoolId`` instead.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.nag import acknowledge


class Identity(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: str,
        allowed_origins: Sequence[str],
        require_mfa: bool,
        plus_tier: bool,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"cloutagent-{stage}",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if require_mfa else cognito.Mfa.OPTIONAL,
            # TOTP only: SMS needs an SNS role and spend limits, and is the weaker factor.
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if plus_tier else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus_tier else None
            ),
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        if not require_mfa:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                "MFA is OPTIONAL (TOTP) so people can sign up from the CLI before enrolling an "
                "authenticator; machine access uses API keys. Set context requireMfa=true to enforce it.",
            )
        if not plus_tier:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                "The Plus feature plan (threat protection) is billed per monthly active user; stages "
                "opt in with context cognitoPlusTier=true. Sign-in is still rate-limited by Cognito.",
            )

        self.client = self.user_pool.add_client(
            "AppClient",
            user_pool_client_name=f"cloutagent-{stage}",
            # Public client: it runs in browsers and on laptops, where no secret stays secret.
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            enable_token_revocation=True,
            **_oauth(allowed_origins),
        )


def _oauth(allowed_origins: Sequence[str]) -> dict:
    # The allowed origins are the only places the hosted sign-in may redirect back to.
    if not allowed_origins:
        return {"disable_o_auth": True}
    return {
        "o_auth": cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callback_urls=list(allowed_origins),
            logout_urls=list(allowed_origins),
        )
    }
