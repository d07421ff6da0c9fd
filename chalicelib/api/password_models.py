"""Bodies of the password routes (change, reset request, reset confirmation) and their replies."""
from typing import Literal

from pydantic import Field

from chalicelib.api.models import Body, Email, Password, Reply, Token


class ChangePasswordRequest(Body):
    current_password: Password
    new_password: Password


class PasswordChanged(Reply):
    status: Literal["ok"] = "ok"
    ended_sessions: int = Field(description="other sessions and CLI sessions of the account ended; the current "
                                            "one stays")


class PasswordResetRequest(Body):
    email: Email


class PasswordResetConfirm(Body):
    token: Token
    new_password: Password


class PasswordReset(Reply):
    status: Literal["ok"] = "ok"
    ended_sessions: int = Field(description="sessions and CLI sessions of the account ended; nobody is logged in")
