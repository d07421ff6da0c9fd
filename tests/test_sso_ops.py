"""SSO connections managed by operators (`python -m ops.sso`): the OIDC client secret is kept
encrypted and never shown, SAML connections come from the IdP's metadata, a domain belongs to
one connection, bad input is refused in one line, and every change is in the connection's log
with the operator's ARN."""
import io
import json
import re
import subprocess
import sys

import pytest

from ops import sso
from tests.support import LOCAL_STAGE, PROJECT
from tests.support.saml_idp import REFEDS_MFA, saml_idp
from tests.support.sso import UNREACHABLE_ISSUER, idp_metadata
from tests.support.table import TABLE, items

BASE = LOCAL_STAGE["PUBLIC_BASE_URL"]
SECRET = "oidc-client-secret-Zq8vR2kLw9"


@pytest.fixture
def arn(local_aws):
    import boto3

    return boto3.client("sts").get_caller_identity()["Arn"]


def added_id(out: str) -> str:
    return re.search(r"connection ([0-9a-f]{32}) ", out).group(1)


def raw(pk: str, sk: str) -> dict | None:
    import boto3

    return boto3.client("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")


def domain_item(domain: str) -> dict | None:
    return raw(f"SSODOMAIN#{domain}", "SSODOMAIN")


def log_of(connection_id: str) -> list[dict]:
    """The connection's own log, oldest first, as stored."""
    import boto3

    return boto3.client("dynamodb").query(
        TableName=TABLE, KeyConditionExpression="PK = :pk AND begins_with(SK, :ev)",
        ExpressionAttributeValues={":pk": {"S": f"SSO#{connection_id}"}, ":ev": {"S": "EVENT#"}})["Items"]


def items_of_sso() -> list[dict]:
    """Every connection and domain item: what a refused command must not leave behind."""
    return [i for i in items() if i["PK"]["S"].startswith(("SSO#", "SSODOMAIN#"))]


def replaced(argv: list[str], option: str, value: str) -> list[str]:
    at = argv.index(option) + 1
    return [*argv[:at], value, *argv[at + 1:]]


def add_oidc(tmp_path, *extra: str, domains=("example.com",)) -> list[str]:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    return ["add-oidc", "--name", "Example Corp", *(a for d in domains for a in ("--domain", d)),
            "--issuer", UNREACHABLE_ISSUER, "--client-id", "mfa-service", "--client-secret-file", str(secret_file),
            *extra]


def add_saml(tmp_path, *extra: str, domains=("example.com",), metadata: str | None = None) -> list[str]:
    metadata_file = tmp_path / "idp.xml"
    metadata_file.write_text(metadata or idp_metadata())
    return ["add-saml", "--name", "Example SAML", *(a for d in domains for a in ("--domain", d)),
            "--metadata", str(metadata_file), *extra]


def test_add_oidc_keeps_the_client_secret_encrypted_and_never_shows_it(arn, capsys, tmp_path):
    from chalicelib import store
    from chalicelib.services.sso import connections

    assert sso.main(add_oidc(tmp_path, domains=("example.com", "Example.ORG"))) == 0
    out = capsys.readouterr().out
    cid = added_id(out)
    assert f"redirect URI:     {BASE}/v1/sso/{cid}/oidc/callback" in out
    assert "example.com, example.org; not enforced" in out and f"python -m ops.sso enforce {cid}" in out
    assert SECRET not in out

    item = raw(f"SSO#{cid}", "CONNECTION")
    assert item["protocol"] == {"S": "oidc"} and item["issuer"] == {"S": UNREACHABLE_ISSUER}
    assert "B" in item["client_secret"]
    # The plaintext is nowhere in the table, only a sealed ciphertext that opens back to it.
    assert all(SECRET not in repr(i) and SECRET.encode() not in repr(i).encode() for i in items())
    assert SECRET.encode() not in item["client_secret"]["B"]
    stored = store.get_connection(cid)
    assert connections.client_secret(stored) == SECRET   # the file's newline is not part of it
    assert (stored["scopes"], stored["amr_values"], stored["acr_values"]) == (
        ["openid", "email", "profile"], ["mfa"], [REFEDS_MFA])
    for domain in ("example.com", "example.org"):
        assert domain_item(domain)["connection_id"] == {"S": cid}

    assert sso.main(["list"]) == 0
    table = capsys.readouterr().out
    assert cid in table and "oidc" in table and "example.com,example.org" in table and SECRET not in table
    assert sso.main(["list", "--json"]) == 0
    printed = capsys.readouterr().out
    listed, = json.loads(printed)
    assert listed["connection_id"] == cid and listed["enforced"] is False
    assert "client_secret" not in listed and SECRET not in printed


