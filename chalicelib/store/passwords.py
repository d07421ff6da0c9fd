"""Password changes and resets, on the account item (EMAIL#<email> / ACCOUNT):

- `password_generation` counts the password's changes; a login attempt records the value it
  saw, and its verify step requires it unchanged (a reset cancels pending logins);
- `reset_token_hash` / `reset_expires_at` name the account's one live reset token: issuing
  a newer one replaces it, and a change or a reset of the password removes it.

The reset token itself is an email token (TOKEN#<sha256(tok)>, purpose "password_reset"),
which points at the account.
"""
from chalicelib.store.engine import _op_check, _op_update
from chalicelib.store.keys import _account_key

_NEW_PASSWORD = ("SET password_hash = :h, password_changed_at = :now ADD password_generation :one "
                 "REMOVE reset_token_hash, reset_expires_at")


def op_change_password(email: str, account_id: str, old_hash: str, new_hash: str, now: int) -> dict:
    """Only over the password the caller checked (a concurrent change makes it fail)."""
    return _op_update(_account_key(email), _NEW_PASSWORD,
                      {":h": new_hash, ":now": now, ":one": 1, ":a": account_id, ":old": old_hash},
                      condition="account_id = :a AND password_hash = :old")


def op_reset_password(email: str, account_id: str, token_hash: str, new_hash: str, now: int) -> dict:
    """Only with the account's live reset token: the newest one, unused, unexpired."""
    return _op_update(_account_key(email), _NEW_PASSWORD,
                      {":h": new_hash, ":now": now, ":one": 1, ":a": account_id, ":t": token_hash},
                      condition="account_id = :a AND reset_token_hash = :t AND reset_expires_at > :now")


def op_set_reset_token(email: str, account_id: str, token_hash: str, expires_at: int) -> dict:
    """The account's live reset token from now on; an earlier one dies."""
    return _op_update(_account_key(email), "SET reset_token_hash = :t, reset_expires_at = :exp",
                      {":t": token_hash, ":exp": expires_at, ":a": account_id}, condition="account_id = :a")


def op_password_unchanged(email: str, account_id: str, generation: int) -> dict:
    """Holds while the account's password is the one of `generation` (0: never changed)."""
    return _op_check(_account_key(email),
                     "account_id = :a AND (attribute_not_exists(password_generation) OR password_generation = :g)",
                     {":a": account_id, ":g": generation})
