"""Push approval: pairing devices, challenges with number matching, the app's answers.

Anti-fatigue rules (push bombing): a challenge shows a two-digit number in the browser and
three candidates in the app, a wrong pick counts as a denial; an account has at most
`push_pending_limit` unanswered challenges and `push_hourly_limit` per hour; "this wasn't
me" ends the login attempt (or the session, at step-up), emails the owner and is audited.
"""
import hashlib
import hmac
import secrets

from chalicelib import sns, store
from chalicelib.clock import is_id, now_s, random_bytes, random_id
from chalicelib.config import get_settings
from chalicelib.errors import ApiError
from chalicelib.methods import push as push_method
from chalicelib.services import account_methods, audit, login_attempts, rate_limits
from chalicelib.services.change import Change

LOGIN = "login"
SESSION = "session"
RECORD_SECONDS = 3600   # a decided or expired challenge stays readable this long


# ---------------------------------------------------------------- pairing

def _public_key_spki(public_key) -> bytes:
    """P-256 public key from a JWK (kty EC, crv P-256) or SPKI (base64 DER or PEM): DER SPKI."""
    import base64

    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    invalid = ApiError(400, "invalid_public_key", "public_key must be a P-256 key, as a JWK or an SPKI (DER base64 or PEM).")
    try:
        if isinstance(public_key, dict):
            if public_key.get("kty") != "EC" or public_key.get("crv") != "P-256" or "d" in public_key:
                raise invalid
            decode = lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))  # noqa: E731
            x, y = decode(public_key["x"]), decode(public_key["y"])
            if len(x) != 32 or len(y) != 32:
                raise invalid
            key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                ec.SECP256R1()).public_key()
        elif isinstance(public_key, str) and "BEGIN PUBLIC KEY" in public_key:
            key = serialization.load_pem_public_key(public_key.encode())
        elif isinstance(public_key, str):
            key = serialization.load_der_public_key(base64.b64decode(public_key.strip(), validate=True))
        else:
            raise invalid
    except ApiError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnsupportedAlgorithm):
        raise invalid from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise invalid
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def register_device(pairing_code: str, public_key, push_token: str, platform: str, device_name: str,
                    client: dict) -> dict:
    """The app's side of pairing (no session): the device and its key are recorded on the
    pending method, and the phrase the person must type in the browser is returned."""
    import base64

    n = now_s()
    s = get_settings()
    limits = rate_limits.counters(600, ("device-pairing-ip", client.get("ip") or "unknown", s.device_pairing_limit_per_ip))
    code = push_method.normalise_pairing_code(pairing_code)
    spki = _public_key_spki(public_key)
    not_found = ApiError(404, "pairing_not_found",
                         "This pairing code is unknown, already used or expired. Start pairing again in the browser.")
    pairing = store.get_pairing(push_method.pairing_code_hash(code), n) if code else None
    if pairing is None:
        try:
            store.transact(limits)   # a wrong guess counts too
        except store.ConditionFailed:
            raise rate_limits.limited(600) from None
        raise not_found
    device_id = random_id()
    phrase = push_method.new_phrase()
    salt = random_bytes(16).hex()
    endpoint_arn = sns.create_endpoint(platform, push_token, device_id)
    device = {"device_id": device_id, "account_id": pairing["account_id"], "method_id": pairing["method_id"],
              "email": pairing["email"], "public_key": base64.b64encode(spki).decode(), "platform": platform,
              "device_name": device_name, "endpoint_arn": endpoint_arn,
              "push_token_hash": hashlib.sha256(push_token.encode()).hexdigest(), "status": "pending",
              "created_at": n, "expires_at": pairing["expires_at"]}
    try:
        store.transact([*limits,
                        store.op_consume_pairing(push_method.pairing_code_hash(code), n),
                        store.op_put_device(device_id, device),
                        store.op_attach_device(pairing["account_id"], pairing["method_id"], n, {
                            "device_id": device_id, "device_name": device_name, "platform": platform,
                            "endpoint_arn": endpoint_arn, "phrase_hash": push_method.phrase_digest(phrase, salt),
                            "phrase_salt": salt})])
    except store.ConditionFailed as failed:
        sns.forget_endpoint(endpoint_arn)
        if any(failed.failed(i) for i in range(len(limits))):
            raise rate_limits.limited(600) from None
        raise not_found from None
    return {"device_id": device_id, "confirmation_phrase": phrase}


def confirm_pairing(session: dict, pairing_id: str, phrase: str, client: dict):
    """The browser's side: the phrase the app shows activates the push method. Five wrong
    phrases end the pairing."""
    if not is_id(pairing_id):
        raise ApiError(404, "method_not_found", "No such pairing, or it expired. Start again.")
    try:
        store.reserve_enrollment_try(session["account_id"], pairing_id, now_s(), 5)
    except store.ConditionFailed:
        raise ApiError(410, "pairing_expired", "This pairing expired or had too many wrong phrases. Start again.") from None
    return account_methods.confirm(session, pairing_id, {"phrase": phrase}, client, types={push_method.PushMethod.type})