def test_add_oidc_reads_the_secret_from_stdin_and_takes_the_mfa_values(arn, capsys, monkeypatch):
    from chalicelib import store
    from chalicelib.services.sso import connections

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"  {SECRET}\n"))
    assert sso.main(["add-oidc", "--name", "Okta", "--domain", "example.com", "--issuer", "https://idp.example.com",
                     "--client-id", "abc", "--scope", "openid", "--scope", "email", "--amr", "hwk", "--amr", "otp",
                     "--acr", "urn:example:mfa"]) == 0
    stored = store.get_connection(added_id(capsys.readouterr().out))
    assert connections.client_secret(stored) == SECRET
    assert stored["scopes"] == ["openid", "email"] and stored["amr_values"] == ["hwk", "otp"]
    assert stored["acr_values"] == ["urn:example:mfa"]


def test_the_secret_is_never_a_command_line_argument(arn, capsys):
    # Not even abbreviated: argparse would otherwise take --client-secret for --client-secret-file.
    with pytest.raises(SystemExit):
        sso.main(["add-oidc", "--name", "x", "--domain", "example.com", "--issuer", "https://idp.example.com",
                  "--client-id", "abc", "--client-secret", SECRET])
    assert "unrecognized arguments: --client-secret" in capsys.readouterr().err


def test_add_saml_from_the_identity_providers_metadata(arn, api, capsys, tmp_path):
    from chalicelib import store

    with saml_idp("https://sp.example.com/metadata", "https://sp.example.com/acs") as idp:
        assert sso.main(add_saml(tmp_path, "--authn-context", REFEDS_MFA, "--authn-context", "urn:example:mfa",
                                 metadata=idp.metadata_xml)) == 0
    out = capsys.readouterr().out
    cid = added_id(out)
    assert f"SP metadata URL:  {BASE}/v1/sso/{cid}/saml/metadata" in out
    assert f"ACS URL:          {BASE}/v1/sso/{cid}/saml/acs" in out
    stored = store.get_connection(cid)
    assert (stored["protocol"], stored["idp_entity_id"], stored["sso_url"]) == ("saml", idp.entity_id, idp.sso_url)
    assert [c.split() for c in stored["certificates"]] == [idp.certificate.split()]
    assert stored["authn_context_class_refs"] == [REFEDS_MFA, "urn:example:mfa"]
    # The URLs printed are the ones our SP metadata names.
    metadata = api.get(f"/v1/sso/{cid}/saml/metadata")
    assert metadata.status_code == 200
    assert f'entityID="{BASE}/v1/sso/{cid}/saml/metadata"' in metadata.body.decode()
    assert f'Location="{BASE}/v1/sso/{cid}/saml/acs"' in metadata.body.decode()


def test_add_saml_asks_for_refeds_mfa_by_default(arn, capsys, tmp_path):
    from chalicelib import store

    assert sso.main(add_saml(tmp_path)) == 0
    out = capsys.readouterr().out
    assert store.get_connection(added_id(out))["authn_context_class_refs"] == [REFEDS_MFA]
    assert REFEDS_MFA in out


def test_a_domain_held_by_another_connection_is_refused(arn, capsys, tmp_path):
    assert sso.main(add_saml(tmp_path)) == 0
    held_by = added_id(capsys.readouterr().out)
    assert sso.main(add_oidc(tmp_path, domains=("example.org", "example.com"))) == 1
    err = capsys.readouterr().err
    assert err == "error: The domain example.com already belongs to another SSO connection.\n"
    # Nothing of the refused connection was kept.
    assert domain_item("example.org") is None and domain_item("example.com")["connection_id"] == {"S": held_by}
    assert sso.main(["list", "--json"]) == 0
    assert [c["connection_id"] for c in json.loads(capsys.readouterr().out)] == [held_by]


