"""Accounts (one item per email: the login identity, with a summary of the active methods
and a count of the primary ones) and the single-use email tokens.
"""
from chalicelib.store.engine import _get, _op_delete, _op_put, _op_update, _update
from chalicelib.store.keys import _account_key, _email_token_key

# ---------------------------------------------------------------- accounts

def op_create_account(account: dict, now: int) -> dict:
    """Fails (ConditionFailed) when the email is taken: this is what keeps emails unique. An
    account never verified expires (`expires_at`); once past it, even before TTL removes it,
    the email is free again."""
    return _op_put(_account_key(account["email"]), account,
                   condition="attribute_not_exists(PK) OR expires_at <= :now", values={":now": now})


def op_create_sso_account(account: dict, now: int) -> dict:
    """An account made by a first login through an identity provider, which proved the
    email: it also takes the place of an unverified sign-up of the same email (whoever made
    that could not read the address's mail)."""
    return _op_put(_account_key(account["email"]), account,
                   condition="attribute_not_exists(PK) OR expires_at <= :now OR email_verified = :false",
                   values={":now": now, ":false": False})


def get_account(email: str, now: int) -> dict | None:
    return _get(_account_key(email), now)


def set_password_hash(email: str, password_hash: str) -> None:
    _update(_account_key(email), "SET password_hash = :h", {":h": password_hash},
            condition="attribute_exists(PK)")


def op_mark_email_verified(email: str, account_id: str, now: int, token_hash: str | None = None) -> dict:
    """Verified accounts no longer expire. Only the account the token was issued for, unexpired,
    and only with its newest verification link (`verify_token`, when the account keeps one)."""
    return _op_update(_account_key(email), "SET email_verified = :t REMOVE expires_at, verify_token",
                      {":t": True, ":a": account_id, ":now": now, ":h": token_hash or ""},
                      condition="account_id = :a AND (attribute_not_exists(expires_at) OR expires_at > :now) "
                                "AND (attribute_not_exists(verify_token) OR verify_token = :h)")


def op_add_method_summary(email: str, method_id: str, summary: dict, primary: bool, first_only: bool = False,
                          account_id: str | None = None) -> dict:
    """The account item keeps a summary of active methods so the password step needs no
    query, and a count of the primary ones (those that are not only a backup). With
    `first_only`, it holds only while the account has no primary method yet. With
    `account_id`, only while the email is still this account's (an email change moves it)."""
    condition = "attribute_exists(PK)"
    values = {":s": summary, ":n": 1 if primary else 0}
    if account_id is not None:
        condition += " AND account_id = :a"
        values[":a"] = account_id
    if first_only:
        condition += " AND (attribute_not_exists(primary_methods) OR primary_methods = :zero)"
        values[":zero"] = 0
    return _op_update(_account_key(email), "SET methods.#m = :s ADD primary_methods :n", values,
                      condition=condition, names={"#m": method_id})


def op_remove_method_summary(email: str, method_id: str, primary: bool) -> dict:
    """Refused (ConditionFailed) when it would remove the last primary method: the count is
    checked by the write itself, so two concurrent removals cannot both pass."""
    condition = "attribute_exists(methods.#m)"
    values = {":n": -1 if primary else 0}
    if primary:
        condition += " AND primary_methods > :one"
        values[":one"] = 1
    return _op_update(_account_key(email), "REMOVE methods.#m ADD primary_methods :n", values,
                      condition=condition, names={"#m": method_id})


def op_rename_method_summary(email: str, method_id: str, label: str) -> dict:
    return _op_update(_account_key(email), "SET methods.#m.label = :l", {":l": label},
                      condition="attribute_exists(methods.#m)", names={"#m": method_id})


# ---------------------------------------------------------------- email tokens

def op_put_email_token(token_hash: str, data: dict) -> dict:
    return _op_put(_email_token_key(token_hash), data)


def get_email_token(token_hash: str, now: int) -> dict | None:
    return _get(_email_token_key(token_hash), now)


def op_consume_email_token(token_hash: str, now: int) -> dict:
    """Single use and unexpired, decided by the write itself."""
    return _op_delete(_email_token_key(token_hash), condition="attribute_exists(PK) AND expires_at > :now",
                      values={":now": now})


# ---------------------------------------------------------------- email address: resend and change

def op_set_verify_token(email: str, account_id: str, token_hash: str, now: int) -> dict:
    """A new verification link replaces the previous one: only `verify_token` verifies. Only
    on the unverified, unexpired account it was asked for."""
    return _op_update(_account_key(email), "SET verify_token = :h", {":h": token_hash, ":a": account_id,
                                                                       ":f": False, ":now": now},
                      condition="account_id = :a AND email_verified = :f AND expires_at > :now")


def op_set_email_change_token(email: str, account_id: str, token_hash: str) -> dict:
    """The newest email-change link is the only one that can move the account."""
    return _op_update(_account_key(email), "SET email_change_token = :h", {":h": token_hash, ":a": account_id},
                      condition="account_id = :a")


def op_move_account(account: dict, new_email: str, token_hash: str, now: int) -> list[dict]:
    """Two transaction parts moving an account item to another email: the old item goes, only
    while it is this account's with this change link; the new one is created only where no
    live account is (as op_create_account: what keeps emails unique, racing or not)."""
    moved = {k: v for k, v in account.items() if k not in ("PK", "SK", "email_change_token")}
    moved["email"] = new_email
    return [_op_delete(_account_key(account["email"]), condition="account_id = :a AND email_change_token = :h",
                       values={":a": account["account_id"], ":h": token_hash}),
            op_create_account(moved, now)]
