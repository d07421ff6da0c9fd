"""Finish account deletions left in progress (a deletion interrupted after its first
transaction: nothing of the account can log in any more, but some of its items remain).

    python ops/account_deletion.py --stage dev resume ACCOUNT_ID
    python ops/account_deletion.py --stage dev resume-all

Runs with the ambient AWS credentials against the stage's table (the names come from
.chalice/config.json). Safe to run at any time and more than once: each step is idempotent.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.common import add_stage_option, use_stage  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stage_option(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("resume", help="finish one account's deletion").add_argument("account_id")
    sub.add_parser("resume-all", help="finish every deletion in progress (scans the table)")
    args = parser.parse_args(argv)
    use_stage(args.stage)
    from chalicelib import observability

    with observability.quiet():
        return _carry_out(args)


def _carry_out(args) -> int:
    from chalicelib.services import account_deletion

    if args.command == "resume":
        if not account_deletion.finish(args.account_id):
            print(f"error: no deletion of account {args.account_id} was begun", file=sys.stderr)
            return 1
        print(f"account {args.account_id}: deleted")
        return 0
    for account_id in account_deletion.resume_all():
        print(f"account {account_id}: deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
