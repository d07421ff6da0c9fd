"""Email addresses as the API reads them: validated and normalised by email_validator, except
the plain ASCII addresses most people have, which are answered without it.

Why: importing email_validator compiles its Unicode grammar (~50 ms), paid by the first request
of every cold container that reads an email (POST /v1/login). An address made only of the
characters below, with a dot-separated alphabetic top-level domain that is not special-use, is
one email_validator accepts as it is (tests/test_emails.py checks both agree); anything else,
valid or not, goes to email_validator for its answer or its error.
"""
import re

_PLAIN = re.compile(r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
                    re.IGNORECASE | re.ASCII)
# email_validator.SPECIAL_USE_DOMAIN_NAMES (all single labels): never globally deliverable.
SPECIAL_USE_TOP_LEVEL = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_LOCAL_PART_MAX = 64


def _plain(address: str) -> str | None:
    """The normalised address when it is a plain one, else None."""
    if not _PLAIN.fullmatch(address) or "--" in address.rpartition("@")[2]:
        return None
    local, _, domain = address.lower().rpartition("@")
    if len(local) > _LOCAL_PART_MAX or domain.rpartition(".")[2] in SPECIAL_USE_TOP_LEVEL:
        return None
    return f"{local}@{domain}"


def _validated(address: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    # The domain is already normalised (IDNA, lower case). Lower-case the local part too, as
    # providers treat it; casefold() would turn "ß" into "ss" and name someone else's mailbox.
    local, _, domain = result.normalized.rpartition("@")
    return f"{local.lower()}@{domain}"


def normalise(value: str) -> str:
    address = value.strip()
    return _plain(address) or _validated(address)
