"""What every operator command shares: the stage's settings, and refusals as one line on
stderr with exit code 1 (the API's error messages, as its clients would read them)."""
import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def add_stage_option(parser) -> None:
    parser.add_argument("--stage", help="take TABLE_NAME, KMS_KEY_ID... from this stage of .chalice/config.json "
                                        "(default: the environment as it is)")


def use_stage(stage: str | None) -> None:
    if stage:
        from chalice.cli.factory import CLIFactory

        config = CLIFactory(str(PROJECT)).create_config_obj(chalice_stage_name=stage)
        os.environ.update(config.environment_variables)


def run(action, refusals: tuple[type[Exception], ...] = ()) -> int:
    """Exit code of `action()`: 0, or 1 with the refusal printed (an ApiError, or one of the
    command's own `refusals`, whose message is written for operators)."""
    from chalicelib import observability
    from chalicelib.api.http import DOMAIN_ERRORS, from_domain
    from chalicelib.errors import ApiError

    try:
        with observability.quiet():
            action()
    except ApiError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except DOMAIN_ERRORS as error:
        print(f"error: {from_domain(error).message}", file=sys.stderr)
        return 1
    except refusals as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
