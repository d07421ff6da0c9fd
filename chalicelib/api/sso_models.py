"""Bodies and replies of single sign-on (POST /v1/sso/start, the SAML ACS, SSO step-up)."""
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from chalicelib.api.models import Body, Email, Reply
from chalicelib.records import Id

ReturnTo = Annotated[str, StringConstraints(max_length=200), Field(
    description="a path of the frontend to land on afterwards (default /account)")]


class SsoStart(Body):
    email: Email | None = Field(None, description="the person's email: its domain picks the connection")
    connection_id: Id | None = None
    return_to: ReturnTo | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.email is None) == (self.connection_id is None):
            raise ValueError("give either email or connection_id")
        return self


class SsoStepUp(Body):
    return_to: ReturnTo | None = None


class SsoRedirect(Reply):
    redirect_url: str = Field(description="the identity provider's page: send the browser there")


class SamlPost(Body):
    """The identity provider's HTTP-POST binding (a form the browser submits to the ACS)."""
    SAMLResponse: Annotated[str, StringConstraints(min_length=1, max_length=60_000)]
    RelayState: Annotated[str, StringConstraints(max_length=1024)] | None = None


class SsoFinished(Reply):
    """For API clients that ask for JSON; a browser is sent on to `return_to`."""
    return_to: str
    auth: str = "sso"
    session_id: str | None = None
    expires_at: int | None = None
