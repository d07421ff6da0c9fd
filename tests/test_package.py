"""The deploy artefacts: `chalice package` on Python 3.12 gives a zip that works on its own in
a clean Python 3.12 with only boto3 (what Lambda provides), and templates that pass cfn-lint;
the per-stage policy files match the template's policy."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from infra import policies
from tests.support import PROJECT

# chalice package shares its dependency cache (.chalice/deployments/): one worker packages.
pytestmark = pytest.mark.xdist_group("package")

SMOKE = r"""
import json, os, sys
assert sys.version_info[:2] == (3, 12), sys.version
import app
from chalicelib import passwords
from chalicelib.methods import totp
assert passwords.hash_password("x" * 20).startswith("$argon2id$")
import segno, pyotp, pydantic_core, email_validator, zxcvbn
# WebAuthn's compiled dependencies (cryptography, cbor2) load and work on Lambda's runtime.
from webauthn import generate_registration_options, options_to_json
assert '"challenge"' in options_to_json(generate_registration_options(rp_id="example.com", rp_name="x", user_name="u"))
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
key.public_key().verify(key.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m", ec.ECDSA(hashes.SHA256()))
# CBOR both ways through cbor2's compiled module (stripped, as every shared library): a "none"
# attestation registers, and the key it carries verifies an assertion, as the routes call webauthn.
import base64, hashlib, cbor2
from webauthn import verify_authentication_response, verify_registration_response
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
def client_data(kind):
    return json.dumps({"type": kind, "challenge": b64(b"nonce"), "origin": "https://example.com"}).encode()
def credential(**response): return {"id": b64(b"id"), "rawId": b64(b"id"), "type": "public-key", "response": response}
point = key.public_key().public_numbers()
cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: point.x.to_bytes(32, "big"), -3: point.y.to_bytes(32, "big")})
rp_id_hash = hashlib.sha256(b"example.com").digest()
auth_data = rp_id_hash + b"\x45" + bytes(4) + bytes(16) + (2).to_bytes(2, "big") + b"id" + cose_key   # UP, UV, AT
attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
expected = {"expected_challenge": b"nonce", "expected_origin": "https://example.com", "expected_rp_id": "example.com"}
registered = verify_registration_response(credential=credential(
    clientDataJSON=b64(client_data("webauthn.create")), attestationObject=b64(attestation)), **expected)
assert registered.credential_public_key == cose_key
signed, asserted = rp_id_hash + b"\x05" + (1).to_bytes(4, "big"), client_data("webauthn.get")   # UP, UV; count 1
signature = key.sign(signed + hashlib.sha256(asserted).digest(), ec.ECDSA(hashes.SHA256()))
assert verify_authentication_response(credential=credential(
    clientDataJSON=b64(asserted), authenticatorData=b64(signed), signature=b64(signature)), **expected,
    credential_public_key=registered.credential_public_key, credential_current_sign_count=0).new_sign_count == 1
# SSO: lxml's compiled parser, signxml and joserfc load and work on Lambda's runtime.
from chalicelib.idp import oidc, saml
assert "AssertionConsumerService" in saml.sp_metadata(entity_id="https://sp.example/md", acs_url="https://sp.example/acs")
from joserfc import jwt
from joserfc.jwk import ECKey
signer = ECKey.generate_key("P-256", private=True)
assert jwt.decode(jwt.encode({"alg": "ES256"}, {"sub": "x"}, signer), signer).claims["sub"] == "x"
# The libraries routes import only when they need them, used as the routes use them.
from email_validator import validate_email
assert validate_email("a@example.com", check_deliverability=False).normalized == "a@example.com"
from zxcvbn import zxcvbn
assert zxcvbn("correct horse battery staple")["score"] >= 3
assert "<svg" in segno.make("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").svg_inline()
import webauthn.registration.formats.android_key   # pyasn1 and RFC 5280's module
# Every module the app's code imports anywhere (inside functions too) is in the package:
# nothing localdev/package.py leaves out is needed.
import ast, importlib, pathlib
wanted = set()
for path in [pathlib.Path("app.py"), *pathlib.Path("chalicelib").rglob("*.py")]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            wanted |= {(alias.name, None) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            wanted |= {(node.module, alias.name) for alias in node.names}
missing = []
for module, name in sorted(wanted, key=str):
    if module == "localdev":   # the local stage's, imported only by /_dev/ after its stage check
        continue
    try:
        imported = importlib.import_module(module)
        if name and not hasattr(imported, name):
            importlib.import_module(f"{module}.{name}")
    except ImportError as error:
        missing.append(f"{module} {name}: {error}")
assert not missing, missing
assert len(wanted) > 50, wanted
event = {"resource": "/openapi.json", "path": "/openapi.json", "httpMethod": "GET", "headers": {},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/openapi.json", "httpMethod": "GET", "stage": "api",
                            "identity": {"sourceIp": "127.0.0.1"}}}