# ---------------------------------------------------------------- challenges (browser side)

def _browser_and_os(user_agent: str) -> tuple[str, str]:
    """A rough "Chrome on macOS" for the app to show; the full user agent is kept too."""
    ua = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                              ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"))
                    if token in ua), "an unknown browser")
    system = next((name for token, name in (("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
                                             ("Android", "Android"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
                                             ("Linux", "Linux")) if token in ua), "an unknown system")
    return browser, system


def _context(client: dict, n: int) -> dict:
    browser, system = _browser_and_os(client.get("user_agent", ""))
    return {"time": n, "ip": client.get("ip") or "", "location": client.get("location") or None,
            "browser": browser, "os": system, "user_agent": (client.get("user_agent") or "")[:512]}


def _candidates(number: int) -> list[int]:
    others = set()
    while len(others) < 2:
        candidate = 10 + secrets.randbelow(90)
        if candidate != number:
            others.add(candidate)
    shuffled = [number, *others]
    secrets.SystemRandom().shuffle(shuffled)
    return shuffled


def _offer(kind: str, owner_id: str, account_id: str, email: str, method_id: str, client: dict) -> dict:
    n = now_s()
    s = get_settings()
    method, pending_item = (store.get_method_and_push_pending(account_id, method_id, n) if is_id(method_id or "")
                            else (None, None))
    if method is None or method["type"] != push_method.PushMethod.type or method["status"] != "active":
        raise ApiError(404, "method_not_found", "This account has no such mobile app.")
    pending_item = pending_item or {}
    pending = {cid: until for cid, until in (pending_item.get("pending") or {}).items() if until > n}
    if len(pending) >= s.push_pending_limit:
        raise ApiError(429, "push_rate_limited", f"{len(pending)} push requests are already waiting for an answer on "
                       "your phone. Answer or deny them, or wait two minutes, before asking again.",
                       headers={"Retry-After": str(max(pending.values()) - n)},
                       extra={"retry_after": max(pending.values()) - n})
    # The last hour's requests, kept with the pending ones: a sliding window, not a fixed one.
    recent = sorted(t for t in (pending_item.get("recent") or []) if t > n - 3600)
    if len(recent) >= s.push_hourly_limit:
        wait = recent[-s.push_hourly_limit] + 3600 - n
        raise ApiError(429, "push_rate_limited", "Too many push requests this hour. Use another method, or try "
                       "again later.", headers={"Retry-After": str(wait)}, extra={"retry_after": wait})
    challenge_id = random_id()
    number = 10 + secrets.randbelow(90)
    answer_by = n + s.push_challenge_seconds
    challenge = {"challenge_id": challenge_id, "account_id": account_id, "email": email, "method_id": method_id,
                 "device_id": method["device_id"], "owner_kind": kind, "owner_id": owner_id, "number": number,
                 "candidates": _candidates(number), "context": _context(client, n), "status": "pending",
                 "created_at": n, "answer_by": answer_by, "expires_at": n + RECORD_SECONDS}
    try:
        store.transact([
            store.op_put_push_pending(account_id, {**pending, challenge_id: answer_by}, [*recent, n],
                                      pending_item.get("version"), random_id()),
            store.op_put_challenge(method["device_id"], challenge_id, challenge),
            store.op_offer_push(kind, owner_id, n, {"push_challenge_id": challenge_id,
                                                    "push_device_id": method["device_id"],
                                                    "push_method_id": method_id, "push_status": "pending",
                                                    "push_answer_by": answer_by}, s.login_attempt_max_failures),
            audit.op(account_id, "push_requested", client, method_id=method_id, challenge_id=challenge_id,
                     purpose=kind),
        ])
    except store.ConditionFailed as failed:
        if failed.failed(0):   # another push request of the account got there first
            raise store.Busy() from None
        if kind == LOGIN:
            raise login_attempts.gone() from None
        raise ApiError(401, "unauthenticated", "Log in to continue.") from None
    notified = sns.push_challenge(method["endpoint_arn"], challenge_id)
    return {"challenge_id": challenge_id, "number": number, "expires_at": answer_by, "notified": notified}


def offer_for_login(login_id: str, method_id: str, client: dict, browser: str | None) -> dict:
    attempt = login_attempts.live(login_id, browser)
    return _offer(LOGIN, login_id, attempt["account_id"], attempt["email"], method_id, client)


def offer_for_step_up(session: dict, method_id: str, client: dict) -> dict:
    return _offer(SESSION, session["token_hash"], session["account_id"], session["email"], method_id, client)


def status_of(slot: dict, challenge_id: str | None = None) -> dict:
    """pending | approved | denied | expired, as the browser sees it, from the login attempt
    or session the challenge belongs to."""
    current = slot.get("push_challenge_id")
    if current is None or (challenge_id is not None and challenge_id != current):
        raise ApiError(404, "challenge_not_found", "No such push request here.")
    status = slot.get("push_status", "pending")
    if status == "pending" and slot.get("push_answer_by", 0) <= now_s():
        status = "expired"
    return {"status": status, "challenge_id": current, "expires_at": slot.get("push_answer_by")}


def login_status(login_id: str, browser: str | None) -> dict:
    attempt = login_attempts.owned(login_id, browser)
    if login_attempts.is_over(attempt):
        return {"status": "expired", "challenge_id": attempt.get("push_challenge_id"),
                "expires_at": attempt.get("push_answer_by")}
    if "push_challenge_id" not in attempt:
        return {"status": "pending", "challenge_id": None, "expires_at": None}
    return status_of(attempt)


def proof_from(slot: dict, challenge_id: str) -> tuple[str, dict]:
    """For the verify step: the push method and the proof that the challenge names, from the
    login attempt or session it was offered on. Not approved (yet): a 4xx, before any try
    is counted, so a browser that asks too early loses nothing."""
    state = status_of(slot, challenge_id)
    if state["status"] == "pending":
        raise ApiError(409, "push_pending", "The push request has not been answered yet.")
    if state["status"] == "denied":
        raise ApiError(401, "push_denied", "The push request was denied on the phone. Start again, or use another method.")
    if state["status"] == "expired":
        raise ApiError(410, "push_expired", "The push request expired. Send a new one, or use another method.")
    return slot["push_method_id"], {"challenge_id": challenge_id, "push_status": state["status"],
                                    "push_device_id": slot["push_device_id"]}


# ---------------------------------------------------------------- the app's side (signed requests)

def pending_for_device(device: dict) -> list[dict]:
    n = now_s()
    challenges = [c for c in store.list_challenges(device["device_id"], n) if c["status"] == "pending"]
    challenges.sort(key=lambda c: c["created_at"])
    return [{"challenge_id": c["challenge_id"], "created_at": c["created_at"], "expires_at": c["answer_by"],
             "purpose": "login" if c["owner_kind"] == LOGIN else "step_up", "context": c["context"],
             "candidates": c["candidates"]} for c in challenges]


def decide(device: dict, challenge_id: str, decision: str, number: int | None, report_fraud: bool,
           client: dict) -> dict:
    n = now_s()
    challenge = store.get_challenge(device["device_id"], challenge_id) if is_id(challenge_id) else None
    if challenge is None:
        raise ApiError(404, "challenge_not_found", "No such push request for this device.")
    if challenge["status"] != "pending":
        raise ApiError(409, "already_decided", "This push request was already answered.")
    if challenge["answer_by"] <= n:
        raise ApiError(410, "challenge_expired", "This push request expired.")
    right = number is not None and hmac.compare_digest(str(number), str(challenge["number"]))
    approved = decision == "approve" and right and not report_fraud
    status = "approved" if approved else "denied"
    reason = None if approved else ("fraud_report" if report_fraud else "wrong_number" if decision == "approve"
                                    else "denied")

    def change(tell_owner: bool) -> Change:
        made = Change(challenge["account_id"], challenge["email"], client).add(
            store.op_decide_challenge(device["device_id"], challenge_id, status, n, reason),
            store.op_forget_push_pending(challenge["account_id"], challenge_id, random_id()),
        ).audit(f"push_{status}", method_id=challenge["method_id"], challenge_id=challenge_id, reason=reason,
                device_name=device["device_name"])
        if tell_owner:
            made.add(store.op_decide_push(challenge["owner_kind"], challenge["owner_id"], challenge_id, status,
                                          report_fraud))
        if report_fraud:
            context = challenge["context"]
            made.audit("push_fraud_reported", method_id=challenge["method_id"], challenge_id=challenge_id,
                       requested_from_ip=context["ip"], requested_with=context["user_agent"]).notify(
                "push_fraud_reported", device_name=device["device_name"], request_ip=context["ip"] or "unknown",
                request_browser=f"{context['browser']} on {context['os']}",
                purpose="log in" if challenge["owner_kind"] == LOGIN else "confirm a change on your account")
        return made

    try:
        change(tell_owner=True).commit()
    except store.ConditionFailed as failed:
        if failed.failed(0):
            if challenge["answer_by"] <= now_s():
                raise ApiError(410, "challenge_expired", "This push request expired.") from None
            raise ApiError(409, "already_decided", "This push request was already answered.") from None
        # The login attempt or session moved on (a newer push, a logout, its expiry): the
        # answer is still recorded, and a fraud report still reaches the owner.
        try:
            change(tell_owner=False).commit()
        except store.ConditionFailed:
            raise ApiError(409, "already_decided", "This push request was already answered.") from None
        if not report_fraud:
            raise ApiError(410, "challenge_expired", "This push request was replaced or its login ended.") from None
    return {"status": status, "reason": reason}


def update_push_token(device: dict, push_token: str) -> None:
    sns.set_token(device["endpoint_arn"], push_token, device["platform"], device["device_id"])
    store.set_device_push_token(device["device_id"], hashlib.sha256(push_token.encode()).hexdigest(), now_s())


def unpair(device: dict, client: dict) -> None:
    """The app removes itself: its push method goes, as when removed in the browser, but
    never the account's last method that can log in."""
    session = {"account_id": device["account_id"], "email": device["email"]}
    account_methods.remove_method(session, device["method_id"], client)
