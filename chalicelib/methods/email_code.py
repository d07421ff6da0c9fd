"""One-time codes by email, a backup method: a 6-digit code mailed through SES to the
account's verified address when asked for (a challenge), at login and at step-up.

Off unless a stage names it in OPTIONAL_METHODS: email is the weakest factor here. Whoever
controls the mailbox gets the code, and a mailbox is often reached with a password alone,
sometimes the same password; mail can be read on a shared computer, forwarded, or synced to
a lost phone. So it is a backup (`primary = False`): it cannot be an account's only method,
and it counts for nothing in the last-method rule.

A code (methods/sent_codes.py) lives 10 minutes, is bound to the login attempt or session it
was sent for, works once, is stored only as a salted SHA-256, and at most 5 are mailed per
method and hour. Enrolling mails a code too (at most 5 enrolments an hour per account):
confirming it proves the mailbox still works.
"""
from typing import Literal

from chalicelib import notify
from chalicelib.errors import ApiError
from chalicelib.ledger import limits
from chalicelib.methods import sent_codes
from chalicelib.methods.base import Enrollment, VerificationMethod
from chalicelib.records import EnrollmentRequest, OwnerKind

SECONDS = 600
LIMIT_PER_HOUR = 5
SUBJECT = "Your verification code"
TEXT = ("Your {service} verification code is:\n\n{code}\n\nIt expires in {minutes} minutes and works once, to {purpose}. "
        "Never share it: {service} will never ask you for it.\n\nIf you did not ask for it, someone knows your "
        "password: change it now.")


class EmailCodeEnrollment(EnrollmentRequest):
    """Mail a code to the account's address; confirm it at /v1/account/methods/{method_id}/confirm."""
    type: Literal["email_code"]


def masked(email: str) -> str:
    """a•••@example.com: enough to recognise the address, not to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def _channel() -> sent_codes.Channel:
    return sent_codes.Channel(EmailCodeMethod.type, "email", SECONDS, LIMIT_PER_HOUR, EmailCodeMethod.missing_message)


def unavailable() -> ApiError:
    return ApiError(503, "email_unavailable", "The email could not be sent. Try again in a minute, or use another "
                                              "method.")


def _mail(to: str, code: str, purpose: str) -> None:
    try:
        notify.send_message(to, SUBJECT, TEXT, code=code, minutes=SECONDS // 60, purpose=purpose)
    except Exception:   # noqa: BLE001 — the stored code is useless unsent: nobody knows it
        raise unavailable() from None


class EmailCodeMethod(VerificationMethod):
    type = "email_code"
    default_label = "Email"
    display_name = "email one-time code"
    primary = False
    optional = True
    enrollment_model = EmailCodeEnrollment
    enrollment_seconds = SECONDS
    enrollment_max_tries = 5
    missing_message = "This account has no such email code method."

    def begin_enrollment(self, account, method_id, label):
        limits.enforce(3600, ("email-enrolment", account["account_id"], LIMIT_PER_HOUR))
        code, record, expires_at = sent_codes.issue(_channel(), f"enrollment:{method_id}")
        return Enrollment(record=record, response={"sent_to_hint": masked(account["email"]), "expires_at": expires_at},
                          deliver=lambda: _mail(account["email"], code, "add it as a verification method"))

    def complete_enrollment(self, account, method, proof, now):
        return sent_codes.check(_channel(), method, {**proof, "bound_to": f"enrollment:{method['method_id']}"}, now)

    def begin_challenge(self, owner, method_id, client):
        def mail(method: dict, code: str) -> None:
            _mail(owner.email, code, "log in" if owner.kind == OwnerKind.LOGIN else "confirm a change on your account")

        _, expires_at = sent_codes.send(_channel(), owner, method_id, client, mail)
        return {"type": "email_code", "sent_to_hint": masked(owner.email), "expires_at": expires_at}

    def verify(self, account, method, proof, now):
        return sent_codes.check(_channel(), method, proof, now)

    def public_view(self, method):
        return {"backup": True}