from chalicelib.config import get_settings
refused = app.app(event, None)   # no stage settings at all: nothing is served
assert refused["statusCode"] == 503 and json.loads(refused["body"])["error"] == "service_misconfigured", refused
os.environ.update(json.loads(os.environ.pop("DEV_STAGE_ENVIRONMENT")))   # as the dev stage's Lambda is configured
get_settings.cache_clear()
response = app.app(event, None)
assert response["statusCode"] == 200, response
assert "/v1/login" in json.loads(response["body"])["paths"]
event = {**event, "resource": "/_dev/mailbox", "path": "/_dev/mailbox",
         "requestContext": {**event["requestContext"], "resourcePath": "/_dev/mailbox"}}
assert app.app(event, None)["statusCode"] == 404   # local-only code left out: its routes answer 404
print("ok", app.app.app_name)
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "dev"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    subprocess.run([chalice, "package", "--stage", "dev", "--merge-template",
                    "infra/app.json", str(out)], cwd=PROJECT, env=env, check=True, capture_output=True)
    from localdev import package  # as `make package` does

    left_out, compiled = package.rewrite(out / "deployment.zip")
    assert left_out > 0 and compiled > 0
    return out


def test_generated_template_and_stateful_template_pass_cfn_lint(package):
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([cfn_lint, str(package / "sam.json"),
                             str(PROJECT / "infra" / "template.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_template_wires_runtime_throttling_and_the_outbox_stream(package):
    template = json.loads((package / "sam.json").read_text())
    resources = template["Resources"]
    assert resources["APIHandler"]["Properties"]["Runtime"] == "python3.12"
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["APNS_PLATFORM_APPLICATION_ARN"] == {"Ref": "ApnsPlatformApplicationArn"}
    assert variables["TABLE_NAME"] == "mfa-dev"   # merged into Chalice's own, not replacing them
    assert resources["OutboxDelivery"]["Properties"]["Handler"] == "app.outbox_delivery"
    events = resources["OutboxDelivery"]["Properties"]["Events"]
    assert list(events) == ["OutboxDeliveryDynamodbEventSource"]
    stream = events["OutboxDeliveryDynamodbEventSource"]
    assert stream["Type"] == "DynamoDB"
    # The same filter as after `chalice deploy` (infra.finish_deploy), and the same dead-letter queue.
    from infra.finish_deploy import OUTBOX_RETRIES, outbox_filter

    assert stream["Properties"]["FilterCriteria"] == outbox_filter()
    assert OUTBOX_RETRIES.items() <= stream["Properties"].items()
    assert stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::ImportValue": {"Fn::Sub": "mfa-${Stage}-outbox-dead-letters-arn"}}
    assert "OUTBOX_DEAD_LETTER_QUEUE_URL" in variables
    throttling = resources["RestAPI"]["Properties"]["MethodSettings"][0]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(throttling)
    unknown_path = resources["UnknownPathResponse"]["Properties"]
    assert unknown_path["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN" and unknown_path["StatusCode"] == "404"
    assert json.loads(unknown_path["ResponseTemplates"]["application/json"])["error"] == "not_found"
    # Each function has its own role, with its own stage's policy file.
    for function, role in (("api_handler", "ApiHandlerRole"), ("outbox_delivery", "OutboxDeliveryRole")):
        policy = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]
        assert policy == json.loads((PROJECT / ".chalice" / policies.policy_file("dev", function)).read_text())
    assert resources["APIHandler"]["Properties"]["FunctionName"] == {"Fn::Sub": "mfa-service-${Stage}"}


def test_zip_runs_in_a_clean_python312_with_only_boto3(package, tmp_path):
    size_kib = (package / "deployment.zip").stat().st_size // 1024
    print(f"\ndeployment.zip: {size_kib} KiB")
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "code")
    assert "app.py" in names and "chalicelib/store/__init__.py" in names
    assert not any(n.startswith(("tests/", "localdev/", "bench/", "ops/", "infra/", "clients/")) for n in names)
    python312 = subprocess.run(["make", "-s", "-f", "-", "print"],
                               input="include Makefile\nprint:\n\t@echo $(PYTHON312)\n",
                               cwd=PROJECT, capture_output=True, text=True).stdout.strip()
    venv = tmp_path / "venv"
    subprocess.run([python312, "-m", "venv", str(venv)], check=True)
    boto3_pin = next(line for line in (PROJECT / "requirements-dev.txt").read_text().splitlines()
                     if line.startswith("boto3=="))
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", boto3_pin],
                   check=True, capture_output=True)
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    dev_environment = config["stages"]["dev"]["environment_variables"]
    result = subprocess.run([str(venv / "bin" / "python"), "-c", SMOKE], cwd=tmp_path / "code",
                            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path / "code"),
                                 "HOME": str(tmp_path), "AWS_LAMBDA_FUNCTION_NAME": "mfa-dev",
                                 "DEV_STAGE_ENVIRONMENT": json.dumps(dev_environment)},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ok mfa-service"   # after one JSON line per request


