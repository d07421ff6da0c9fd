"""Replies of the sign-up's verification link (POST /v1/accounts/verify-email)."""
from pydantic import Field

from chalicelib.api.models import Ok


class EmailVerified(Ok):
    already_verified: bool = Field(description="true for a link used again: the account was made before, by this "
                                               "link, and nothing changed now")
