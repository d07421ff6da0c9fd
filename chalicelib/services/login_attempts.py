"""Reading a login attempt on behalf of the browser that started it.

The password step gives that browser a random token in an HttpOnly, SameSite=Strict cookie
and keeps only its hash on the attempt; every later step of the attempt (WebAuthn options,
push, its status, SMS, verify) must present it. A `login_id` seen elsewhere (a log, a
shoulder) is therefore of no use to anyone else.

The token also names the attempt's account, the account's methods whose proof need not name
them (a push's, a passkey's: the attempt's challenge does), as at the password step, and the
email's domain: `<random>.<account id>[.<method id>...]!<domain>`. So the verify step reads
the attempt, the account's lockout, the method and the domain's SSO enforcement in one
batch, before anything is written; the ids are only hints for that read. The write that
counts the try holds only on the attempt of that account which the token's hash began
(store.op_count_login_try), and the hash covers the whole token, so a token whose account
or domain was changed matches no attempt.
"""
import hmac

from chalicelib import crypto, errors, store
from chalicelib.clock import is_id, now_s, random_token

# Method ids a token lists at most (one batch read holds 100 keys).
MAX_HINTS = 20


def new_browser_token(account_id: str, method_ids: list[str], domain: str) -> str:
    return ".".join((random_token(32), account_id, *method_ids[:MAX_HINTS])) + f"!{domain}"


def account_in(token: str | None) -> str | None:
    """The account a browser token names (None for a token without one)."""
    parts = _ids(token)
    return parts[1] if len(parts) > 1 and is_id(parts[1]) else None


def methods_in(token: str | None) -> list[str]:
    """The method ids a browser token lists (see the module's docstring)."""
    return [m for m in _ids(token)[2:2 + MAX_HINTS] if is_id(m)]


def domain_in(token: str | None) -> str | None:
    """The email domain a browser token names (None for one begun before tokens named it)."""
    return (token or "").partition("!")[2] or None


def _ids(token: str | None) -> list[str]:
    return (token or "").partition("!")[0].split(".")


def browser_hash(token: str | None) -> str:
    return crypto.hash_token(token or "")


def belongs(attempt: dict, browser: str | None) -> bool:
    return bool(browser) and hmac.compare_digest(attempt.get("browser_hash", ""), browser_hash(browser))


def is_over(attempt: dict) -> bool:
    return attempt["used"] or attempt["expires_at"] <= now_s()


def not_this_browsers(attempt: dict) -> errors.ApiError:
    """Why a browser without the attempt's token is refused. An attempt that is over is told
    as over to any browser: its cookie expires with it, so the browser that started it no
    longer sends the token, and an ended attempt gives nobody anything."""
    return errors.login_expired() if is_over(attempt) else errors.login_other_browser()


def owned(login_id: str, browser: str | None) -> dict:
    """The attempt of this browser, used or expired ones included; 404 or 403 otherwise
    (410 for an attempt that is over, whoever asks)."""
    attempt = store.get_login_attempt(login_id) if is_id(login_id) else None
    if attempt is None:
        raise errors.login_not_found()
    if not belongs(attempt, browser):
        raise not_this_browsers(attempt)
    return attempt


def live(login_id: str, browser: str | None) -> dict:
    """The attempt, unused and unexpired, of this browser; 404, 403 or 410 otherwise."""
    attempt = owned(login_id, browser)
    if is_over(attempt):
        raise errors.login_expired()
    return attempt
