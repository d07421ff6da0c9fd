"""Accounts (one item per email: the login identity, with a summary of the active methods
and a count of the primary ones) and the single-use email tokens.
"""
import json
from functools import lru_cache

from chalicelib.store.engine import (
    _assignments,
    _db,
    _from_item,
    _get,
    _op_check,
    _op_delete,
    _op_put,
    _op_update,
    _table,
    _to_item,
    _update,
)
from chalicelib.store.keys import _account_key, _email_token_key

# ---------------------------------------------------------------- accounts

def op_create_account(account: dict, now: int) -> dict:
    """Fails (ConditionFailed) when the email has a verified account: this is what keeps
    emails unique. It takes the place of an unverified sign-up (whoever made that may not read
    the address's mail; whoever makes this proved they do), and of an expired one even before
    TTL removes it."""
    return _op_put(_account_key(account["email"]), account,
                   condition="attribute_not_exists(PK) OR expires_at <= :now OR email_verified = :false",
                   values={":now": now, ":false": False})


def op_create_sso_account(account: dict, now: int) -> dict:
    """An account made by a first login through an identity provider, which proved the
    email (op_create_account)."""
    return op_create_account(account, now)


def get_account(email: str, now: int) -> dict | None:
    return _get(_account_key(email), now)


# An account as most are (verified, one method), its values of the usual sizes: what the
# password step parses for an email without an account (parse_stand_in_account).
_STAND_IN = {"account_id": "0" * 32, "email": "stand-in@example.com",
             "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$" + "A" * 22 + "$" + "A" * 43, "email_verified": True,
             "created_at": 1_700_000_000, "methods": {"0" * 32: {"type": "totp", "label": "Authenticator app"}},
             "primary_methods": 1, "verify_token": "0" * 64}


@lru_cache(maxsize=4)
def _stand_in_reply(table: str) -> tuple:
    """The batch read's answer holding the stand-in, as DynamoDB sends it, and botocore's
    parser of it."""
    from botocore import parsers

    model = _db().meta.service_model
    item = _to_item({**_account_key(_STAND_IN["email"]), **_STAND_IN})
    body = json.dumps({"Responses": {table: [item]}, "UnprocessedKeys": {}}).encode()
    return body, parsers.create_parser(model.resolved_protocol), model.operation_model("BatchGetItem").output_shape


def parse_stand_in_account() -> dict:
    """The stand-in parsed as a found account is (botocore's reading of the answer, then the
    item's conversion): the password step pays this for an email without an account, so
    that its time does not tell whether the email has one."""
    body, parser, shape = _stand_in_reply(_table())
    reply = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    return _from_item(reply["Responses"][_table()][0])


def set_password_hash(email: str, password_hash: str) -> None:
    _update(_account_key(email), "SET password_hash = :h", {":h": password_hash},
            condition="attribute_exists(PK)")


def op_put_pending_signup(account: dict, now: int) -> dict:
    """A sign-up waiting for its address to be proved takes the place of the address's
    unverified one, whose links keep working (each link's token record carries its own
    sign-up); it fails (ConditionFailed) only where a verified account is. `pending_since`,
    the first sign-up of this run of unverified ones, stays: a link older than it belongs to
    an earlier life of the address (an account since deleted or moved away) and no longer
    verifies. (Over an expired item it may stay older still: every link of that run has
    expired with it.)"""
    assignments, names, values = _assignments(account)
    return _op_update(_account_key(account["email"]),
                      "SET " + ", ".join(assignments) + ", pending_since = if_not_exists(pending_since, :now) "
                      "REMOVE verify_token",
                      {**values, ":now": now, ":f": False}, names=names,
                      condition="attribute_not_exists(PK) OR email_verified = :f OR expires_at <= :now")


def op_verify_pending_signup(link: dict, token_hash: str, now: int) -> dict:
    """The verified account a link was mailed for, made from the link's own sign-up (its
    account id and password hash, no methods), whichever sign-up the address's unverified item
    now holds. Only while the address has no verified account (so the first link used wins),
    its unverified run is live, and the link is not older than that run (op_put_pending_signup).
    The account keeps the used link's hash (`verify_token`) so that deleting it removes it."""
    return _op_update(_account_key(link["email"]),
                      "SET account_id = :a, password_hash = :p, email_verified = :t, created_at = :now, "
                      "methods = :none, verify_token = :h REMOVE expires_at, pending_since, signup_from",
                      {":a": link["account_id"], ":p": link["password_hash"], ":t": True, ":f": False,
                       ":now": now, ":none": {}, ":made": link["created_at"], ":h": token_hash},
                      condition="email_verified = :f AND expires_at > :now AND pending_since <= :made")


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


def op_use_email_token(token_hash: str, now: int) -> dict:
    """Single use and unexpired, decided by the write itself; the record stays, marked used
    (without the password hash it carried), so that a retried verification can be told what
    became of its link."""
    return _op_update(_email_token_key(token_hash), "SET used_at = :now REMOVE password_hash", {":now": now},
                      condition="attribute_exists(PK) AND expires_at > :now AND attribute_not_exists(used_at)")


def op_consume_email_token(token_hash: str, now: int) -> dict:
    """Single use and unexpired, decided by the write itself."""
    return _op_delete(_email_token_key(token_hash), condition="attribute_exists(PK) AND expires_at > :now",
                      values={":now": now})


# ---------------------------------------------------------------- email address: resend and change

def op_check_pending_signup(email: str, account_id: str, now: int) -> dict:
    """Holds while the address's unverified sign-up is still this one, unexpired."""
    return _op_check(_account_key(email), "account_id = :a AND email_verified = :f AND expires_at > :now",
                     {":a": account_id, ":f": False, ":now": now})


def op_set_email_change_token(email: str, account_id: str, token_hash: str) -> dict:
    """The newest email-change link is the only one that can move the account."""
    return _op_update(_account_key(email), "SET email_change_token = :h", {":h": token_hash, ":a": account_id},
                      condition="account_id = :a")


def op_move_account(account: dict, new_email: str, token_hash: str, now: int) -> list[dict]:
    """Two transaction parts moving an account item to another email: the old item goes, only
    while it is this account's with this change link; the new one is created only where no
    verified account is (op_create_account: what keeps emails unique, racing or not)."""
    moved = {k: v for k, v in account.items() if k not in ("PK", "SK", "email_change_token")}
    moved["email"] = new_email
    return [_op_delete(_account_key(account["email"]), condition="account_id = :a AND email_change_token = :h",
                       values={":a": account["account_id"], ":h": token_hash}),
            op_create_account(moved, now)]
