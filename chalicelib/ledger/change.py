"""One account change as one transaction: the writes that make it, its audit event and its
email notices, all or nothing; notices are delivered after the commit.

A write whose condition may fail names the error its failure means (`on_fail`), so a
refused transaction is answered by the first failed part that has one."""
from chalicelib import store
from chalicelib.ledger import audit, limits, outbox
from chalicelib.records import Client


class Change:
    def __init__(self, account_id: str, email: str, client: Client):
        self.account_id, self.email, self.client = account_id, email, client
        self.ops: list[dict] = []
        self.failures: list[Exception | None] = []
        self.notice_ids: list[str] = []

    def add(self, *ops: dict, on_fail: Exception | None = None) -> "Change":
        self.ops.extend(ops)
        self.failures.extend([on_fail] * len(ops))
        return self

    def limit(self, window: int, *counted: tuple[str, str, int]) -> "Change":
        """Count one hit for each (scope, key, limit); over a limit, 429 rate_limited."""
        return self.add(*limits.counters(window, *counted), on_fail=limits.limited(window))

    def audit(self, kind: str, **details) -> "Change":
        return self.add(audit.op(self.account_id, kind, self.client, **details))

    def notify(self, kind: str, **context) -> "Change":
        notice_id, op = outbox.notice(self.email, kind, self.client, **context)
        self.notice_ids.append(notice_id)
        return self.add(op)

    def commit(self, otherwise: Exception | None = None) -> None:
        """All or nothing; a failed condition raises the first failed part's error, else
        `otherwise` (else ConditionFailed itself)."""
        try:
            store.transact(self.ops)
        except store.ConditionFailed as failed:
            named = next((error for i, error in enumerate(self.failures) if error and failed.failed(i)), otherwise)
            if named is not None:
                raise named from None
            raise
        outbox.after_commit(self.notice_ids)
