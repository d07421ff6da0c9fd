"""The only module that knows DynamoDB: keys, conditional writes, transactions, TTL and
type conversion.

Single-table layout (PK/SK strings, one generic index GSI1):

  account          EMAIL#<email>           ACCOUNT        login identity: password hash,
                                                          verified flag, summary of active methods
  method           ACCOUNT#<id>            METHOD#<mid>   secret (KMS ciphertext); pending ones expire
  lockout          ACCOUNT#<id>            LOCKOUT        consecutive second-factor failures
  login attempt    LOGIN#<login_id>        LOGIN          5 min
  session          SESSION#<sha256(tok)>   SESSION        sliding expiry; GSI1: ACCOUNT#<id> / SESSION#<created>
  email token      TOKEN#<sha256(tok)>     TOKEN          24 h
  audit event      ACCOUNT#<id>            EVENT#<ms>#<id> 400 days
  notice (outbox)  OUTBOX#<id>             OUTBOX         deleted once delivered (no TTL: never lost)
  CLI login        DEVICECODE#<sha256>     DEVICECODE     10 min (RFC 8628 device authorization)
  CLI user code    USERCODE#<code>         USERCODE       10 min, points at its device code
  rate limit       LIMIT#<scope>#<key>     WINDOW#<start> end of the window
  WebAuthn lookup  CREDENTIAL#<sha256(id)> CREDENTIAL     credential id -> account and method
  push pairing     PAIRING#<sha256(code)>  PAIRING        10 min, single use: code -> pending push method
  push device      DEVICE#<device_id>      DEVICE         public key, SNS endpoint; expires until confirmed
  device nonce     DEVICE#<device_id>      NONCE#<nonce>  10 min: each signed request's nonce, used once
  push challenge   DEVICE#<device_id>      CHALLENGE#<id> 2 min (kept 1 h for the record)
  pending pushes   ACCOUNT#<id>            PUSHPENDING    the account's unanswered push challenges

Everything that expires carries `expires_at` (epoch seconds, the table's TTL attribute) and
is also checked on read here, because DynamoDB deletes expired items hours late.

Services compose several writes into one transaction with the `op_*` builders and
`transact`; a failed condition raises ConditionFailed naming which part failed.
"""
from decimal import Decimal

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import ApiError

GSI1 = "GSI1"


class ConditionFailed(Exception):
    """A conditional write did not hold. `reasons` has one code per transaction part
    ("ConditionalCheckFailed" or "None"); `old` is the item as it was, when asked for."""

    def __init__(self, reasons: list[str] | None = None, old: dict | None = None):
        super().__init__(reasons)
        self.reasons = reasons or []
        self.old = old

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


# ---------------------------------------------------------------- conversion

