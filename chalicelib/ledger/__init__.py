"""What every change writes beside its own items, in the same transaction: the audit
event, the email notice (outbox) and the rate-limit counters; `Change` puts them together.
Also how secrets are kept at rest (secrets.py: sealed under data keys the store keeps).
Below the services and the verification methods, above the store."""
