"""Talking to identity providers: OpenID Connect (oidc.py) and SAML 2.0 (saml.py).

Protocol only: what to send, and whether what came back is genuine, meant for us and fresh.
No storage; the caller (services/sso) keeps requests single use and decides what to do.
Heavy libraries (joserfc, signxml, lxml) are imported inside these modules, which only the
SSO routes import.
"""

# The REFEDS MFA profile: an identity provider says it verified a second factor (OIDC `acr`,
# SAML AuthnContextClassRef). The default of what counts as MFA for both.
REFEDS_MFA = "https://refeds.org/profile/mfa"


class IdpRefused(Exception):
    """What an identity provider sent (or failed to send) cannot be trusted. `reason` is a
    short code for logs and tests (e.g. "invalid_signature", "wrong_audience", "expired")."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
