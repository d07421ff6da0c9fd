"""Templated emails (text + HTML) sent through SES as one MIME message.

No secret goes into an email except the verification link itself.
"""
import html

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.records import is_unsafe_character

# kind -> (subject, text body); `{...}` fields come from the send() context.
TEMPLATES = {
    "verify_email": (
        "Verify your email address",
        "Welcome to {service}.\n\nConfirm this email address to finish creating your account:\n\n"
        "{link}\n\nThis link finishes one sign-up, with the password chosen in it; it was made here:\n"
        "{WHERE}\n\nThe link works once and expires in 24 hours. If that sign-up was not yours, do not use "
        "the link (whoever made it knows its password): ignore this email, or sign up yourself for a link "
        "of your own.",
    ),
    "signup_existing": (
        "Someone tried to sign up with your email address",
        "Someone tried to create a {service} account with this email address, which already has an "
        "account.\n\nIf it was you, log in instead. If not, you need do nothing: your account was not "
        "changed.",
    ),
    "mfa_locked": (
        "Second-factor verification locked after failed attempts",
        "There were {failures} failed second-factor verifications in a row on your {service} account, "
        "so further attempts are blocked for {delay}.\n\n" + "{WHERE}" + "\n\nSomeone may know your "
        "password: if it was not you, change your password.",
    ),
    "mfa_hard_locked": (
        "Your account is locked",
        "There were {failures} failed second-factor verifications in a row on your {service} account. "
        "It is now locked and cannot complete a login until support unlocks it.\n\n" + "{WHERE}" +
        "\n\nSomeone may know your password: change it once your account is unlocked.",
    ),
    "method_added": (
        "A verification method was added to your account",
        "A new verification method, {method_type} \"{label}\", was added to your {service} account.\n\n"
        "{WHERE}\n\n{NOT_YOU}",
    ),
    "method_removed": (
        "A verification method was removed from your account",
        "The verification method {method_type} \"{label}\" was removed from your {service} account.\n\n"
        "{WHERE}\n\n{NOT_YOU}",
    ),
    "method_renamed": (
        "A verification method was renamed",
        "The verification method {method_type} \"{old_label}\" on your {service} account is now called "
        "\"{label}\".\n\n{WHERE}\n\n{NOT_YOU}",
    ),
    "recovery_codes_generated": (
        "New recovery codes were generated",
        "A new set of {count} recovery codes was generated for your {service} account. Every earlier "
        "recovery code no longer works.\n\n{WHERE}\n\n{NOT_YOU}",
    ),
    "cli_login": (
        "A command-line client logged in to your account",
        "A command-line client (it calls itself \"{client_name}\") was logged in to your {service} account "
        "after an approval "
        "in the browser. Its session lasts 30 days unless you end it.\n\n{WHERE}\n\n{NOT_YOU}",
    ),
    "recovery_code_used": (
        "A recovery code was used",
        "A recovery code was used to verify your identity on your {service} account. {remaining} "
        "recovery code(s) remain.{warning}\n\n{WHERE}\n\n{NOT_YOU}",
    ),
    "push_fraud_reported": (
        "Someone tried to log in to your account: you reported it",
        "Your mobile app (named \"{device_name}\" when it was paired) answered \"this wasn't me\" to a request "
        "to {purpose} on your "
        "{service} account. The request was refused and ended, and push requests to your phone are paused "
        "for {block_minutes} minutes.\n\nThe request came from IP address {request_ip}, {request_browser}.\n"
        "{WHERE}\n\nWhoever sent it knows your password: change it now, and review your sessions and "
        "verification methods.",
    ),
    "push_wrong_number": (
        "A push request was refused: the wrong number was typed",
        "Your mobile app (named \"{device_name}\" when it was paired) answered a request to {purpose} on your "
        "{service} account with a number other than the one the browser showed, so the request was "
        "refused.\n\nThe request came from IP address {request_ip}, {request_browser}.\n{WHERE}\n\n"
        "If you did not ask to {purpose}, someone knows your password: change it now. Approve a request only "
        "when you started it and typed the number your own browser shows.",
    ),
    "webauthn_suspicious": (
        "A security key on your account may have been copied",
        "Your {method_type} \"{label}\" answered a login with a signature counter of {received}, not above "
        "the {stored} it had reached before. Genuine authenticators only count up, so this one may have been "
        "cloned. It is blocked and can no longer verify logins.\n\n{WHERE}\n\nLog in with another method, "
        "remove it and register a new one. Change your password too: whoever used the copy also had it.",
    ),
    "email_change_confirm": (
        "Confirm your new email address",
        "Someone asked to move a {service} account to this email address.\n\nIf it was you, confirm it "
        "with this link:\n\n{link}\n\nThe link works once and expires in 24 hours. Until it is used, the "
        "account keeps its current address. If it was not you, ignore this email.",
    ),
    "email_change_requested": (
        "A change of your email address was requested",
        "Someone asked to move your {service} account to the email address {new_email}. It changes only "
        "when the link sent to that address is used, within 24 hours.\n\n{WHERE}\n\n{NOT_YOU}",
    ),
    "email_change_taken": (
        "Someone tried to move an account to your email address",
        "Someone tried to move another {service} account to this email address, which already has an "
        "account. Nothing changed: your account is yours and keeps this address.\n\n{WHERE}",
    ),
    "email_changed": (
        "Your email address was changed",
        "Your {service} account's email address is now {new_email}: this is the last email sent here. "
        "Every session was ended: log in again with the new address.\n\n{WHERE}\n\n"
        "If this was not you, contact support at once.",
    ),
    "password_reset": (
        "Reset your password",
        "Someone asked to reset the password of your {service} account, from IP address {ip}.\n\n"
        "To choose a new password, open this link:\n\n{link}\n\nThe link works once and expires in "
        "1 hour; asking again replaces it. Your verification methods stay: you will still need your second "
        "factor to log in. If it was not you, ignore this email: your password was not changed.",
    ),
    "password_reset_unknown": (
        "Password reset requested",
        "Someone asked to reset the password of a {service} account for this email address, from IP "
        "address {ip}, but no account uses this address.\n\nIf it was you, you may have signed up with "
        "another address. If not, you need do nothing.",
    ),
    "password_changed": (
        "Your password was changed",
        "The password of your {service} account was changed. {ended} other session(s) were ended.\n\n"
        "{WHERE}\n\nIf this was not you, reset your password now from the login page (\"Forgot password?\"), "
        "then review your verification methods and sessions.",
    ),
    "password_reset_done": (
        "Your password was reset",
        "The password of your {service} account was reset with the link we emailed. Every session was "
        "ended; logging in still needs your second factor.\n\n{WHERE}\n\nIf this was not you, someone "
        "can read your email: secure your mailbox, reset your password again and review your "
        "verification methods.",
    ),
}

