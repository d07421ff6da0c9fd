"""Import a legacy SMS method onto an existing account (a migration from a system where the
user had SMS two-factor before its deprecation). The only way an SMS method comes to exist.

    python ops/import_legacy_sms.py --stage dev --enabled-on 2020-06-01 someone@example.com +14155550123

Runs with the ambient AWS credentials against the stage's table and KMS key (the names come
from .chalice/config.json). The method works only before the stage's SMS_SUNSET.
"""
import argparse
import os
import sys
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", help="take TABLE_NAME, KMS_KEY_ID... from this stage of .chalice/config.json "
                                        "(default: the environment as it is)")
    parser.add_argument("--label")
    parser.add_argument("--enabled-on", required=True, type=date.fromisoformat,
                        help="when the user turned SMS two-factor on in the old system (YYYY-MM-DD); "
                             "only users who had it before 2021 keep it")
    parser.add_argument("email")
    parser.add_argument("phone", help="E.164, e.g. +14155550123")
    args = parser.parse_args(argv)
    if args.stage:
        from chalice.cli.factory import CLIFactory

        config = CLIFactory(str(PROJECT)).create_config_obj(chalice_stage_name=args.stage)
        os.environ.update(config.environment_variables)
    from chalicelib.errors import ApiError, try_again
    from chalicelib.services import sms
    from chalicelib.store import Busy

    try:
        method_id = sms.import_legacy(args.email.strip().lower(), args.phone.strip(), args.enabled_on, args.label)
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except Busy:
        print(f"error: {try_again().message}", file=sys.stderr)
        return 1
    print(f"imported SMS method {method_id} for {args.email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