def _serializer():
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer():
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _plain(value):
    """DynamoDB values to plain Python: Decimal to int (or float), Binary to bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_plain(v) for v in value}
    from boto3.dynamodb.types import Binary

    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def _to_attr_values(values: dict) -> dict:
    ser = _serializer()
    return {k: ser.serialize(v) for k, v in values.items()}


def _to_item(data: dict) -> dict:
    ser = _serializer()
    return {k: ser.serialize(v) for k, v in data.items() if v is not None}


def _from_item(item: dict | None) -> dict | None:
    if item is None:
        return None
    de = _deserializer()
    data = {k: _plain(de.deserialize(v)) for k, v in item.items()}
    for internal in ("PK", "SK", "GSI1PK", "GSI1SK"):
        data.pop(internal, None)
    return data


def _alive(item: dict | None, now: int) -> dict | None:
    """Expiry checked on read: an item past `expires_at` does not exist for us."""
    if item is None:
        return None
    expires_at = item.get("expires_at")
    if expires_at is not None and expires_at <= now:
        return None
    return item


def _db():
    return aws.client("dynamodb")


def _table() -> str:
    return get_settings().table_name


# ---------------------------------------------------------------- keys

def _account_key(email: str) -> dict:
    return {"PK": f"EMAIL#{email}", "SK": "ACCOUNT"}


def _method_key(account_id: str, method_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": f"METHOD#{method_id}"}


def _lockout_key(account_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "LOCKOUT"}


def _login_key(login_id: str) -> dict:
    return {"PK": f"LOGIN#{login_id}", "SK": "LOGIN"}


def _session_key(token_hash: str) -> dict:
    return {"PK": f"SESSION#{token_hash}", "SK": "SESSION"}


def _email_token_key(token_hash: str) -> dict:
    return {"PK": f"TOKEN#{token_hash}", "SK": "TOKEN"}


def _event_key(account_id: str, at_ms: int, event_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": f"EVENT#{at_ms:015d}#{event_id}"}


def _notice_key(notice_id: str) -> dict:
    return {"PK": f"OUTBOX#{notice_id}", "SK": "OUTBOX"}


def _device_code_key(device_hash: str) -> dict:
    return {"PK": f"DEVICECODE#{device_hash}", "SK": "DEVICECODE"}


def _user_code_key(user_code: str) -> dict:
    return {"PK": f"USERCODE#{user_code}", "SK": "USERCODE"}


def _limit_key(scope: str, key: str, window_start: int) -> dict:
    return {"PK": f"LIMIT#{scope}#{key}", "SK": f"WINDOW#{window_start}"}


def _credential_key(credential_id: bytes) -> dict:
    import hashlib

    # Hashed: a credential id may be up to 1023 bytes, and the key stays short and uniform.
    return {"PK": f"CREDENTIAL#{hashlib.sha256(credential_id).hexdigest()}", "SK": "CREDENTIAL"}


def _pairing_key(code_hash: str) -> dict:
    return {"PK": f"PAIRING#{code_hash}", "SK": "PAIRING"}


def _device_key(device_id: str) -> dict:
    return {"PK": f"DEVICE#{device_id}", "SK": "DEVICE"}


def _nonce_key(device_id: str, nonce: str) -> dict:
    return {"PK": f"DEVICE#{device_id}", "SK": f"NONCE#{nonce}"}


def _challenge_key(device_id: str, challenge_id: str) -> dict:
    return {"PK": f"DEVICE#{device_id}", "SK": f"CHALLENGE#{challenge_id}"}


def _push_pending_key(account_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "PUSHPENDING"}


def _key(key: dict) -> dict:
    return {k: {"S": v} for k, v in key.items()}


# ---------------------------------------------------------------- primitives

def _get(key: dict, now: int | None) -> dict | None:
    """The item, unless it has expired; `now` None returns it either way (the caller
    tells an expired item from an unknown one)."""
    response = _db().get_item(TableName=_table(), Key=_key(key), ConsistentRead=True)
    item = _from_item(response.get("Item"))
    return item if now is None else _alive(item, now)


def _is_condition_failure(error) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Busy(ApiError):
    """An item was being written by a concurrent transaction, still after a few retries."""

    def __init__(self):
        super().__init__(429, "try_again", "Another request is changing the same data. Try again.",
                         headers={"Retry-After": "1"}, extra={"retry_after": 1})


_CONFLICT_RETRIES = 4


def _pause(attempt: int) -> None:
    """Jittered, growing pause between retries of a conflicting or throttled request."""
    import random
    import time

    time.sleep(random.uniform(0.01, 0.04) * 2 ** attempt)


def transact(ops: list[dict]) -> None:
    """Run the op_* parts as one all-or-nothing transaction. A conflict with a concurrent
    transaction on the same item (TransactionConflict) is retried, then answered as Busy."""
    from botocore.exceptions import ClientError

    table = _table()
    for op in ops:
        next(iter(op.values()))["TableName"] = table
    for attempt in range(_CONFLICT_RETRIES):
        try:
            _db().transact_write_items(TransactItems=ops)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionFailed(reasons) from None
            if "TransactionConflict" not in reasons:
                raise
            _pause(attempt)
    raise Busy()


def _update(key: dict, expression: str, values: dict, condition: str | None = None,
            names: dict | None = None, returns: str = "NONE") -> dict | None:
    from botocore.exceptions import ClientError

    kwargs = {
        "TableName": _table(),
        "Key": _key(key),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": _to_attr_values(values),
        "ReturnValues": returns,
    }
    if condition:
        kwargs["ConditionExpression"] = condition
        kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if names:
        kwargs["ExpressionAttributeNames"] = names
    for attempt in range(_CONFLICT_RETRIES):
        try:
            response = _db().update_item(**kwargs)
            return _from_item(response.get("Attributes"))
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed(["ConditionalCheckFailed"], old=_from_item(error.response.get("Item"))) from None
            # The item is part of a transaction in flight.
            if error.response.get("Error", {}).get("Code") != "TransactionConflictException":
                raise
            _pause(attempt)
    raise Busy()


def _assignments(attributes: dict, prefix: str = "u") -> tuple[list[str], dict, dict]:
    """`#u0 = :u0`-style assignments for arbitrary attribute names: (clauses, names, values)."""
    names = {f"#{prefix}{i}": name for i, name in enumerate(attributes)}
    values = {f":{prefix}{i}": value for i, value in enumerate(attributes.values())}
    return [f"#{prefix}{i} = :{prefix}{i}" for i in range(len(attributes))], names, values


def _op_put(key: dict, data: dict, condition: str | None = None, values: dict | None = None) -> dict:
    put = {"Item": _to_item({**key, **data})}
    if condition:
        put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = _to_attr_values(values)
    return {"Put": put}


def _op_update(key: dict, expression: str, values: dict | None = None, condition: str | None = None,
               names: dict | None = None) -> dict:
    update = {"Key": _key(key), "UpdateExpression": expression}
    if values:
        update["ExpressionAttributeValues"] = _to_attr_values(values)
    if condition:
        update["ConditionExpression"] = condition
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def _op_delete(key: dict, condition: str | None = None, values: dict | None = None) -> dict:
    delete = {"Key": _key(key)}
    if condition:
        delete["ConditionExpression"] = condition
        if values:
            delete["ExpressionAttributeValues"] = _to_attr_values(values)
    return {"Delete": delete}


# ---------------------------------------------------------------- accounts

def op_create_account(account: dict, now: int) -> dict:
    """Fails (ConditionFailed) when the email is taken: this is what keeps emails unique. An
    account never verified expires (`expires_at`); once past it, even before TTL removes it,
    the email is free again."""
    return _op_put(_account_key(account["email"]), account,
                   condition="attribute_not_exists(PK) OR expires_at <= :now", values={":now": now})


def get_account(email: str, now: int) -> dict | None:
    return _get(_account_key(email), now)


def set_password_hash(email: str, password_hash: str) -> None:
    _update(_account_key(email), "SET password_hash = :h", {":h": password_hash},
            condition="attribute_exists(PK)")


def op_mark_email_verified(email: str, account_id: str, now: int) -> dict:
    """Verified accounts no longer expire. Only the account the token was issued for, unexpired."""
    return _op_update(_account_key(email), "SET email_verified = :t REMOVE expires_at",
                      {":t": True, ":a": account_id, ":now": now},
                      condition="account_id = :a AND (attribute_not_exists(expires_at) OR expires_at > :now)")


def op_add_method_summary(email: str, method_id: str, summary: dict, primary: bool, first_only: bool = False) -> dict:
    """The account item keeps a summary of active methods so the password step needs no
    query, and a count of the primary ones (those that are not only a backup). With
    `first_only`, it holds only while the account has no primary method yet."""
    condition = "attribute_exists(PK)"
    values = {":s": summary, ":n": 1 if primary else 0}
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


# ---------------------------------------------------------------- methods

def op_put_pending_method(account_id: str, method: dict) -> dict:
    return _op_put(_method_key(account_id, method["method_id"]), method, condition="attribute_not_exists(PK)")


def reserve_enrollment_try(account_id: str, method_id: str, now: int, max_tries: int) -> None:
    """Count a try at confirming a pending method (a push pairing's phrase) before it is
    checked; ConditionFailed once `max_tries` were used, or when it is not pending."""
    _update(_method_key(account_id, method_id), "ADD confirm_tries :one",
            {":one": 1, ":now": now, ":max": max_tries, ":pending": "pending"},
            condition="#status = :pending AND expires_at > :now AND "
                      "(attribute_not_exists(confirm_tries) OR confirm_tries < :max)",
            names={"#status": "status"})


def get_method(account_id: str, method_id: str, now: int) -> dict | None:
    return _get(_method_key(account_id, method_id), now)


def list_methods(account_id: str, now: int) -> list[dict]:
    items = _query("PK = :pk AND begins_with(SK, :prefix)",
                   {":pk": f"ACCOUNT#{account_id}", ":prefix": "METHOD#"})
    return [m for m in (_alive(i, now) for i in items) if m]


def op_put_active_method(account_id: str, method: dict) -> dict:
    return _op_put(_method_key(account_id, method["method_id"]), method, condition="attribute_not_exists(PK)")


def op_replace_method_record(account_id: str, method_id: str, record: dict, now: int,
                             replaces: str | None, generation: str) -> dict:
    """Overwrite a method's secret material in one write (e.g. a new set of recovery codes),
    only if it is still the generation `replaces` that was read: of two concurrent
    replacements one wins and the other fails, rather than both answering with codes."""
    clauses, names, values = _assignments(record, "r")
    sets = ", ".join(clauses)
    condition = "#status = :active AND "
    condition += "generation = :old" if replaces else "attribute_not_exists(generation)"
    values.update({":now": now, ":active": "active", ":new": generation})
    if replaces:
        values[":old"] = replaces
    return _op_update(_method_key(account_id, method_id), f"SET {sets}, replaced_at = :now, generation = :new",
                      values, condition=condition, names={**names, "#status": "status"})


def op_rename_method(account_id: str, method_id: str, label: str) -> dict:
    return _op_update(_method_key(account_id, method_id), "SET label = :l", {":l": label, ":active": "active"},
                      condition="#status = :active", names={"#status": "status"})


def op_delete_method(account_id: str, method_id: str) -> dict:
    return _op_delete(_method_key(account_id, method_id), condition="attribute_exists(PK)")


def op_activate_method(account_id: str, method_id: str, now: int, updates: dict,
                       removes: tuple[str, ...] = ()) -> dict:
    """Pending -> active, only while the pending enrolment is unexpired. `updates` are set on
    the method and `removes` (enrolment-only attributes, such as a challenge) dropped."""
    clauses, names, values = _assignments(updates)
    sets = "".join(f", {clause}" for clause in clauses)
    names.update({f"#x{i}": name for i, name in enumerate(removes)})
    dropped = "".join(f", #x{i}" for i in range(len(removes)))
    return _op_update(
        _method_key(account_id, method_id),
        f"SET #status = :active, activated_at = :now{sets} REMOVE expires_at{dropped}",
        {":active": "active", ":pending": "pending", ":now": now, **values},
        condition="#status = :pending AND expires_at > :now",
        names={"#status": "status", **names},
    )


def op_use_method(account_id: str, method_id: str, now: int, counter: str | None = None,
                  counter_value: int | None = None, consume: tuple[str, str] | None = None,
                  updates: dict | None = None) -> dict:
    """Record a successful verification, one-time by the write's own condition:
    - `counter`: only when the new value is greater than the stored one (a TOTP step, a
      WebAuthn signature count);
    - `consume`: (set attribute, member) removes the member, only while it is present
      (a recovery code).
    Either way two concurrent requests cannot both succeed. `updates` are other attributes
    the verification refreshed (a passkey's backup state)."""
    expression = "SET last_used_at = :now"
    values = {":now": now, ":active": "active"}
    condition = "#status = :active"
    clauses, extra_names, extra_values = _assignments(updates or {})
    expression += "".join(f", {clause}" for clause in clauses)
    names = {"#status": "status", **extra_names}
    values.update(extra_values)
    if counter:
        expression += ", #c = :c"
        values[":c"] = counter_value
        names["#c"] = counter
        condition += " AND (attribute_not_exists(#c) OR #c < :c)"
    if consume:
        expression += " DELETE #set :members"
        values[":members"] = {consume[1]}
        values[":member"] = consume[1]
        names["#set"] = consume[0]
        condition += " AND contains(#set, :member)"
    return _op_update(_method_key(account_id, method_id), expression, values, condition=condition, names=names)


def op_update_active_method(account_id: str, method_id: str, updates: dict) -> dict:
    """Set attributes on an active method (a WebAuthn credential marked suspicious, an SMS code sent)."""
    clauses, names, values = _assignments(updates)
    return _op_update(_method_key(account_id, method_id), f"SET {', '.join(clauses)}", {**values, ":active": "active"},
                      condition="#status = :active", names={**names, "#status": "status"})


# ---------------------------------------------------------------- WebAuthn credential lookup

def op_put_credential(credential_id: bytes, account_id: str, method_id: str) -> dict:
    """Fails when the credential is registered already, on any account."""
    return _op_put(_credential_key(credential_id), {"account_id": account_id, "method_id": method_id},
                   condition="attribute_not_exists(PK)")


def op_delete_credential(credential_id: bytes, account_id: str) -> dict:
    return _op_delete(_credential_key(credential_id), condition="account_id = :a", values={":a": account_id})


# ---------------------------------------------------------------- push: pairing, devices, nonces

def op_put_pairing(code_hash: str, data: dict) -> dict:
    return _op_put(_pairing_key(code_hash), data, condition="attribute_not_exists(PK)")


def get_pairing(code_hash: str, now: int) -> dict | None:
    return _get(_pairing_key(code_hash), now)


def op_consume_pairing(code_hash: str, now: int) -> dict:
    """Single use and unexpired, decided by the write itself."""
    return _op_delete(_pairing_key(code_hash), condition="attribute_exists(PK) AND expires_at > :now",
                      values={":now": now})


def op_attach_device(account_id: str, method_id: str, now: int, updates: dict) -> dict:
    """Record the paired device on a pending push method, once."""
    clauses, names, values = _assignments(updates)
    return _op_update(_method_key(account_id, method_id), f"SET {', '.join(clauses)}",
                      {**values, ":pending": "pending", ":now": now},
                      condition="#status = :pending AND expires_at > :now AND attribute_not_exists(device_id)",
                      names={**names, "#status": "status"})


def op_put_device(device_id: str, device: dict) -> dict:
    return _op_put(_device_key(device_id), device, condition="attribute_not_exists(PK)")


def get_device(device_id: str, now: int) -> dict | None:
    return _get(_device_key(device_id), now)


def op_activate_device(device_id: str, now: int) -> dict:
    return _op_update(_device_key(device_id), "SET #status = :active, activated_at = :now REMOVE expires_at",
                      {":active": "active", ":pending": "pending", ":now": now},
                      condition="#status = :pending AND expires_at > :now", names={"#status": "status"})


def op_delete_device(device_id: str, account_id: str) -> dict:
    return _op_delete(_device_key(device_id), condition="account_id = :a", values={":a": account_id})


def set_device_push_token(device_id: str, push_token_hash: str, now: int) -> None:
    _update(_device_key(device_id), "SET push_token_hash = :t, push_token_updated_at = :now",
            {":t": push_token_hash, ":now": now, ":active": "active"},
            condition="#status = :active", names={"#status": "status"})


def use_device_nonce(device_id: str, nonce: str, expires_at: int, now: int) -> None:
    """A signed request's nonce, accepted once; ConditionFailed for a replay."""
    from botocore.exceptions import ClientError

    try:
        _db().put_item(TableName=_table(), Item=_to_item({**_nonce_key(device_id, nonce), "expires_at": expires_at}),
                       ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                       ExpressionAttributeValues=_to_attr_values({":now": now}))
    except ClientError as error:
        if _is_condition_failure(error):
            raise ConditionFailed(["ConditionalCheckFailed"]) from None
        raise


# ---------------------------------------------------------------- push: challenges

def op_put_challenge(device_id: str, challenge_id: str, challenge: dict) -> dict:
    return _op_put(_challenge_key(device_id, challenge_id), challenge, condition="attribute_not_exists(PK)")


def get_challenge(device_id: str, challenge_id: str) -> dict | None:
    """Expired ones included: the caller tells "expired" from "unknown"."""
    return _get(_challenge_key(device_id, challenge_id), None)


def list_challenges(device_id: str, now: int) -> list[dict]:
    items = _query("PK = :pk AND begins_with(SK, :prefix)", {":pk": f"DEVICE#{device_id}", ":prefix": "CHALLENGE#"})
    return [c for c in items if c["answer_by"] > now]


def op_decide_challenge(device_id: str, challenge_id: str, status: str, now: int, reason: str | None) -> dict:
    """Pending -> approved/denied, once and in time: of two answers the first wins."""
    return _op_update(_challenge_key(device_id, challenge_id),
                      "SET #status = :s, decided_at = :now, reason = :r",
                      {":s": status, ":now": now, ":r": reason or "", ":pending": "pending"},
                      condition="#status = :pending AND answer_by > :now", names={"#status": "status"})


def op_use_challenge(device_id: str, challenge_id: str, now: int) -> dict:
    """Approved -> used: an approval issues one session or one step-up."""
    return _op_update(_challenge_key(device_id, challenge_id), "SET #status = :used, used_at = :now",
                      {":used": "used", ":approved": "approved", ":now": now},
                      condition="#status = :approved", names={"#status": "status"})


def op_put_push_pending(account_id: str, pending: dict, recent: list[int], read_version: str | None,
                        version: str) -> dict:
    """Replace the account's map of unanswered challenges (id -> answer-by time) and the
    times of the last hour's requests, only if it is still the version read: two
    concurrent push requests cannot both pass the limits."""
    if read_version is None:
        condition, values = "attribute_not_exists(PK)", None
    else:
        condition, values = "version = :read", {":read": read_version}
    return _op_put(_push_pending_key(account_id), {"pending": pending, "recent": recent, "version": version,
                                                   "expires_at": (max(recent) + 3600) if recent else None},
                   condition, values)


def op_forget_push_pending(account_id: str, challenge_id: str, version: str) -> dict:
    """Drop an answered challenge; the new version makes a push request that read the
    map before this answer write again instead of putting the answered one back."""
    return _op_update(_push_pending_key(account_id), "REMOVE pending.#c SET version = :v", {":v": version},
                      names={"#c": challenge_id})


def _owner_key(kind: str, owner_id: str) -> dict:
    return _login_key(owner_id) if kind == "login" else _session_key(owner_id)


def op_offer_push(kind: str, owner_id: str, now: int, slot: dict, max_tries: int) -> dict:
    """Attach a push challenge to a live login attempt (unused) or session, replacing an
    earlier one: push_challenge_id, push_device_id, push_method_id, push_status,
    push_answer_by."""
    clauses, names, values = _assignments(slot, "p")
    sets = ", ".join(clauses)
    condition = "attribute_exists(PK) AND expires_at > :now"
    values[":now"] = now
    if kind == "login":
        condition += " AND used = :false AND tries < :max"
        values.update({":false": False, ":max": max_tries})
    return _op_update(_owner_key(kind, owner_id), f"SET {sets}", values, condition=condition, names=names)


def op_decide_push(kind: str, owner_id: str, challenge_id: str, status: str, end: bool) -> dict:
    """Record the device's answer where the browser reads it, if that challenge is still
    the owner's current one. `end` (a fraud report) ends the login attempt or session,
    whichever challenge is current."""
    if end and kind == "session":
        return _op_delete(_owner_key(kind, owner_id), condition="attribute_exists(PK)")
    if end:
        return _op_update(_owner_key(kind, owner_id), "SET push_status = :s, used = :true, ended_by = :fraud",
                          {":s": status, ":true": True, ":fraud": "fraud_report"}, condition="attribute_exists(PK)")
    return _op_update(_owner_key(kind, owner_id), "SET push_status = :s", {":c": challenge_id, ":s": status},
                      condition="push_challenge_id = :c")


# ---------------------------------------------------------------- second-factor lockout

def get_method_and_lockout(account_id: str, method_id: str, now: int) -> tuple[dict | None, dict | None]:
    """One round trip for the two items the verify step needs."""
    return _get_two(_method_key(account_id, method_id), _lockout_key(account_id), now)


def get_method_and_push_pending(account_id: str, method_id: str, now: int) -> tuple[dict | None, dict | None]:
    """One round trip for a push request: the method, and the account's pending pushes."""
    return _get_two(_method_key(account_id, method_id), _push_pending_key(account_id), now)


def _get_two(first: dict, second: dict, now: int) -> tuple[dict | None, dict | None]:
    """Two items in one consistent batch read: the first checked for expiry, the second as is."""
    request = {_table(): {"Keys": [_key(k) for k in (first, second)], "ConsistentRead": True}}
    found = {}
    # A throttled key comes back unprocessed: ask again, never read it as missing.
    for attempt in range(_CONFLICT_RETRIES + 1):
        response = _db().batch_get_item(RequestItems=request)
        found.update({(i["PK"]["S"], i["SK"]["S"]): _from_item(i) for i in response["Responses"].get(_table(), [])})
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
        _pause(attempt)
    else:
        raise Busy()
    return _alive(found.get((first["PK"], first["SK"])), now), found.get((second["PK"], second["SK"]))


def reserve_second_factor_try(account_id: str, expected: int, now: int, locked_until: int | None) -> None:
    """Count a try as a failure before its proof is checked (a success deletes the item), and
    only if the count is still `expected`: tries on one account go one at a time, so no
    burst of parallel guesses gets past the lockout. `locked_until` engages the lock with
    the try that reaches the threshold. ConditionFailed when another try got there first."""
    condition = "attribute_not_exists(failures) OR failures = :expected"
    values = {":n": expected + 1, ":now": now, ":expected": expected}
    expression = "SET failures = :n, last_failure_at = :now"
    if locked_until is not None:
        expression += ", locked_until = :until"
        values[":until"] = locked_until
    _update(_lockout_key(account_id), expression, values, condition=condition)


def op_reset_lockout(account_id: str) -> dict:
    return _op_delete(_lockout_key(account_id))


# ---------------------------------------------------------------- login attempts

def op_put_login_attempt(login_id: str, attempt: dict) -> dict:
    return _op_put(_login_key(login_id), attempt, condition="attribute_not_exists(PK)")


def reserve_login_try(login_id: str, now: int, max_tries: int, takes: tuple[str, ...] = (),
                      requires: tuple[tuple[str, str], ...] = (), browser_hash: str | None = None) -> dict:
    """Count a try before the code is checked, so a burst of parallel guesses cannot get
    more than `max_tries` codes evaluated. Returns the attempt as it was (with `tries`
    counting this one); raises ConditionFailed (with `old` None for an unknown attempt) when
    it is used, expired or out of tries. The same write removes the attributes `takes`
    names, and holds only if the attributes `requires` names have those values (else nothing
    is counted, and `old` tells why). `browser_hash` must be the attempt's own."""
    condition = "attribute_exists(PK) AND used = :false AND expires_at > :now AND tries < :max"
    values = {":one": 1, ":now": now, ":max": max_tries, ":false": False}
    if browser_hash is not None:
        condition += " AND browser_hash = :browser"
        values[":browser"] = browser_hash
    required, names, required_values = _equalities(requires)
    condition += required
    values.update(required_values)
    attempt = _update(_login_key(login_id), "ADD tries :one" + _removal(takes), values, condition=condition,
                      names=names or None, returns="ALL_OLD")
    attempt["tries"] += 1
    return attempt


def _equalities(requires: tuple[tuple[str, str], ...]) -> tuple[str, dict, dict]:
    """Condition clauses `AND #rN = :rN` for each (attribute, value), with their names and values."""
    clause, names, values = "", {}, {}
    for i, (attribute, value) in enumerate(requires):
        clause += f" AND #r{i} = :r{i}"
        names[f"#r{i}"] = attribute
        values[f":r{i}"] = value
    return clause, names, values


def _removal(takes: tuple[str, ...]) -> str:
    return (" REMOVE " + ", ".join(takes)) if takes else ""


def get_login_attempt(login_id: str) -> dict | None:
    """Expired ones included: the caller answers 410 for those, 404 for unknown ones."""
    return _get(_login_key(login_id), None)


def set_login_challenge(login_id: str, now: int, challenge: str, expires_at: int, offered: dict) -> None:
    """Attach a fresh WebAuthn challenge, and the credentials offered with it, to a live,
    unused attempt (replacing earlier ones); ConditionFailed otherwise."""
    _update(_login_key(login_id), "SET challenge = :c, challenge_expires_at = :exp, offered = :o",
            {":c": challenge, ":exp": expires_at, ":o": offered, ":now": now, ":false": False},
            condition="attribute_exists(PK) AND used = :false AND expires_at > :now")


def op_consume_login_attempt(login_id: str, now: int) -> dict:
    return _op_update(_login_key(login_id), "SET used = :true, used_at = :now",
                      {":true": True, ":false": False, ":now": now},
                      condition="attribute_exists(PK) AND used = :false AND expires_at > :now")


# ---------------------------------------------------------------- sessions

def op_put_session(token_hash: str, session: dict) -> dict:
    gsi = {"GSI1PK": f"ACCOUNT#{session['account_id']}",
           "GSI1SK": f"SESSION#{session['created_at']:012d}#{session['session_id']}"}
    return _op_put(_session_key(token_hash), {**session, **gsi}, condition="attribute_not_exists(PK)")


def op_delete_session(token_hash: str) -> dict:
    return _op_delete(_session_key(token_hash))


def get_session(token_hash: str, now: int) -> dict | None:
    # Strongly consistent: a logout or revocation takes effect on the very next request.
    session = _get(_session_key(token_hash), now)
    if session is not None:
        session["token_hash"] = token_hash
    return session


def touch_session(token_hash: str, now: int, expires_at: int) -> None:
    """Slide the expiry; the session may have been revoked meanwhile, then nothing is written."""
    try:
        _update(_session_key(token_hash), "SET last_seen_at = :now, expires_at = :exp",
                {":now": now, ":exp": expires_at}, condition="attribute_exists(PK) AND expires_at > :now")
    except ConditionFailed:
        pass


def reserve_step_up_try(token_hash: str, now: int, max_tries: int, takes: tuple[str, ...] = ()) -> dict:
    """As reserve_login_try, for step-up on a live session."""
    session = _update(
        _session_key(token_hash), "ADD step_up_tries :one" + _removal(takes),
        {":one": 1, ":now": now, ":max": max_tries},
        condition="attribute_exists(PK) AND expires_at > :now AND "
                  "(attribute_not_exists(step_up_tries) OR step_up_tries < :max)",
        returns="ALL_OLD",
    )
    session["step_up_tries"] = session.get("step_up_tries", 0) + 1
    return session


def set_session_challenge(token_hash: str, now: int, challenge: str, expires_at: int, offered: dict) -> None:
    """A WebAuthn challenge for step-up on this session, with the credentials offered
    (replacing earlier ones)."""
    _update(_session_key(token_hash), "SET challenge = :c, challenge_expires_at = :exp, offered = :o",
            {":c": challenge, ":exp": expires_at, ":o": offered, ":now": now},
            condition="attribute_exists(PK) AND expires_at > :now")


def op_mark_step_up(token_hash: str, now: int) -> dict:
    return _op_update(_session_key(token_hash), "SET mfa_at = :now, step_up_tries = :zero",
                      {":now": now, ":zero": 0}, condition="attribute_exists(PK) AND expires_at > :now")


def delete_sessions(token_hashes: list[str]) -> None:
    for start in range(0, len(token_hashes), 25):
        requests = [{"DeleteRequest": {"Key": _key(_session_key(h))}} for h in token_hashes[start:start + 25]]
        pending = {_table(): requests}
        while pending:
            pending = _db().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def list_sessions(account_id: str, now: int) -> list[dict]:
    items = _query("GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
                   {":pk": f"ACCOUNT#{account_id}", ":prefix": "SESSION#"}, index=GSI1, keep_pk=True)
    sessions = []
    for item in items:
        token_hash = item.pop("_pk").removeprefix("SESSION#")
        if _alive(item, now):
            item["token_hash"] = token_hash
            sessions.append(item)
    return sessions


def delete_session(token_hash: str, account_id: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _db().delete_item(TableName=_table(), Key=_key(_session_key(token_hash)),
                          ConditionExpression="account_id = :a", ExpressionAttributeValues=_to_attr_values({":a": account_id}))
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


# ---------------------------------------------------------------- audit events

def op_put_event(account_id: str, event: dict) -> dict:
    return _op_put(_event_key(account_id, event["at_ms"], event["event_id"]), event)


def put_event(account_id: str, event: dict) -> None:
    transact([op_put_event(account_id, event)])


def list_events(account_id: str, now: int, limit: int, after_sk: str | None) -> tuple[list[dict], str | None]:
    """Newest first; `after_sk` continues from a previous page's last event."""
    kwargs = {"TableName": _table(), "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
              "ExpressionAttributeValues": _to_attr_values({":pk": f"ACCOUNT#{account_id}", ":prefix": "EVENT#"}),
              "ScanIndexForward": False, "Limit": limit}
    if after_sk:
        kwargs["ExclusiveStartKey"] = _key({"PK": f"ACCOUNT#{account_id}", "SK": after_sk})
    response = _db().query(**kwargs)
    raw_items = response.get("Items", [])
    events = [e for e in (_alive(_from_item(i), now) for i in raw_items) if e]
    last = response.get("LastEvaluatedKey")
    return events, (last["SK"]["S"] if last else None)


def is_event_sort_key(value: str) -> bool:
    parts = value.split("#")
    return (len(parts) == 3 and parts[0] == "EVENT" and len(parts[1]) == 15 and parts[1].isdigit()
            and len(parts[2]) == 32)


# ---------------------------------------------------------------- notices (outbox)

def op_put_notice(notice_id: str, notice: dict) -> dict:
    return _op_put(_notice_key(notice_id), notice, condition="attribute_not_exists(PK)")


def get_notice(notice_id: str) -> dict | None:
    response = _db().get_item(TableName=_table(), Key=_key(_notice_key(notice_id)), ConsistentRead=True)
    return _from_item(response.get("Item"))


def delete_notice(notice_id: str) -> None:
    _db().delete_item(TableName=_table(), Key=_key(_notice_key(notice_id)))


def notice_id_from_stream_keys(keys: dict) -> str | None:
    """The notice id of a stream record's Keys, or None for any other item."""
    pk, sk = keys.get("PK", {}).get("S", ""), keys.get("SK", {}).get("S", "")
    if sk == "OUTBOX" and pk.startswith("OUTBOX#"):
        return pk.removeprefix("OUTBOX#")
    return None


# ---------------------------------------------------------------- CLI logins (device authorization)

def create_cli_login(device_hash: str, user_code: str, record: dict) -> bool:
    """Both items or neither; False when the user code is already taken (pick another)."""
    try:
        transact([
            _op_put(_device_code_key(device_hash), {**record, "user_code": user_code},
                    condition="attribute_not_exists(PK)"),
            _op_put(_user_code_key(user_code), {"device_hash": device_hash, "expires_at": record["expires_at"]},
                    condition="attribute_not_exists(PK)"),
        ])
    except ConditionFailed:
        return False
    return True


def get_cli_login_by_user_code(user_code: str, now: int) -> dict | None:
    pointer = _get(_user_code_key(user_code), now)
    if pointer is None:
        return None
    login = _get(_device_code_key(pointer["device_hash"]), now)
    if login is not None:
        login["device_hash"] = pointer["device_hash"]
    return login


def decide_cli_login(device_hash: str, now: int, status: str, account_id: str, email: str) -> None:
    """Pending -> approved/denied, once, while unexpired; ConditionFailed otherwise."""
    _update(_device_code_key(device_hash),
            "SET #status = :status, account_id = :a, email = :e, decided_at = :now",
            {":status": status, ":a": account_id, ":e": email, ":now": now, ":pending": "pending"},
            condition="attribute_exists(PK) AND #status = :pending AND expires_at > :now",
            names={"#status": "status"})


def record_cli_poll(device_hash: str, now: int) -> dict:
    """Record a token poll, only if it is not earlier than the previous poll allowed; the
    next one is allowed `interval` seconds later. ConditionFailed (with `old`, None for an
    unknown code) when polling too fast."""
    return _update(_device_code_key(device_hash), "SET next_poll_at = :now + #interval",
                   {":now": now},
                   condition="attribute_exists(PK) AND (attribute_not_exists(next_poll_at) OR next_poll_at <= :now)",
                   names={"#interval": "interval"}, returns="ALL_NEW")


def slow_down_cli_login(device_hash: str, now: int, interval: int) -> None:
    """RFC 8628 3.5: a client polling too fast gets a longer interval."""
    _update(_device_code_key(device_hash), "SET #interval = :i, next_poll_at = :next",
            {":i": interval, ":next": now + interval}, condition="attribute_exists(PK)",
            names={"#interval": "interval"})


def op_consume_cli_login(device_hash: str, now: int) -> dict:
    """Approved -> used: the approval yields one token, even to concurrent polls."""
    return _op_update(_device_code_key(device_hash), "SET #status = :used, used_at = :now",
                      {":used": "used", ":approved": "approved", ":now": now},
                      condition="#status = :approved AND expires_at > :now", names={"#status": "status"})


# ---------------------------------------------------------------- rate limits

def op_count_hit(scope: str, key: str, now: int, window: int, limit: int) -> dict:
    """Count one hit in the current fixed window of (scope, key); the transaction fails once
    `limit` hits were counted there."""
    start = now - now % window
    return _op_update(_limit_key(scope, key[:200], start), "ADD hits :one SET expires_at = :end",
                      {":one": 1, ":end": start + window, ":limit": limit},
                      condition="attribute_not_exists(hits) OR hits < :limit")


# ---------------------------------------------------------------- queries

def _query(condition: str, values: dict, index: str | None = None, keep_pk: bool = False) -> list[dict]:
    kwargs = {"TableName": _table(), "KeyConditionExpression": condition,
              "ExpressionAttributeValues": _to_attr_values(values)}
    if index:
        kwargs["IndexName"] = index
    else:
        kwargs["ConsistentRead"] = True
    items = []
    while True:
        response = _db().query(**kwargs)
        for raw in response.get("Items", []):
            item = _from_item(raw)
            if keep_pk:
                item["_pk"] = raw["PK"]["S"]
            items.append(item)
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