def test_every_module_ships_compiled_for_python312_without_source_checks(package):
    """The app's own modules with their source and unchecked-hash bytecode in __pycache__/; the
    dependencies' as bytecode alone, in the source's place, naming the zip's path in tracebacks."""
    import importlib.util
    import marshal

    with zipfile.ZipFile(package / "deployment.zip") as archive:
        listed = archive.namelist()
        names = set(listed)
        assert len(names) == len(listed), "an entry is in the zip twice"
        own = [n for n in names if n.endswith(".py")]
        assert own and all(n == "app.py" or n.startswith("chalicelib/") for n in own), "a dependency's source"
        for module in own:
            assert importlib.util.cache_from_source(module) in names, f"{module} is not precompiled"
        dependencies = [n for n in names if n.endswith(".pyc") and "__pycache__/" not in n]
        assert {"pydantic/main.pyc", "webauthn/__init__.pyc", "typing_extensions.pyc"} <= set(dependencies)
        assert not [n for n in names if "__pycache__/" in n and not n.startswith(("__pycache__/app.", "chalicelib/"))]
        for cached in [*(importlib.util.cache_from_source(m) for m in ("app.py", "chalicelib/store/engine.py")),
                       "pydantic/main.pyc"]:
            header = archive.read(cached)[:16]
            assert header[:4] == importlib.util.MAGIC_NUMBER   # this Python is 3.12, as Lambda's
            assert int.from_bytes(header[4:8], "little") == 0b01   # hash-based, source not checked
        assert marshal.loads(archive.read("pydantic/main.pyc")[16:]).co_filename == "pydantic/main.py"
    assert not [n for n in names if n.startswith(("dns/", "pycparser/", "cffi/", "pydantic/v1/")) or ".dist-info/" in n]


def test_shared_libraries_ship_without_symbol_tables(package, tmp_path):
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        libraries = [archive.extract(name, tmp_path) for name in archive.namelist() if name.endswith(".so")]
    assert len(libraries) >= 5
    for library in libraries:
        sections = subprocess.run(["readelf", "-S", "-W", library], capture_output=True, text=True, check=True).stdout
        assert ".dynsym" in sections and ".symtab" not in sections, library


def test_stage_policy_files_are_generated_from_the_template():
    result = subprocess.run([sys.executable, "-m", "infra.policies", "--check"], cwd=PROJECT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


def test_stage_config():
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    assert set(config["stages"]) == {"local", "local-e2e", "dev", "prod"}
    for stage, settings in config["stages"].items():
        env = settings["environment_variables"]
        assert env["STAGE"] == stage and env["TABLE_NAME"] == f"mfa-{stage}"
        assert env["KMS_KEY_ID"] == f"alias/mfa-{stage}"
        assert settings["iam_policy_file"] == f"policy-{stage}.json"   # the API handler's (tests/test_iam.py)
        assert env["RP_ID"] and env["RP_NAME"] and env["ALLOWED_ORIGINS"] and env["MAIL_FROM"]
        assert settings.get("lambda_memory_size", config["lambda_memory_size"]) >= 1024


def test_the_stateful_template_also_merges_into_one_stack(tmp_path):
    """infra/template.json is usable as chalice package --merge-template too (one stack)."""
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([chalice, "package", "--stage", "dev", "--merge-template", "infra/template.json",
                    str(tmp_path / "out")], cwd=PROJECT, env=env, check=True, capture_output=True)
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    assert {"Table", "SecretsKey", "APIHandler", "RestAPI"} <= set(template["Resources"])
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([cfn_lint, str(tmp_path / "out" / "sam.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_a_stage_that_names_its_stream_still_packages_one_mapping(tmp_path):
    """After `make infra` the stage's environment names the stream (OUTBOX_STREAM_ARN), so app.py
    declares Chalice's own mapping: infra/app.json's event has Chalice's name for it and replaces
    it (the stream exported by the stateful stack, the filter, the dead-letter queue)."""
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    stream = "arn:aws:dynamodb:us-east-1:123456789012:table/mfa-dev/stream/2026-01-01T00:00:00.000"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "OUTBOX_STREAM_ARN": stream}
    subprocess.run([chalice, "package", "--stage", "dev", "--merge-template", "infra/app.json",
                    str(tmp_path / "out")], cwd=PROJECT, env=env, check=True, capture_output=True)
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    events = template["Resources"]["OutboxDelivery"]["Properties"]["Events"]
    assert list(events) == ["OutboxDeliveryDynamodbEventSource"]
    assert events["OutboxDeliveryDynamodbEventSource"]["Properties"]["Stream"] == {
        "Fn::ImportValue": {"Fn::Sub": "mfa-${Stage}-table-stream"}}
    assert [name for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::EventSourceMapping"] == []
