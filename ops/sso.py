"""SSO connections, for the service's operators: identity providers, their email domains, enforcement.

Which email domains log in through which identity provider (with MFA there), and whether
their people may still use a password.

    python -m ops.sso --stage prod add-oidc --name "Example Corp" --domain example.com \\
        --issuer https://login.example.com --client-id mfa-service --client-secret-file secret.txt
    python -m ops.sso --stage prod add-saml --name "Example Corp" --domain example.com --metadata idp.xml
    python -m ops.sso --stage prod list                      # --json for JSON; never the client secret
    python -m ops.sso --stage prod enforce CONNECTION_ID     # no more passwords for its domains
    python -m ops.sso --stage prod unenforce CONNECTION_ID
    python -m ops.sso --stage prod remove CONNECTION_ID

Runs with the operator's AWS credentials against the stage's table and key (the names come
from .chalice/config.json); every change is recorded in the connection's log with the
caller's ARN (STS GetCallerIdentity). See docs/runbook.md.
"""
import argparse
import getpass
import json
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ops.common import add_stage_option, run, use_stage  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    from chalicelib.services.sso import connections

    # No abbreviations: `--client-secret VALUE` must not pass for --client-secret-file.
    parser = argparse.ArgumentParser(prog="python -m ops.sso", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    add_stage_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    oidc = commands.add_parser("add-oidc", help="add an OpenID Connect identity provider (not enforced yet)",
                               allow_abbrev=False)
    _common_add_options(oidc)
    oidc.add_argument("--issuer", required=True, help="the issuer URL (https://; its discovery document is "
                                                      "read when a login starts)")
    oidc.add_argument("--client-id", required=True, help="the client id the identity provider issued")
    oidc.add_argument("--client-secret-file", metavar="FILE",
                      help="a file holding the client secret (default: read it from stdin; never give it as an "
                           "argument, which other users of the machine can see)")
    oidc.add_argument("--scope", action="append", dest="scopes", metavar="SCOPE",
                      help=f"repeatable; default {' '.join(connections.DEFAULT_SCOPES)}")
    oidc.add_argument("--amr", action="append", dest="amr_values", metavar="VALUE",
                      help=f"an amr value that means a second factor was used; repeatable; default "
                           f"{' '.join(connections.DEFAULT_AMR_VALUES)}")
    oidc.add_argument("--acr", action="append", dest="acr_values", metavar="VALUE",
                      help=f"an acr value that means a second factor was used (also requested); repeatable; "
                           f"default {connections.REFEDS_MFA}")

    saml = commands.add_parser("add-saml", help="add a SAML 2.0 identity provider (not enforced yet)",
                               allow_abbrev=False)
    _common_add_options(saml)
    saml.add_argument("--metadata", required=True, metavar="FILE", help="the identity provider's metadata XML")
    saml.add_argument("--authn-context", action="append", dest="authn_contexts", metavar="CLASS_REF",
                      help=f"an AuthnContextClassRef that means a second factor was used (also requested); "
                           f"repeatable; default {connections.REFEDS_MFA}")

    listing = commands.add_parser("list", help="every connection, its domains and whether it is enforced")
    listing.add_argument("--json", action="store_true", help="print JSON")
    for name, text in (("enforce", "its domains can no longer log in with a password (their methods stay stored)"),
                       ("unenforce", "its domains can log in with a password again"),
                       ("remove", "delete it: its domains log in with passwords again")):
        commands.add_parser(name, help=text).add_argument("connection_id")
    return parser


def _common_add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="what people and operators call it")
    parser.add_argument("--domain", action="append", dest="domains", required=True, metavar="DOMAIN",
                        help="an email domain whose people log in through it; repeatable")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_stage(args.stage)
    from chalicelib.services import support
    from chalicelib.services.sso import connections

    def carry_out() -> None:
        if args.command == "add-oidc":
            secret = _read(args.client_secret_file) if args.client_secret_file else _secret_from_stdin()
            added = connections.add_oidc(
                name=args.name, domains=args.domains, issuer=args.issuer, client_id=args.client_id,
                client_secret=secret.strip(), operator_arn=support.operator_arn(),
                **_given(scopes=args.scopes, amr_values=args.amr_values, acr_values=args.acr_values))
            print(_added(added))
        elif args.command == "add-saml":
            added = connections.add_saml(
                name=args.name, domains=args.domains, metadata_xml=_read(args.metadata),
                operator_arn=support.operator_arn(), **_given(authn_context_class_refs=args.authn_contexts))
            print(_added(added))
        elif args.command == "list":
            found = connections.list_all()
            print(json.dumps(found, indent=2) if args.json else _table(found))
        elif args.command == "remove":
            removed = connections.remove(args.connection_id, support.operator_arn())
            print(f"removed connection {args.connection_id} ({removed['name']}): {', '.join(removed['domains'])} "
                  f"log in with passwords again; accounts made through it stay (a password reset by email "
                  f"gives them one)")
        else:
            enforced = args.command == "enforce"
            changed = connections.set_enforced(args.connection_id, enforced, support.operator_arn())
            what = ("can no longer log in with a password (their methods stay stored, unused)" if enforced
                    else "can log in with a password again")
            print(f"{args.command}d connection {args.connection_id} ({changed['name']}): "
                  f"{', '.join(changed['domains'])} {what}")

    return run(carry_out, refusals=(connections.InvalidConnection,))


def _given(**options: list[str] | None) -> dict[str, list[str]]:
    """The options given; the others keep the connections module's defaults."""
    return {name: values for name, values in options.items() if values}


def _read(path: str) -> str:
    from chalicelib.services.sso.connections import InvalidConnection

    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidConnection(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


def _secret_from_stdin() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("client secret (not echoed): ")
    return sys.stdin.read()


def _added(connection: dict) -> str:
    from chalicelib.services.sso import login
    from chalicelib.services.sso.connections import OIDC

    cid = connection["connection_id"]
    lines = [(f"added {connection['protocol'].upper()} connection {cid} ({connection['name']}) for "
              f"{', '.join(connection['domains'])}; not enforced"), "", "Configure at the identity provider:"]
    if connection["protocol"] == OIDC:
        lines += [f"  redirect URI:     {login.callback_url(connection)}",
                  f"  scopes:           {' '.join(connection['scopes'])}",
                  ("  require a second factor for this client; a login counts as MFA when the ID token's "
                   f"amr holds one of [{', '.join(connection['amr_values'])}] or its acr is one of "
                   f"[{', '.join(connection['acr_values'])}]")]
    else:
        lines += [f"  SP metadata URL:  {login.sp_entity_id(cid)} (also our entity id)",
                  f"  ACS URL:          {login.callback_url(connection)} (HTTP-POST)",
                  "  the email address as an emailAddress NameID (or an email / mail attribute); signed assertions",
                  ("  require a second factor; a login counts as MFA when its AuthnContextClassRef is one of "
                   f"[{', '.join(connection['authn_context_class_refs'])}]")]
    lines += ["", f"Once a login through it works: python -m ops.sso enforce {cid}"]
    return "\n".join(lines)


def _table(found: list[dict]) -> str:
    if not found:
        return "no SSO connections"
    rows = [("ID", "PROTOCOL", "ENFORCED", "NAME", "DOMAINS", "IDENTITY PROVIDER")]
    rows += [(c["connection_id"], c["protocol"], "yes" if c["enforced"] else "no", c["name"], ",".join(c["domains"]),
              c.get("issuer") or c.get("idp_entity_id", "")) for c in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows)


if __name__ == "__main__":
    sys.exit(main())
