"""What is stuck in the email outbox, and sending it.

    python -m ops.outbox --stage prod status
    python -m ops.outbox --stage prod redrive

status lists the notices still pending (age, kind, attempts, whether a sender holds one now,
the last error) and how many messages the stream consumer's dead-letter queue holds. redrive
sends every pending notice, each once whoever else is sending it (the API's senders claim a
notice before mailing it), and removes the dead-letter messages whose notices are all sent;
run it again while SES still refuses. The sweeper (the `outbox_sweeper` Lambda) re-sends
pending notices by itself every 5 minutes: redrive is for not waiting, and for the dead letters.

Runs with the operator's AWS credentials against the stage's table and queue (the names come
from .chalice/config.json: TABLE_NAME, OUTBOX_DEAD_LETTER_QUEUE_URL). See docs/runbook.md.
"""
import argparse
import json
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.common import add_stage_option, run, use_stage  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops.outbox", description=__doc__.splitlines()[0])
    add_stage_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="pending notices (age, kind, attempts) and dead-letter messages")
    status.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("redrive", help="send every pending notice once; remove the dead letters they explain")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_stage(args.stage)
    from chalicelib.services import outbox

    def carry_out() -> None:
        if args.command == "status":
            found = outbox.status()
            print(json.dumps(found, indent=2) if args.json else _describe(found))
        else:
            done = outbox.redrive()
            print(f"{done['delivered']} notice(s) sent, {done['failed']} failed; "
                  f"{done['removed']} dead letter(s) removed, {done['kept']} kept")

    return run(carry_out)


def _age(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min" if seconds >= 3600 else f"{seconds // 60} min"


def _describe(found: dict) -> str:
    lines = [f"{len(found['pending'])} notice(s) pending"]
    lines += [f"  {n['notice_id']}  {n['kind']:<26} {_age(n['age_seconds']):>12}  {n['attempts']} attempt(s)"
              f"{'  being sent' if n['claimed'] else ''}{'  last error: ' + n['last_error'] if n['last_error'] else ''}"
              for n in found["pending"]]
    dead = found["dead_letters"]
    lines.append("no dead-letter queue (OUTBOX_DEAD_LETTER_QUEUE_URL is not set)" if dead is None
                 else f"{dead} dead-letter message(s)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