@pytest.mark.parametrize("option, value, says", [
    ("--domain", "not a domain", "not an email domain: not a domain"),
    ("--domain", "localhost", "not an email domain: localhost"),
    ("--domain", "alice@example.com", "not an email domain: alice@example.com"),
    ("--issuer", "http://idp.example.com/", "https://"),
    ("--issuer", "https://idp.example.com/?tenant=1", "https://"),
    ("--scope", "email", "the scopes must include openid"),
    ("--client-secret-file", "/nonexistent/secret.txt", "cannot read /nonexistent/secret.txt"),
], ids=["spaces", "no-tld", "an-email", "http-issuer", "issuer-query", "no-openid", "no-secret-file"])
def test_a_bad_oidc_connection_is_refused_in_one_line(arn, capsys, tmp_path, option, value, says):
    argv = add_oidc(tmp_path, "--scope", "openid")
    assert sso.main(replaced(argv, option, value)) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and says in captured.err
    assert captured.out == "" and items_of_sso() == []


def test_an_empty_secret_is_refused(arn, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    argv = add_oidc(tmp_path)
    assert sso.main(argv[:argv.index("--client-secret-file")]) == 1
    assert "client id and secret" in capsys.readouterr().err and items_of_sso() == []


@pytest.mark.parametrize("metadata, says", [
    ("<not-xml", "metadata cannot be used"),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>', "IDPSSODescriptor"),
], ids=["not-xml", "no-idp"])
def test_bad_saml_metadata_is_refused_in_one_line(arn, capsys, tmp_path, metadata, says):
    assert sso.main(add_saml(tmp_path, metadata=metadata)) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and says in captured.err
    assert items_of_sso() == []


def test_enforce_unenforce_and_remove_change_the_domains_and_are_logged_with_the_operator(arn, capsys, tmp_path):
    assert sso.main(add_saml(tmp_path, domains=("example.com", "example.org"))) == 0
    cid = added_id(capsys.readouterr().out)

    def enforced() -> list[bool]:
        return [domain_item(d)["enforced"]["BOOL"] for d in ("example.com", "example.org")] + [
            raw(f"SSO#{cid}", "CONNECTION")["enforced"]["BOOL"]]

    assert enforced() == [False, False, False]
    assert sso.main(["enforce", cid]) == 0
    assert "example.com, example.org can no longer log in with a password" in capsys.readouterr().out
    assert enforced() == [True, True, True]
    assert sso.main(["list"]) == 0
    assert re.search(rf"{cid}\s+saml\s+yes\s", capsys.readouterr().out)
    assert sso.main(["unenforce", cid]) == 0
    assert "can log in with a password again" in capsys.readouterr().out
    assert enforced() == [False, False, False]
    assert sso.main(["enforce", cid]) == 0
    assert sso.main(["remove", cid]) == 0
    assert f"removed connection {cid} (Example SAML): example.com, example.org" in capsys.readouterr().out
    assert domain_item("example.com") is None and domain_item("example.org") is None
    assert raw(f"SSO#{cid}", "CONNECTION") is None
    assert sso.main(["list"]) == 0 and capsys.readouterr().out == "no SSO connections\n"
    # Gone: each command says so in one line, and records nothing.
    for command in ("enforce", "unenforce", "remove"):
        assert sso.main([command, cid]) == 1
        assert capsys.readouterr().err == "error: There is no SSO connection with this id.\n"

    # The log outlives the connection: every change, with the operator's identity.
    log = log_of(cid)
    assert [e["kind"]["S"] for e in log] == ["sso_connection_added", "sso_enforced", "sso_enforcement_lifted",
                                             "sso_enforced", "sso_connection_removed"]
    assert arn.startswith("arn:aws:") and all(arn in e["user_agent"]["S"] for e in log)
    assert all(e["details"]["M"]["domains"]["L"] == [{"S": "example.com"}, {"S": "example.org"}] for e in log)


def test_a_connection_that_never_was_is_not_found(arn, capsys):
    assert sso.main(["enforce", "0" * 32]) == 1
    assert capsys.readouterr().err == "error: There is no SSO connection with this id.\n"


def test_runs_as_a_module():
    shown = subprocess.run([sys.executable, "-m", "ops.sso", "--help"], cwd=PROJECT, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert all(c in shown.stdout for c in ("add-oidc", "add-saml", "list", "enforce", "unenforce", "remove"))
