"""Import a legacy SMS method onto an existing account (a migration from a system where the
user had SMS two-factor before its deprecation). The only way an SMS method comes to exist.

    python ops/import_legacy_sms.py --stage dev --enabled-on 2020-06-01 someone@example.com +14155550123

Runs with the ambient AWS credentials against the stage's table and KMS key (the names come
from .chalice/config.json). The method works only before the stage's SMS_SUNSET.
"""
import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.common import add_stage_option, run, use_stage  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stage_option(parser)
    parser.add_argument("--label")
    parser.add_argument("--enabled-on", required=True, type=date.fromisoformat,
                        help="when the user turned SMS two-factor on in the old system (YYYY-MM-DD); "
                             "only users who had it before 2021 keep it")
    parser.add_argument("email")
    parser.add_argument("phone", help="E.164, e.g. +14155550123")
    args = parser.parse_args(argv)
    use_stage(args.stage)
    from chalicelib.services import sms

    def import_it() -> None:
        method_id = sms.import_legacy(args.email.strip().lower(), args.phone.strip(), args.enabled_on, args.label)
        print(f"imported SMS method {method_id} for {args.email}")

    return run(import_it)


if __name__ == "__main__":
    sys.exit(main())
