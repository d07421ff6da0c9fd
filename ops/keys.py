"""Data keys for operators: which key seals the stage's secrets, rotation, re-encryption.

The secrets at rest are TOTP seeds, recovery-code keys, SMS phone numbers and SSO client
secrets, each sealed under a data key that the stage's KMS key wraps (chalicelib/ledger/secrets.py).

    python -m ops.keys --stage prod status
    python -m ops.keys --stage prod rotate
    python -m ops.keys --stage prod reencrypt

`status` also says which data keys KMS refuses to unwrap and which ones secrets name but the
stage lacks: the secrets that answer 503 `secret_unavailable`. `rotate` makes a new data key
current: every container seals new secrets with it within 5 minutes, and older keys keep
opening what they sealed. `reencrypt` seals every secret that is not under the current key
again (legacy KMS ciphertexts too); run it 5 minutes after a rotation. It is safe to run again
(and to run while the service is used: a secret changed meanwhile keeps its change); a secret
that does not open is named and left as it is, and the exit code is then 1. Runs with the
operator's AWS credentials: DynamoDB Scan,
GetItem, Query, UpdateItem and TransactWriteItems on the stage's table; KMS
GenerateDataKey and Decrypt on the stage's key. See docs/runbook.md.
"""
import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.common import add_stage_option, run, use_stage  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.keys", description=__doc__.splitlines()[0])
    add_stage_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="the current data key; how many secrets each key seals; keys KMS "
                                                "refuses or that are missing (scans the table)")
    status.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("rotate", help="make a new data key current (old ones keep opening their secrets)")
    commands.add_parser("reencrypt", help="seal every secret not under the current data key again (scans the table)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_stage(args.stage)
    from chalicelib.ledger import secrets
    from chalicelib.services import data_keys

    def carry_out() -> None:
        if args.command == "status":
            found = data_keys.status()
            print(json.dumps(found, indent=2) if args.json else _describe(found))
        elif args.command == "rotate":
            key_id = data_keys.rotate()
            minutes = secrets.CURRENT_MAX_AGE // 60
            print(f"data key {key_id} is current: every container seals new secrets with it within {minutes} "
                  f"minutes; then run `python -m ops.keys reencrypt`")
        else:
            done = data_keys.reencrypt()
            for where in done.unreadable:
                print(f"does not open (left as it is): {where}", file=sys.stderr)
            print(f"{done.sealed_again} secret(s) sealed again under the current data key, "
                  f"{done.already_current} already were, {done.changed_meanwhile} changed meanwhile (left as they are)"
                  + (f", {len(done.unreadable)} do not open" if done.unreadable else ""))
            if done.unreadable:
                raise data_keys.SecretsUnreadable(f"{len(done.unreadable)} secret(s) do not open: see above")

    return run(carry_out, refusals=(data_keys.RotationRaced, data_keys.SecretsUnreadable))


def _utc(at: int) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _describe(found: dict) -> str:
    if not found["keys"]:
        lines = ["no data key yet (the first secret sealed makes one)"]
    else:
        lines = [f"{'':2}{k['key_id']}  created {_utc(k['created_at'])}  {k['secrets']:>8} secret(s)"
                 f"{'  (current)' if k['current'] else ''}{'  DOES NOT UNWRAP: ' if k['refused'] else ''}"
                 f"{k['refused'] or ''}" for k in found["keys"]]
    lines += [f"  {k['key_id']}  MISSING: {k['secrets']} secret(s) under it do not open" for k in found["missing"]]
    lines.append(f"  legacy KMS ciphertexts: {found['legacy']} secret(s)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
