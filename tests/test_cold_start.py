"""The first request pays only for what it needs: importing the app and making its AWS clients
loads none of the libraries only some routes use (speed itself is measured by bench/, not here)."""
import subprocess
import sys

from tests.support import PROJECT

# Imported by the routes that need them, never by the app's import or a client's creation;
# email_validator only for an address that is not plain ASCII (chalicelib/api/emails.py).
ROUTE_LIBRARIES = ("cryptography", "OpenSSL", "webauthn", "lxml", "signxml", "joserfc", "segno", "zxcvbn",
                   "argon2", "pyotp", "cbor2", "email_validator")
CHECK = f"""
import sys
import app
from chalicelib import aws
from chalicelib.api import models
assert "botocore" not in sys.modules
aws.client("dynamodb"), aws.client("kms"), aws.client("ses"), aws.client("sns")
models.LoginRequest.model_validate({{"email": "Ann.Lee@Example.com", "password": "x"}})
print(sorted({{name.split(".")[0] for name in sys.modules}} & set({ROUTE_LIBRARIES!r})))
"""


def test_importing_the_app_making_its_clients_and_reading_a_login_loads_no_route_library():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=PROJECT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "STAGE": "dev"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
