"""Sessions: creation, authentication with a bounded sliding expiry, listing, revocation.

Kinds:
- web: cookie; expires 24 h after the last activity, never later than 10 days after login.
- cli: bearer token; 30 days from login, no sliding (the CLI login flow issues it).
A `restricted` web session belongs to an account that must still enrol a method: it can
only enrol and read its own account, and lasts at most an hour.

Ending sessions (other sessions, a password change or reset, an email change) goes through
`end_sessions`, which reads the account's session list item strongly (store/sessions.py):
every session put carries its entry there in the same transaction, so a session created a
moment before the call is ended although GSI1 may not show it yet; CLI logins approved but
not yet collected are cancelled too. Chosen over a per-account "valid after" cutoff, which
would cost each authenticated request a second read: a request still costs one read.
"""
from typing import NamedTuple

from chalicelib import crypto, errors, store, user_agents
from chalicelib.clock import is_id, now_s, random_id, random_token
from chalicelib.config import get_settings
from chalicelib.ledger import audit
from chalicelib.ledger.change import Change
from chalicelib.records import Client
from chalicelib.services import step_up

WEB = "web"
CLI = "cli"
# How a session was won: a password and a second factor here, or an identity provider that
# verified a second factor (services/sso).
PASSWORD = "password"
SSO = "sso"


class NewSession(NamedTuple):
    token: str
    token_hash: str
    record: dict

    @property
    def expires_at(self) -> int:
        return self.record["expires_at"]


def new_session(account_id: str, email: str, kind: str, client: Client, *, restricted: bool = False,
                mfa_at: int | None = None, auth: str = PASSWORD, connection_id: str | None = None) -> NewSession:
    s = get_settings()
    now = now_s()
    if kind == CLI:
        absolute = now + s.cli_session_seconds
        expires_at = absolute
    elif restricted:
        absolute = now + s.enrollment_session_seconds
        expires_at = absolute
    else:
        absolute = now + s.web_session_max_seconds
        expires_at = min(now + s.web_session_idle_seconds, absolute)
    token = random_token(32)
    record = {
        "session_id": random_id(),
        "account_id": account_id,
        "email": email,
        "kind": kind,
        "restricted": restricted,
        "created_at": now,
        "last_seen_at": now,
        "mfa_at": mfa_at,
        "absolute_expires_at": absolute,
        "expires_at": expires_at,
        "user_agent": client.short_user_agent,
        "ip": client.ip,
        "auth": auth,
    }
    if connection_id:
        record["sso_connection_id"] = connection_id
    return NewSession(token, crypto.hash_token(token), record)


def authenticate(token: str, kind: str) -> dict:
    """One read; at most one write per touch interval to slide a web session's expiry."""
    if not token or len(token) > 256:
        raise errors.unauthenticated()
    now = now_s()
    session = store.get_session(crypto.hash_token(token), now)
    if session is None or session["kind"] != kind or session["absolute_expires_at"] <= now:
        raise errors.unauthenticated()
    s = get_settings()
    sliding = kind == WEB and not session["restricted"]
    if sliding and now - session["last_seen_at"] >= s.session_touch_seconds:
        expires_at = min(now + s.web_session_idle_seconds, session["absolute_expires_at"])
        store.touch_session(session["token_hash"], now, expires_at)
        session["last_seen_at"], session["expires_at"] = now, expires_at
    return session


def public_view(session: dict, current_hash: str | None = None) -> dict:
    return {
        "id": session["session_id"],
        "kind": session["kind"],
        "auth": session.get("auth", PASSWORD),
        "created_at": session["created_at"],
        "last_seen_at": session["last_seen_at"],
        "expires_at": session["expires_at"],
        "user_agent": session.get("user_agent", ""),
        "device": device_name(session.get("user_agent", "")),
        "ip": session.get("ip", ""),
        "current": session["token_hash"] == current_hash,
    }


def device_name(user_agent: str) -> str:
    """What a person recognises a session by: "Chrome on Linux", "curl", or else the user
    agent's first word ("python-requests/2.32"), or "unknown"."""
    if not user_agent.strip():
        return "unknown"
    browser, system = user_agents.browser_and_os(user_agent)
    if browser == user_agents.UNKNOWN_BROWSER:
        return user_agent.split()[0][:40]
    return browser if browser == "curl" or system == user_agents.UNKNOWN_SYSTEM else f"{browser} on {system}"


def list_sessions(current: dict) -> list[dict]:
    sessions = store.list_sessions(current["account_id"], now_s())
    sessions.sort(key=lambda x: x["created_at"], reverse=True)
    return [public_view(x, current["token_hash"]) for x in sessions]


def revoke(current: dict, session_id: str, client: Client) -> None:
    """Ending another session needs a recent second factor; ending one's own does not. The
    session ends with its audit event, in one transaction; a retry of a revocation that
    committed (its answer lost) succeeds again, without a second event."""
    if not is_id(session_id):
        raise errors.session_not_found()
    if session_id != current["session_id"]:
        step_up.require_recent(current)
    account_id = current["account_id"]
    for candidate in store.list_sessions(account_id, now_s()):
        if candidate["session_id"] == session_id:
            try:
                Change(account_id, current["email"], client).add(*store.ops_revoke_session(candidate)).audit(
                    "session_revoked", session_id=session_id, session_kind=candidate["kind"]).commit()
            except store.ConditionFailed:
                break   # gone meanwhile (GSI1 lags): revoked by a request before this one, or ended otherwise
            return
    if not store.was_revoked(account_id, session_id, now_s()):
        raise errors.session_not_found()


def revoke_others(current: dict, client: Client) -> int:
    """Every other session and CLI session ends, and CLI logins approved but not collected
    are cancelled; how many sessions ended."""
    step_up.require_recent(current)
    ended, cancelled = end_sessions(current["account_id"], keep=current["token_hash"])
    audit.record(current["account_id"], "other_sessions_revoked", client, count=ended,
                 cli_logins_cancelled=cancelled or None)
    return ended


def end_sessions(account_id: str, keep: str | None = None, also: list[str] = ()) -> tuple[int, int]:
    """End every session of the account but `keep` (and the `also` hashes, listed earlier),
    read strongly; cancel its approved, uncollected CLI logins. (sessions ended, CLI logins
    cancelled)."""
    n = now_s()
    live, listed = store.account_sessions(account_id, n)
    ended = {x["token_hash"] for x in live} - {keep}
    store.delete_sessions(sorted(ended | (set(also) - {keep})))
    cancelled = store.cancel_cli_logins(listed.get("cli_logins"), n)
    store.unlist(account_id, {e for e in listed.get("tokens") or () if keep is None or not e.startswith(f"{keep}:")},
                 set(listed.get("cli_logins") or ()))
    return len(ended | (set(also) - {keep})), cancelled


def count_others(current: dict) -> int:
    """How many other sessions and CLI sessions of the account exist (read strongly); drops
    list entries whose session is gone (expired, logged out), which keeps the list short."""
    live, listed = store.account_sessions(current["account_id"], now_s())
    alive = {x["token_hash"] for x in live}
    expired = {e for e in listed.get("cli_logins") or () if int(e.rpartition(":")[2] or 0) <= now_s()}
    store.unlist(current["account_id"], {e for e in listed.get("tokens") or () if e.rpartition(":")[0] not in alive},
                 expired)
    return len(alive - {current["token_hash"]})


def logout(current: dict) -> None:
    store.delete_session(current["token_hash"], current["account_id"])
