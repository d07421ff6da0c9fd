"""A paired app's own requests (signed, see services/device_auth.py): the push requests
waiting for it, a new push token, unpairing."""
from chalicelib import crypto, sns, store
from chalicelib.clock import now_s
from chalicelib.records import Client, OwnerKind, PushStatus
from chalicelib.services import account_methods


def pending_for_device(device: dict) -> list[dict]:
    n = now_s()
    challenges = [c for c in store.list_challenges(device["device_id"], n) if c["status"] == PushStatus.PENDING]
    challenges.sort(key=lambda c: c["created_at"])
    return [{"challenge_id": c["challenge_id"], "created_at": c["created_at"], "expires_at": c["answer_by"],
             "purpose": "login" if c["owner_kind"] == OwnerKind.LOGIN else "step_up", "context": c["context"]}
            for c in challenges]


def update_push_token(device: dict, push_token: str) -> None:
    sns.set_token(device["endpoint_arn"], push_token, device["platform"], device["device_id"])
    store.set_device_push_token(device["device_id"], crypto.hash_token(push_token), now_s())


def unpair(device: dict, client: Client) -> None:
    """The app removes itself: its push method goes, as when removed in the browser, but
    never the account's last method that can log in."""
    session = {"account_id": device["account_id"], "email": device["email"]}
    account_methods.remove_method(session, device["method_id"], client)
