"""Request and response bodies. The routes parse with these and /openapi.json is generated
from them."""
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StringConstraints

from chalicelib import errors, methods
from chalicelib.api import emails
from chalicelib.methods.webauthn import Credential
from chalicelib.records import Code, Id, Label, OtherSessions, PlainText

Email = Annotated[str, StringConstraints(min_length=3, max_length=254), AfterValidator(emails.normalise),
                  Field(json_schema_extra={"format": "email"})]
# Length is checked by the password policy, with its own error codes; this only bounds input.
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Body(BaseModel):
    # defer_build: schemas are built on first use, not at import (Lambda cold start).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Reply(BaseModel):
    model_config = ConfigDict(defer_build=True)


class SignupRequest(Body):
    email: Email
    password: Password


class VerifyEmailRequest(Body):
    token: Token


class LoginRequest(Body):
    email: Email
    password: Password


class SecondFactorProof:
    """What the login verify step and step-up accept: exactly one proof of one of the registered
    methods, each method declaring its own model (methods/<type>.py) that forbids the others'
    fields (so oneOf). The body is read as the first model whose required fields it has."""

    @staticmethod
    def _required(model) -> set[str]:
        return {name for name, field in model.model_fields.items() if field.is_required()}

    @staticmethod
    def variants() -> list:
        return methods.proof_models()

    @classmethod
    def model_validate(cls, data: dict):
        model = next((m for m in methods.proof_models() if cls._required(m) <= data.keys()), None)
        if model is None:
            shapes = ", ".join("{" + ", ".join(sorted(cls._required(m))) + "}" for m in methods.proof_models())
            raise errors.invalid_request("Some fields are missing or invalid: body.",
                                         [{"field": "body", "problem": f"send one of: {shapes}"}])
        return model.model_validate(data)

    @classmethod
    def model_json_schema(cls, ref_template: str) -> dict:
        schemas = [m.model_json_schema(ref_template=ref_template) for m in methods.proof_models()]
        definitions = {name: d for s in schemas for name, d in s.pop("$defs", {}).items()}
        return {"title": cls.__name__, "description": cls.__doc__.split("\n\n")[0], "oneOf": schemas,
                **({"$defs": definitions} if definitions else {})}


class EnrollmentRequest(RootModel):
    """Begin enrolling a method: `type` and, for some types, more (each method declares its
    own body)."""
    model_config = ConfigDict(defer_build=True)
    root: Annotated[Union[tuple(methods.enrollment_models())], Field(discriminator="type")]

    @staticmethod
    def variants() -> list:
        return methods.enrollment_models()


class EnrollmentStarted(Reply):
    """A pending method and what its type needs shown (a QR code, creation options, a
    pairing code, or where a code was sent): confirm it with its proof."""
    model_config = ConfigDict(extra="allow", defer_build=True)
    method_id: str
    type: str
    label: str
    expires_at: int | None = None


class ChallengeRequest(Body):
    """Which of the account's methods to begin a challenge for."""
    method_id: Id


class Challenge(Reply):
    """What the method's challenge needs the client to do next: `none` (type the code),
    `webauthn` (pass `public_key` to navigator.credentials.get()), `push` (show `number`,
    then poll), `sms` or `email_code` (a code was sent to `sent_to_hint`)."""
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: str
    expires_at: int | None = None


class EnrollTotpRequest(Body):
    label: Label | None = None


class WebAuthnOptionsRequest(Body):
    type: Literal["security_key", "built_in"]
    label: Label | None = None


class WebAuthnRegistration(Body):
    credential: Credential
    label: Label | None = None


class StartPairingRequest(Body):
    label: Label | None = None


class ConfirmPairingRequest(Body):
    phrase: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PushRequest(Body):
    """Which of the account's methods to send to (a mobile app, or a legacy SMS phone)."""
    method_id: Id


class ConfirmMethodRequest(Body):
    code: Code


class RenameMethodRequest(Body):
    label: Label


class RemoveMethodRequest(Body):
    confirm: bool = Field(False, description="must be true: removal is permanent")


class RecoveryCodesRequest(Body):
    pass


class CliLoginStart(Body):
    client_name: PlainText(100)


class CliLoginDecision(Body):
    user_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    decision: Literal["approve", "deny"]


class CliTokenRequest(Body):
    device_code: Token


# ---------------------------------------------------------------- responses

class Error(Reply):
    error: str = Field(description="snake_case error code")
    message: str = Field(description="A sentence for a person")


class Accepted(Reply):
    status: Literal["accepted"] = "accepted"
    message: str


