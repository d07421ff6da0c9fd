"""Typed shapes that cross layers: who is asking (Client), what a challenge belongs to
(Owner), the proof a verify request carries (Proof), and the status values stored on items."""
import unicodedata
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# The shape of chalicelib.clock.random_id().
Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Text direction controls (U+202A..E, U+2066..9, marks): they can make a name read backwards.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_unsafe_character(character: str) -> bool:
    """Control characters (a newline in a name becomes a paragraph of a security notice),
    line and paragraph separators, and text direction controls."""
    return unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in _BIDI_CONTROLS


def _plain_text(max_length: int):
    def check(value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if any(is_unsafe_character(c) for c in value):
            raise ValueError("must not contain control characters, line breaks or text direction controls")
        if not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value
    return check


def PlainText(max_length: int):  # named as a type: it makes one
    """A name people or clients choose (a method's label, a device's or a CLI's name): one
    line of text, NFC, bounded after normalisation."""
    return Annotated[str, StringConstraints(max_length=4 * max_length), AfterValidator(_plain_text(max_length))]


Label = PlainText(64)
# Answered after a change of factors: how many other sessions and CLI sessions exist, to offer ending them.
OtherSessions = Annotated[int | None, Field(description="other sessions and CLI sessions of the account, to "
                                                        "offer ending them (DELETE /v1/account/sessions?scope=others)")]

USER_AGENT_LIMIT = 512   # characters of a user agent kept on items and events


# The records here are NamedTuples, not dataclasses: Python 3.12 compiles each dataclass's
# methods at import, ~1 ms apiece of every cold start.
class Client(NamedTuple):
    """The caller of one request, built once by the HTTP layer."""
    ip: str = ""
    user_agent: str = ""
    kind: str = ""                 # the X-Client header, lower case: "cli" for the reference CLI
    location: str | None = None    # CloudFront's viewer city/region/country, when behind it

    @property
    def ip_or_unknown(self) -> str:
        """The key for a per-IP limit: requests without an address share one bucket."""
        return self.ip or "unknown"

    @property
    def short_user_agent(self) -> str:
        return self.user_agent[:USER_AGENT_LIMIT]


# A client for changes no request makes (imports, operators' commands).
def operator(name: str) -> Client:
    return Client(user_agent=name)


class OwnerKind:
    LOGIN = "login"       # a login attempt, between the password and the second factor
    SESSION = "session"   # a session, stepping up


class Owner(NamedTuple):
    """What a challenge and the proof that answers it belong to: a login attempt or a
    session. Challenge state (a WebAuthn challenge, a push slot) is kept on its item."""
    kind: str          # OwnerKind
    id: str            # the login_id, or the session's token hash
    account_id: str
    email: str
    bound_to: str      # what a code sent for this owner is bound to: "login:<id>" / "session:<id>"
    item: dict         # the attempt or session as read


class Proof(BaseModel):
    """A verify request's body; each verification method declares its own (`proof_model`)."""
    # defer_build: schemas are built on first use, not at import (Lambda cold start).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class EnrollmentRequest(Proof):
    """Begin enrolling a method of `type` (POST /v1/account/methods); a method whose
    enrolment takes more declares a subclass with a Literal `type` (`enrollment_model`)."""
    type: str
    label: Label | None = None


class MethodStatus:
    PENDING = "pending"
    ACTIVE = "active"


class CliLoginStatus:
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    USED = "used"
    CANCELLED = "cancelled"   # approved, then the account's sessions were ended before the CLI collected it


class PushStatus:
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    USED = "used"
