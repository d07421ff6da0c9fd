"""Support-assisted recovery for the service's operators.

    python -m ops.recovery --stage prod status someone@example.com
    python -m ops.recovery --stage prod unlock someone@example.com
    python -m ops.recovery --stage prod reset-mfa someone@example.com --reason "ID checked on ticket 4711"
    python -m ops.recovery --stage prod complete-resets

Runs with the operator's AWS credentials against the stage's table (the names come from
.chalice/config.json); every change is audit-logged with the caller's ARN (STS
GetCallerIdentity) and mailed to the account's owner. See docs/runbook.md.
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
    parser = argparse.ArgumentParser(prog="python -m ops.recovery", description=__doc__.splitlines()[0])
    add_stage_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="methods (no secrets), lock state, last logins, open requests")
    status.add_argument("email")
    status.add_argument("--json", action="store_true", help="print JSON")
    unlock = commands.add_parser("unlock", help="lift a lock (the failed second factors are forgotten)")
    unlock.add_argument("email")
    reset = commands.add_parser("reset-mfa", help="remove every method after the waiting period "
                                                  "(MFA_RESET_WAIT_SECONDS, 72 h); a login meanwhile cancels it")
    reset.add_argument("email")
    reset.add_argument("--reason", required=True, help="what support checked, out of band (kept in the audit log)")
    commands.add_parser("complete-resets", help="complete every reset whose wait is over (run it on a schedule)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_stage(args.stage)
    from chalicelib.services import support

    email = getattr(args, "email", "").strip().lower()

    def carry_out() -> None:
        if args.command == "status":
            found = support.status(email)
            print(json.dumps(found, indent=2) if args.json else _describe(found))
        elif args.command == "unlock":
            support.unlock(email, support.operator_arn())
            print(f"unlocked {email}; the owner was emailed")
        elif args.command == "reset-mfa":
            due = support.schedule_reset(email, args.reason, support.operator_arn())
            print(f"every verification method of {email} will be removed at {_utc(due)} "
                  f"(run complete-resets after it); the owner was emailed")
        else:
            results = support.complete_due()
            for done_email, outcome in results:
                print(f"{done_email}: {outcome}")
            print(f"{sum(1 for _, o in results if o == 'done')} reset(s) completed")

    return run(carry_out)


def _utc(at: int | None) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if at else "-"


def _describe(found: dict) -> str:
    lock = found["lock"]
    lines = [f"{found['email']} (account {found['account_id']})", "", "Methods:"]
    lines += [f"  {m['type']:<14} {m['label'] or '':<24} {m['status']:<8} created {_utc(m['created_at'])}, "
              f"last used {_utc(m['last_used_at'])}" for m in found["methods"]] or ["  none (enrolment at next login)"]
    state = ("HARD LOCKED" if lock["hard_locked"] else
             f"delayed until {_utc(lock['locked_until'])}" if lock["locked_until"] else "not locked")
    lines += ["", f"Lock: {state}; {lock['failures']} consecutive failure(s)", "", "Last logins:"]
    lines += [f"  {_utc(e['at'])}  {e['kind']:<28} {e['method_type'] or '':<10} {e['ip'] or '-'}  {e['user_agent'] or ''}"
              for e in found["last_logins"]] or ["  none recorded"]
    lines += ["", "Open requests:"]
    for r in found["open_requests"]:
        if r["kind"] == "mfa_reset":
            lines.append(f"  MFA reset due {_utc(r['due_at'])}, by {r.get('operator')}: {r.get('reason')}")
        elif r["kind"] == "password_reset_link":
            lines.append(f"  password reset link, valid until {_utc(r['expires_at'])}")
        else:
            lines.append("  email change awaiting confirmation")
    if not found["open_requests"]:
        lines.append("  none")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
