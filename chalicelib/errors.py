"""The catalogue of errors the API answers with: JSON {"error": code, "message": sentence}. Every
refusal is made by a named constructor here, so a code keeps one status and one sentence wherever
it is raised; storage's own exceptions (ConditionFailed, Busy) are turned into these above it."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


def _retry_after(status: int, code: str, message: str, wait: int) -> ApiError:
    return ApiError(status, code, message, headers={"Retry-After": str(wait)}, extra={"retry_after": wait})


# ---------------------------------------------------------------- requests

def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"The {what} does not exist.")


def method_not_allowed(method: str, allowed: list[str]) -> ApiError:
    """As app.py reshapes Chalice's own 405: the path's methods in Allow (RFC 9110)."""
    return ApiError(405, "method_not_allowed", f"Unsupported method: {method}", headers={"Allow": ", ".join(allowed)})


def malformed_json() -> ApiError:
    return ApiError(400, "malformed_json", "The request body is not valid JSON.")


def invalid_request(message: str, details: list[dict] | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, extra={"details": details} if details is not None else None)


def payload_too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "The request body is larger than 64 KiB.")


def internal_error() -> ApiError:
    return ApiError(500, "internal_error", "Something went wrong on our side.")


def csrf_check_failed() -> ApiError:
    return ApiError(403, "csrf_check_failed",
                    "Cross-site request refused: send Origin and X-Requested-With from an allowed origin.")


def origin_not_allowed() -> ApiError:
    return ApiError(403, "origin_not_allowed", "Requests from this origin are not allowed.")


def rate_limited(wait: int) -> ApiError:
    return _retry_after(429, "rate_limited", f"Too many attempts. Try again in {wait} seconds.", wait)


def try_again() -> ApiError:
    """Storage was busy with a concurrent change of the same items (store.Busy)."""
    return _retry_after(429, "try_again", "Another request is changing the same data. Try again.", 1)


def service_unavailable(wait: int) -> ApiError:
    """AWS failed under the request (throttling, an outage, a timeout) after its retries, or
    the invocation had no time left for another call: the same request can be sent again."""
    return _retry_after(503, "service_unavailable", "The service is briefly unavailable. Try again in a moment.",
                        wait)


def secret_unavailable() -> ApiError:   # ledger/secrets.SecretUnavailable: not the person's doing; logged
    return ApiError(503, "secret_unavailable", "A stored secret cannot be read right now: try another method or later.")


def misconfigured() -> ApiError:   # the stage lacks settings (Settings.missing); the log names them
    return ApiError(503, "service_misconfigured", "The service is not configured for this stage and serves nothing.")


def verification_in_progress() -> ApiError:
    return _retry_after(429, "try_again", "Another verification for this account is in progress. Try again.", 1)


# ---------------------------------------------------------------- accounts and sessions

def invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The email or password is incorrect.")


def email_not_verified() -> ApiError:
    return ApiError(403, "email_not_verified", "Verify your email address first: follow the link we emailed you.")


def invalid_token() -> ApiError:
    return ApiError(400, "invalid_token", "This verification link is invalid, used or expired.")


def email_already_verified() -> ApiError:
    return ApiError(409, "email_already_verified", "This email address was already verified through another "
                    "sign-up's link: log in with the password chosen in that sign-up, or reset it.")


def account_not_found(email: str) -> ApiError:
    return ApiError(404, "account_not_found", f"No verified account for {email}.")


def password_rejected(reason: str, minimum: int, maximum: int) -> ApiError:
    """The password policy's refusal (passwords.PasswordRejected)."""
    message = {"too_short": f"Use a password of at least {minimum} characters.",
               "too_long": f"Use a password of at most {maximum} characters.",
               "too_common": "This password is common or easy to guess. Choose a longer, less predictable one."}
    return ApiError(400, f"password_{reason}", message[reason])


def push_unavailable(platform: str) -> ApiError:
    return ApiError(503, "push_unavailable", f"Push notifications through {platform.upper()} are not set up for "
                                             "this service. Ask its operators.")


def push_blocked(wait: int) -> ApiError:
    """A fraud report ("this wasn't me") blocks the account's push requests for a while."""
    return _retry_after(403, "push_blocked", "Push requests to your phone are paused because one was reported as "
                        f"not made by you. Use another method, or try again in {wait} seconds.", wait)


def invalid_push_token(platform: str, again: bool) -> ApiError:
    return ApiError(400, "invalid_push_token", f"The push service refused this {platform.upper()} push token; pair "
                    "the device again if it persists." if again else "The push service refused this push token.")


def unauthenticated(message: str = "Log in to continue.") -> ApiError:
    return ApiError(401, "unauthenticated", message)