TEMPLATES["account_deleted"] = (
    "Your account was deleted",
    "Your {service} account was deleted: its verification methods, paired devices and sessions are "
    "gone, and this email address is free to sign up again.\n\n{WHERE}\n\nIf this was not you, someone "
    "had your password and a second factor: secure your mailbox and devices. The account cannot be "
    "restored; its security events are kept for {retention_days} days.",
)

# Every notice says when and from where, and what to do if it was not the owner.
_WHERE = "When: {when}\nFrom: IP address {ip}, {user_agent}"
_NOT_YOU = ("If this was not you, log in, review your verification methods and sessions, end the other "
            "sessions and change your password.")


def render(kind: str, **context) -> tuple[str, str, str]:
    subject, text = TEMPLATES[kind]
    return render_message(subject, text, **context)


def render_message(subject: str, text: str, **context) -> tuple[str, str, str]:
    """A subject and text with `{...}` fields (and {WHERE}, {NOT_YOU}) as subject, text and HTML."""
    # Names chosen by people and clients are checked when given (records.PlainText); this also
    # keeps any stored before that from adding lines to a security notice.
    context = {"service": get_settings().service_name,
               **{k: "".join(c for c in v if not is_unsafe_character(c)) if isinstance(v, str) and k != "link" else v
                  for k, v in context.items()}}
    text = text.replace("{WHERE}", _WHERE).replace("{NOT_YOU}", _NOT_YOU)
    body = text.format(**context)
    link = context.get("link")
    escaped = html.escape(body)
    if link:
        anchor = f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>'
        escaped = escaped.replace(html.escape(link), anchor)
    html_body = "<html><body>" + "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in escaped.split("\n\n")) + "</body></html>"
    return subject, body, html_body


def send(to: str, kind: str, **context) -> None:
    send_message(to, *TEMPLATES[kind], **context)


def send_message(to: str, subject: str, text: str, **context) -> None:
    """One email, rendered as render_message() does; a module may keep its own texts."""
    from email.message import EmailMessage

    subject, text, html_body = render_message(subject, text, **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = get_settings().mail_from
    message["To"] = to
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    aws.client("ses").send_raw_email(
        Source=get_settings().mail_from, Destinations=[to], RawMessage={"Data": message.as_bytes()}
    )


# Support-assisted recovery (services/support.py, `python -m ops.recovery`).
TEMPLATES.update({
    "support_unlock": (
        "Your account was unlocked",
        "Support unlocked your {service} account: the failed second-factor verifications were forgotten "
        "and you can log in again.\n\nWhen: {when}\n\nThe account was locked because someone kept "
        "entering wrong second factors: if it was not you, change your password after you log in.",
    ),
    "mfa_reset_scheduled": (
        "Your verification methods will be removed",
        "Support scheduled the removal of every verification method of your {service} account, as asked: "
        "on {due}, every method is removed, every session ends, and your next login asks you to set up a "
        "new one.\n\nWhen: {when}\n\nIf you did not ask for this, log in now with your password and any of "
        "your verification methods: a successful login cancels the removal.",
    ),
    "mfa_reset_cancelled": (
        "The removal of your verification methods was cancelled",
        "A second factor was verified on your {service} account, so the scheduled removal of its "
        "verification methods was cancelled: they all stay.\n\n{WHERE}\n\nIf this was not you, someone has "
        "your password and a second factor: contact support.",
    ),
    "mfa_reset_done": (
        "Your verification methods were removed",
        "As scheduled, every verification method of your {service} account was removed and every session "
        "ended. Log in with your password and set up a new verification method.\n\nWhen: {when}",
    ),
})