class Ok(Reply):
    status: Literal["ok"] = "ok"


class Account(Reply):
    id: str
    email: str
    verified: bool
    created_at: int
    methods_count: int
    enrollment_required: bool
    addable_methods: list[str] = Field(description="the types POST /v1/account/methods accepts for this account "
                                                   "on this stage")


class LoginMethod(Reply):
    id: str
    type: str
    label: str


class LoginStarted(Reply):
    login_id: str | None = Field(description="null when enrollment_required: a restricted session cookie is set instead")
    expires_at: int
    methods: list[LoginMethod]
    enrollment_required: bool


class MethodUsed(Reply):
    model_config = ConfigDict(extra="allow", defer_build=True)
    id: str
    type: str
    remaining: int | None = Field(None, description="recovery codes left, when one was used")


class SessionIssued(Reply):
    session_id: str
    kind: str
    expires_at: int
    enrollment_required: bool
    method_used: MethodUsed | None = None


class TotpEnrollment(Reply):
    method_id: str
    type: str
    label: str
    expires_at: int
    secret: str = Field(description="base32; shown once")
    otpauth_uri: str
    qr_svg: str


class WebAuthnCreationOptions(Reply):
    method_id: str
    type: str
    label: str
    expires_at: int
    public_key: dict = Field(description="PublicKeyCredentialCreationOptions as JSON (base64url binary "
                                         "fields): pass to navigator.credentials.create()")


class WebAuthnRequestOptions(Reply):
    expires_at: int
    public_key: dict = Field(description="PublicKeyCredentialRequestOptions as JSON (base64url binary "
                                         "fields): pass to navigator.credentials.get()")


class PairingStarted(Reply):
    pairing_id: str
    label: str
    pairing_code: str = Field(description="single use; typed into the app, or read from the QR code")
    pairing_uri: str = Field(description="what the QR code holds: mfa-push://pair?api=...&code=...")
    qr_svg: str
    expires_at: int


class SmsCodeSent(Reply):
    sent_to: str = Field(description="the phone's last digits")
    expires_at: int


class Method(Reply):
    model_config = ConfigDict(extra="allow", defer_build=True)
    id: str
    type: str
    label: str
    status: str
    created_at: int
    last_used_at: int | None


class MethodConfirmed(Reply):
    method: Method
    session: SessionIssued | None = Field(description="set when a restricted session was upgraded")
    other_sessions: OtherSessions = None


class MethodList(Reply):
    methods: list[Method]
    backup_recommended: bool = Field(description="true while there is only one method that can log in besides "
                                                 "recovery codes, or no recovery codes left")
    other_sessions: OtherSessions = None


class RecoveryCodes(Reply):
    method_id: str
    type: str
    label: str
    codes: list[str] = Field(description="shown once; each works once")
    other_sessions: OtherSessions = None


class SteppedUp(Reply):
    mfa_at: int
    step_up_valid_until: int
    method_used: MethodUsed


class AuditEvent(Reply):
    id: str
    kind: str
    at: int
    ip: str
    user_agent: str
    details: dict


class AuditEventPage(Reply):
    events: list[AuditEvent]
    next_cursor: str | None


class SessionsRevoked(Reply):
    revoked: int


class CliLoginStarted(Reply):
    device_code: str = Field(description="secret: only the CLI sees it")
    user_code: str = Field(description="XXXX-XXXX, shown to the user")
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class CliLoginDetails(Reply):
    user_code: str
    client_name: str
    ip: str
    user_agent: str
    device: str = Field(description='the user agent in short, as sessions give it: "curl", "mfa-cli/1.2"')
    created_at: int
    expires_at: int
    status: str


class CliLoginDecided(Reply):
    status: Literal["approved", "denied"]


class CliToken(Reply):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int


class SessionView(Reply):
    id: str
    kind: str
    auth: str = Field(description="password (and a second factor here) or sso (an identity provider's MFA)")
    created_at: int
    last_seen_at: int
    expires_at: int
    user_agent: str
    device: str = Field(description='the user agent in short: "Chrome on Linux", "curl", "unknown"')
    ip: str
    current: bool


class SessionList(Reply):
    sessions: list[SessionView]


# ---------------------------------------------------------------- email address

class ResendVerificationRequest(Body):
    email: Email


class EmailChangeRequest(Body):
    new_email: Email


class EmailChangeConfirmRequest(Body):
    token: Token


class EmailChanged(Reply):
    status: Literal["ok"] = "ok"
    email: str
    sessions_ended: bool = True