def too_many_step_up_failures() -> ApiError:
    return unauthenticated("Too many failed verifications: log in again.")


def session_not_found() -> ApiError:
    return ApiError(404, "session_not_found", "No such session on this account.")


def mfa_enrollment_required(message: str = "Set up a verification method before doing anything else: MFA is "
                                           "required.") -> ApiError:
    return ApiError(403, "mfa_enrollment_required", message)


def step_up_required(window_seconds: int) -> ApiError:
    return ApiError(403, "step_up_required",
                    "Confirm it's you: verify a second factor again (POST /v1/account/step-up).",
                    extra={"step_up_seconds": window_seconds})


def already_enrolled() -> ApiError:
    return ApiError(403, "step_up_required", "This account already has a verification method: log in with it.")


def invalid_cursor() -> ApiError:
    return ApiError(400, "invalid_cursor", "The cursor is not one this API returned.")


# ---------------------------------------------------------------- CLI logins (device authorization)

def cli_login_unavailable() -> ApiError:
    return ApiError(503, "try_again", "Could not start a CLI login right now. Try again.")


def user_code_not_found() -> ApiError:
    return ApiError(404, "user_code_not_found", "No pending CLI login has this code. Check it, or start again "
                                                "from the CLI.")


def browser_session_required() -> ApiError:
    return ApiError(403, "browser_session_required", "This needs the browser: log in there to approve CLI logins "
                    "and to change how your account is protected.")


def cli_login_not_pending() -> ApiError:
    return ApiError(409, "cli_login_not_pending", "This CLI login was already approved, denied or has expired.")


def token_refused(code: str, message: str) -> ApiError:
    """The device-code token endpoint's errors (RFC 8628: invalid_grant, expired_token, ...)."""
    return ApiError(400, code, message)


def slow_down(interval: int) -> ApiError:
    return ApiError(400, "slow_down", f"Polling too fast: wait {interval} seconds between polls.",
                    extra={"interval": interval})


# ---------------------------------------------------------------- paired devices

def invalid_signature(message: str = "The device signature is missing, invalid, stale or reused.") -> ApiError:
    return ApiError(401, "invalid_signature", message)


def device_not_confirmed() -> ApiError:
    return ApiError(403, "device_not_confirmed", "Type the confirmation phrase in the browser to finish pairing.")


# ---------------------------------------------------------------- legacy SMS import (ops)

def sms_not_legacy(cutoff: str) -> ApiError:
    return ApiError(400, "sms_deprecated", f"SMS is kept only for users who had it before {cutoff}: this one should "
                                           "pick another method.")


def invalid_phone() -> ApiError:
    return ApiError(400, "invalid_phone", "The phone number must be in E.164 form, such as +14155550123.")


# ---------------------------------------------------------------- login attempts

def browser_login_required(verification_uri: str) -> ApiError:
    return ApiError(400, "browser_login_required",
                    "The CLI logs in through the browser: start with POST /v1/cli/logins and approve it there.",
                    extra={"verification_uri": verification_uri, "start": "/v1/cli/logins"})


def login_not_found() -> ApiError:
    return ApiError(404, "login_not_found", "No such login attempt.")


def login_expired() -> ApiError:
    return ApiError(410, "login_expired", "This login attempt has expired or was already used. Start again.")


def login_other_browser() -> ApiError:
    return ApiError(403, "login_other_browser", "This login was started in another browser or tab. Start again here.")


def owner_gone(kind: str) -> ApiError:
    """The login attempt or session (records.OwnerKind) a challenge was for ended meanwhile."""
    from chalicelib.records import OwnerKind
    return login_expired() if kind == OwnerKind.LOGIN else unauthenticated()


# ---------------------------------------------------------------- second factors

def account_locked() -> ApiError:
    return ApiError(403, "account_locked",
                    "Too many failed verifications: this account is locked. Contact support to unlock it.")


def mfa_locked(wait: int) -> ApiError:
    return _retry_after(429, "mfa_locked", f"Too many failed verifications. Try again in {wait} seconds.", wait)


def refused(code: str, message: str) -> ApiError:
    """A proof that did not check out, in the method's own words (its `refusal`)."""
    return ApiError(401, code, message)


def unsupported_method(method_type: str) -> ApiError:
    return ApiError(400, "unsupported_method", f"Verification method '{method_type}' is not supported.")


def method_disabled(name: str) -> ApiError:
    return ApiError(403, "method_disabled", f"This service does not offer {name}. Use another method.")


def method_not_found(message: str = "This verification method does not exist on the account.") -> ApiError:
    return ApiError(404, "method_not_found", message)


