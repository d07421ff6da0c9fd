"""Accounts with a verified email, a password and an active TOTP method, written straight
into the table through the project's store functions (the items a sign-up, its email link
and a TOTP enrolment leave), with one precomputed password hash and TOTP secret: thousands
of accounts without thousands of argon2 hashes over HTTP.

The environment must name the AWS to write to (AWS_ENDPOINT_URL..., TABLE_NAME, KMS_KEY_ID).
"""
import base64
from concurrent.futures import ThreadPoolExecutor

PASSWORD = "correct horse battery staple 42"
TOTP_SECRET = base64.b32encode(b"bench totp secret 20").decode()
BATCH = 25   # BatchWriteItem's limit


def email_of(number: int) -> str:
    return f"bench-{number}@example.com"


def method_id_of(number: int) -> str:
    return f"{number:032x}"


def seed_accounts(first: int, count: int, password_hash: str) -> None:
    """Accounts numbered first .. first + count - 1 (email_of, method_id_of)."""
    import boto3
    from botocore.config import Config

    from chalicelib import store
    from chalicelib.clock import now_s, random_id
    from chalicelib.config import get_settings
    from chalicelib.ledger import secrets
    from chalicelib.methods.totp import TotpMethod
    from chalicelib.records import MethodStatus
    from chalicelib.store.accounts import op_create_account

    label = TotpMethod.default_label
    now = now_s()

    def items_of(number: int) -> list[dict]:
        account_id, method_id = random_id(), method_id_of(number)
        account = {"account_id": account_id, "email": email_of(number), "password_hash": password_hash,
                   "email_verified": True, "created_at": now, "methods": {method_id: {"type": "totp", "label": label}},
                   "primary_methods": 1}
        method = {"method_id": method_id, "type": "totp", "label": label, "status": MethodStatus.ACTIVE,
                  "created_at": now, "activated_at": now, "generation": random_id(),
                  "secret_ciphertext": secrets.seal(TOTP_SECRET.encode(),
                                                    secrets.method_context(account_id, method_id, "totp"))}
        # The transaction items' Puts, written in batches (their conditions hold on a new email).
        return [{"PutRequest": {"Item": op["Put"]["Item"]}}
                for op in (op_create_account(account, now), store.op_put_active_method(account_id, method))]

    with ThreadPoolExecutor(max_workers=4) as pool:
        requests = [request for items in pool.map(items_of, range(first, first + count)) for request in items]
    table = get_settings().table_name
    # Not the app's client: its 2 s read timeout is sized to a Lambda invocation, and a batch
    # can wait longer behind a busy local server (the local sweeper's scans) on a busy machine.
    dynamodb = boto3.client("dynamodb", config=Config(read_timeout=60, retries={"mode": "standard",
                                                                                  "total_max_attempts": 3}))
    for start in range(0, len(requests), BATCH):
        pending = {table: requests[start:start + BATCH]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
