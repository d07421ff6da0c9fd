"""Every key of the single table: the only module that builds (or parses) a PK or SK string.

Layout (PK/SK strings, one generic index GSI1); TTL is the `expires_at` the item carries:

  kind             PK                      SK                  TTL
  account          EMAIL#<email>           ACCOUNT             none once verified; unverified: 24 h
                                                               (login identity: password hash, verified
                                                               flag, summary of active methods,
                                                               password generation, live reset token;
                                                               unverified: the newest pending sign-up,
                                                               and since when sign-ups are pending)
  method           ACCOUNT#<id>            METHOD#<mid>        pending ones (15 min at most, a push
                                                               pairing 10 min); active ones none
  lockout          ACCOUNT#<id>            LOCKOUT             none: consecutive second-factor failures
                                                               and the `version` of the last write (each
                                                               try's write is conditional on it), replaced
                                                               by a version alone on a success; also a
                                                               pending MFA reset (support), which that
                                                               replacement cancels
                   GSI1: MFARESET          GSI1: <due, 12 digits>#<id>   (only while a reset is pending)
  session list     ACCOUNT#<id>            SESSIONS            none: `tokens`, the account's session token
                                                               hashes ("<hash>:<absolute expiry>"), and
                                                               `cli_logins`, its approved CLI logins
                                                               ("<device hash>:<expiry>"), each added in
                                                               the write that makes it; read strongly
                                                               to end them all (the GSI may lag)
  revoked session  ACCOUNT#<id>            REVOKED#<session_id>  until the session would have ended: a
                                                               revocation's record, so its retry
                                                               (the first answer lost) succeeds
  pending pushes   ACCOUNT#<id>            PUSHPENDING         1 h after the last push request: the
                                                               account's unanswered push challenges
  audit event      ACCOUNT#<id>            EVENT#<ms>#<id>     400 days (<ms> 15 digits, <id> 32 hex)
  failed login of  UNKNOWN#<sha256(email),  EVENT#<ms>#<id>     30 days: a wrong password for an email
  an unknown email   32 hex>                                   without an account (password spraying
                                                               shows here); the same size as the
                                                               account's own login_failed event
  login attempt    LOGIN#<login_id>        LOGIN               5 min
  session          SESSION#<sha256(tok)>   SESSION             sliding expiry;
                   GSI1: ACCOUNT#<id>      GSI1: SESSION#<created, 12 digits>#<session_id>
  email token      TOKEN#<sha256(tok)>     TOKEN               24 h (a password reset's: 1 h)
  notice (outbox)  OUTBOX#<id>             OUTBOX              none: deleted once delivered (never lost);
                                                               a sender's claim (`claim`, `claimed_until`)
                   GSI1: OUTBOX#<shard 0-9>  GSI1: <created, 12 digits>#<id>   (every pending notice, for
                                                               the sweeper: a few partitions, no scan)
  CLI login        DEVICECODE#<sha256>     DEVICECODE          10 min (RFC 8628 device authorization)
  CLI user code    USERCODE#<code>         USERCODE            10 min, points at its device code
  rate limit       LIMIT#<scope>#<key>     WINDOW#<start>      end of the window
  (one shard of a  LIMIT#<scope>/<n>#<key> WINDOW#<start>      end of the window
   busy one)
  WebAuthn lookup  CREDENTIAL#<sha256(id)> CREDENTIAL          none: credential id -> account and method
  push pairing     PAIRING#<sha256(code)>  PAIRING             10 min, single use: code -> pending push method
  push device      DEVICE#<device_id>      DEVICE              until confirmed (as its pairing); then none
  device nonce     DEVICE#<device_id>      NONCE#<nonce>       10 min: each signed request's nonce, used once
  push challenge   DEVICE#<device_id>      CHALLENGE#<id>      answer within 2 min; kept 1 h for the record
  SSO connection   SSO#<connection_id>     CONNECTION          none (operators add and remove them)
                   GSI1: SSOCONNECTIONS    GSI1: <connection_id>
  its changes      SSO#<connection_id>     EVENT#<ms>#<id>     400 days (who changed it, with which identity)
  SSO domain       SSODOMAIN#<domain>      SSODOMAIN           none: domain -> its connection, `enforced`
  its enforcement  SSOENFORCED#<n>#<domain>  SSOENFORCED     none: one of DOMAIN_CHECK_COPIES copies, only
                                                               while the domain is enforced (store/sso.py)
  SSO request      SSOREQUEST#<id>         SSOREQUEST          10 min, single use: an OIDC state or a SAML
                                                               AuthnRequest id, bound to one browser
  SAML assertion   SSOASSERTION#<sha256>   SSOASSERTION        the assertion's own expiry: its id, used once
  data key         DATAKEY                 KEY#<key_id>        none: an AES key sealing secrets at rest,
                                                               wrapped by the stage's KMS key
  current data key DATAKEY                 CURRENT             none: a copy of the data key that seals new
                                                               secrets (replaced by a rotation)

Item builders return plain {"PK", "SK"} dicts; `_key` turns one into DynamoDB's typed form.
Query builders return the partition and the sort-key prefix of a kind of item.
"""
GSI1 = "GSI1"