def no_such_method() -> ApiError:
    return method_not_found("No such verification method on this account.")


def enrollment_not_found() -> ApiError:
    return method_not_found("No such method, or its enrolment expired. Start again.")


def already_confirmed() -> ApiError:
    return ApiError(409, "already_confirmed", "This method is already active.")


def enrollment_expired() -> ApiError:
    return ApiError(410, "enrollment_expired", "This enrolment expired or had too many wrong codes. Start again.")


def method_not_pending() -> ApiError:
    return ApiError(409, "method_not_pending", "This enrolment expired or was already confirmed.")


def methods_changed() -> ApiError:
    return ApiError(409, "conflict", "The methods changed meanwhile. Try again.")


def last_method() -> ApiError:
    return ApiError(409, "last_method", "This is your last verification method: add another one before removing it.")


def confirmation_required() -> ApiError:
    return ApiError(400, "confirmation_required", 'Removing a method is permanent: send {"confirm": true}.')


def challenge_expired(message: str = "This security check is no longer valid: ask for new options and try "
                                     "again.") -> ApiError:
    return ApiError(401, "challenge_expired", message)


def conflict(status_code: tuple[str, str]) -> ApiError:
    """A 409 in a method's own words (its `enrollment_conflict`)."""
    return ApiError(409, *status_code)


# ---------------------------------------------------------------- email address change

def email_taken() -> ApiError:
    """Only at confirmation, to whoever holds the new address's mailbox (it proved so)."""
    return ApiError(409, "email_taken", "This address now belongs to another account: the email was not changed.")


def same_email() -> ApiError:
    return ApiError(400, "same_email", "This is already the account's email address.")


# ---------------------------------------------------------------- passwords

def wrong_password() -> ApiError:
    return ApiError(401, "wrong_password", "The current password is incorrect.")


def invalid_reset_token() -> ApiError:
    return ApiError(400, "invalid_token", "This password reset link is invalid, used, replaced by a newer one or "
                                          "expired. Ask for a new one.")


# ---------------------------------------------------------------- support (ops.recovery)

def not_locked() -> ApiError:
    return ApiError(409, "not_locked", "This account has no failed verifications to forget: it is not locked.")


def reset_pending() -> ApiError:
    return ApiError(409, "reset_pending", "A reset of this account's verification methods is already scheduled.")


def deletion_confirmation_required() -> ApiError:
    return ApiError(400, "confirmation_required", 'Deleting the account is permanent: send {"confirm": true}.')


# ---------------------------------------------------------------- single sign-on

def sso_not_configured() -> ApiError:
    return ApiError(404, "sso_not_configured", "Single sign-on is not set up for this email domain.")


def sso_required(connection_id: str | None = None) -> ApiError:
    where = {"sso_start": "/v1/sso/start", **({"connection_id": connection_id} if connection_id else {})}
    return ApiError(403, "sso_required", "Your organisation requires single sign-on: log in through your identity "
                    "provider.", extra=where)


def idp_mfa_required() -> ApiError:
    return ApiError(403, "idp_mfa_required", "Your identity provider did not verify a second factor; ask your "
                    "administrator to require MFA for this application.")


def idp_unavailable() -> ApiError:
    return ApiError(503, "idp_unavailable", "Your identity provider cannot be reached right now. Try again in a "
                    "few minutes; if it keeps happening, tell your administrator.")


def sso_request_invalid() -> ApiError:
    return ApiError(400, "sso_request_invalid", "This sign-in was not started in this browser, was already "
                    "completed or has expired. Start again.")


def sso_refused(reason: str) -> ApiError:
    return ApiError(401, "sso_refused", "Your identity provider's answer could not be verified. Start again; if "
                    "it keeps happening, tell your administrator.", extra={"reason": reason})


def sso_email_not_allowed() -> ApiError:
    return ApiError(403, "sso_email_not_allowed", "Your identity provider sent an email address outside the "
                    "domains this sign-in is set up for.")


def sso_reauthentication_required() -> ApiError:
    return ApiError(403, "sso_reauthentication_required", "You logged in through your identity provider: confirm "
                    "it is you there again.", extra={"sso_step_up": "/v1/account/step-up/sso"})


def not_sso_session() -> ApiError:
    return ApiError(409, "not_sso_session", "This session did not log in through an identity provider: confirm "
                    "it's you with one of your verification methods.")


def sso_domain_taken(domain: str) -> ApiError:
    return ApiError(409, "sso_domain_taken", f"The domain {domain} already belongs to another SSO connection.")


def sso_connection_not_found() -> ApiError:
    return ApiError(404, "sso_connection_not_found", "There is no SSO connection with this id.")
