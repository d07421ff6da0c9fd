"""One account change as one transaction: the writes that make it, its audit event and its
email notices, all or nothing; notices are delivered after the commit."""
from chalicelib import store
from chalicelib.services import audit, outbox


class Change:
    def __init__(self, account_id: str, email: str, client: dict):
        self.account_id, self.email, self.client = account_id, email, client
        self.ops: list[dict] = []
        self.notice_ids: list[str] = []

    def add(self, *ops: dict) -> "Change":
        self.ops.extend(ops)
        return self

    def audit(self, kind: str, **details) -> "Change":
        self.ops.append(audit.op(self.account_id, kind, self.client, **details))
        return self

    def notify(self, kind: str, **context) -> "Change":
        notice_id, op = outbox.notice(self.email, kind, self.client, **context)
        self.notice_ids.append(notice_id)
        self.ops.append(op)
        return self

    def commit(self) -> None:
        store.transact(self.ops)
        outbox.after_commit(self.notice_ids)