# ---------------------------------------------------------------- items

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


def _unknown_login_event_key(email: str, at_ms: int, event_id: str) -> dict:
    import hashlib

    # As long as ACCOUNT#<32 hex>: both failures of the password step write items of one size.
    return {"PK": f"UNKNOWN#{hashlib.sha256(email.encode()).hexdigest()[:32]}", "SK": f"EVENT#{at_ms:015d}#{event_id}"}


def _notice_key(notice_id: str) -> dict:
    return {"PK": f"OUTBOX#{notice_id}", "SK": "OUTBOX"}


def _device_code_key(device_hash: str) -> dict:
    return {"PK": f"DEVICECODE#{device_hash}", "SK": "DEVICECODE"}


def _user_code_key(user_code: str) -> dict:
    return {"PK": f"USERCODE#{user_code}", "SK": "USERCODE"}


def _limit_key(scope: str, key: str, window_start: int, shard: int | None = None) -> dict:
    # A shard is its own partition key, so a busy counter's writes spread over partitions.
    counter = scope if shard is None else f"{scope}/{shard}"
    return {"PK": f"LIMIT#{counter}#{key}", "SK": f"WINDOW#{window_start}"}


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


def _session_list_key(account_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "SESSIONS"}


def _revoked_session_key(account_id: str, session_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": f"REVOKED#{session_id}"}


def _push_pending_key(account_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "PUSHPENDING"}


def _owner_key(kind: str, owner_id: str) -> dict:
    return _login_key(owner_id) if kind == "login" else _session_key(owner_id)


def _data_key_key(key_id: str) -> dict:
    return {"PK": "DATAKEY", "SK": f"KEY#{key_id}"}


def _current_data_key_key() -> dict:
    return {"PK": "DATAKEY", "SK": "CURRENT"}


def _key(key: dict) -> dict:
    return {k: {"S": v} for k, v in key.items()}


# ---------------------------------------------------------------- sessions' index (GSI1)

def _session_index_key(session: dict) -> dict:
    """GSI1 attributes of a session: the account's sessions, by creation time."""
    return {"GSI1PK": f"ACCOUNT#{session['account_id']}",
            "GSI1SK": f"SESSION#{session['created_at']:012d}#{session['session_id']}"}


def _session_token_hash(pk: str) -> str:
    """The token hash in a session item's PK."""
    return pk.removeprefix("SESSION#")


# ---------------------------------------------------------------- queries: (partition, sort-key prefix)

def _methods_of(account_id: str) -> tuple[str, str]:
    return f"ACCOUNT#{account_id}", "METHOD#"


def _sessions_of(account_id: str) -> tuple[str, str]:
    """On GSI1."""
    return f"ACCOUNT#{account_id}", "SESSION#"


def _events_of(account_id: str) -> tuple[str, str]:
    return f"ACCOUNT#{account_id}", "EVENT#"


def _challenges_of(device_id: str) -> tuple[str, str]:
    return f"DEVICE#{device_id}", "CHALLENGE#"


def _data_keys() -> tuple[str, str]:
    """Every data key (not the current one's copy)."""
    return "DATAKEY", "KEY#"


def _pending_reset_index_key(account_id: str, due_at: int) -> dict:
    """GSI1 attributes of a lockout item with a pending MFA reset: every pending reset, by due time."""
    return {"GSI1PK": "MFARESET", "GSI1SK": f"{due_at:012d}#{account_id}"}


def _pending_resets_due(now: int) -> tuple[str, str]:
    """On GSI1: the partition and the upper bound of the sort key of resets due by `now`."""
    return "MFARESET", f"{now:012d}#~"


# Pending notices are listed under this many GSI1 partitions (by notice id), so that a burst
# of notices does not write one index partition.
OUTBOX_SHARDS = 10


def _notice_index_key(notice_id: str, created_at: int) -> dict:
    """GSI1 attributes of a notice: pending notices by creation time, in OUTBOX_SHARDS partitions."""
    return {"GSI1PK": f"OUTBOX#{int(notice_id[:8], 16) % OUTBOX_SHARDS}",
            "GSI1SK": f"{created_at:012d}#{notice_id}"}


def _pending_notices_before(shard: int, at: int) -> tuple[str, str]:
    """On GSI1: one shard's partition and the upper bound of the sort key of notices written by `at`."""
    return f"OUTBOX#{shard}", f"{at:012d}#~"


# ---------------------------------------------------------------- parsing

def is_event_sort_key(value: str) -> bool:
    parts = value.split("#")
    return (len(parts) == 3 and parts[0] == "EVENT" and len(parts[1]) == 15 and parts[1].isdigit()
            and len(parts[2]) == 32)


def _method_ids(pk: str, sk: str) -> tuple[str, str] | None:
    """(account id, method id) of a method item's key, or None for any other item."""
    if pk.startswith("ACCOUNT#") and sk.startswith("METHOD#"):
        return pk.removeprefix("ACCOUNT#"), sk.removeprefix("METHOD#")
    return None


def _notice_id(pk: str, sk: str) -> str | None:
    """The notice id of an item's key, or None for any other item."""
    if sk == "OUTBOX" and pk.startswith("OUTBOX#"):
        return pk.removeprefix("OUTBOX#")
    return None


# ---------------------------------------------------------------- account deletion
#
#   deletion tombstone  ACCOUNT#<id>        DELETION     none while deleting; once done, the audit
#                                                        events' retention (the account is deleted)
#
# GSI1 also lists, under GSI1PK ACCOUNT#<id>, an account's login attempts (GSI1SK
# LOGIN#<created, 12 digits>#<login_id>) and its decided CLI logins (CLILOGIN#<decided>#<hash>),
# so that deleting the account finds them.

def _deletion_key(account_id: str) -> dict:
    return {"PK": f"ACCOUNT#{account_id}", "SK": "DELETION"}


def _account_partition(account_id: str) -> str:
    """Every item under the account's id (methods, lockout, pending pushes, events, tombstone)."""
    return f"ACCOUNT#{account_id}"


def _device_partition(device_id: str) -> str:
    """A push device, its nonces and its challenges."""
    return f"DEVICE#{device_id}"


def _is_kept_on_deletion(sk: str) -> bool:
    """What deleting an account leaves: its audit events (they expire) and the tombstone."""
    return sk.startswith("EVENT#") or sk == "DELETION"


def _login_index_key(account_id: str, created_at: int, login_id: str) -> dict:
    """GSI1 attributes of a login attempt: found (and deleted) with its account."""
    return {"GSI1PK": f"ACCOUNT#{account_id}", "GSI1SK": f"LOGIN#{created_at:012d}#{login_id}"}


def _cli_login_index_key(account_id: str, decided_at: int, device_hash: str) -> dict:
    """GSI1 attributes of a CLI login once decided (it has an account from then on)."""
    return {"GSI1PK": f"ACCOUNT#{account_id}", "GSI1SK": f"CLILOGIN#{decided_at:012d}#{device_hash}"}


# ---------------------------------------------------------------- single sign-on

SSO_CONNECTIONS = "SSOCONNECTIONS"


def _sso_connection_key(connection_id: str) -> dict:
    return {"PK": f"SSO#{connection_id}", "SK": "CONNECTION"}


def _sso_connection_index_key(connection_id: str) -> dict:
    """GSI1 attributes of a connection: every connection, for operators' listing."""
    return {"GSI1PK": SSO_CONNECTIONS, "GSI1SK": connection_id}


def _sso_connection_event_key(connection_id: str, at_ms: int, event_id: str) -> dict:
    return {"PK": f"SSO#{connection_id}", "SK": f"EVENT#{at_ms:015d}#{event_id}"}


def _sso_domain_key(domain: str) -> dict:
    return {"PK": f"SSODOMAIN#{domain}", "SK": "SSODOMAIN"}


def _sso_enforced_copy_key(domain: str, copy: int) -> dict:
    return {"PK": f"SSOENFORCED#{copy}#{domain}", "SK": "SSOENFORCED"}


def _sso_request_key(request_id: str) -> dict:
    return {"PK": f"SSOREQUEST#{request_id}", "SK": "SSOREQUEST"}


def _sso_assertion_key(issuer: str, assertion_id: str) -> dict:
    import hashlib

    # Hashed: both parts are chosen by the identity provider, of any length.
    digest = hashlib.sha256(f"{issuer}\n{assertion_id}".encode()).hexdigest()
    return {"PK": f"SSOASSERTION#{digest}", "SK": "SSOASSERTION"}
