"""Helpers for the tests, by concern; tests/conftest.py keeps the fixtures built on them.

- clock.py: the frozen clock that the service reads in in-process tests
- faults.py: AWS failures injected into the app's botocore clients (the Nth call fails with X)
- http.py: API clients with a cookie jar: Chalice's test client, and the served API over HTTP
- journeys.py: a person driven through the API (sign up, verify, log in, enrol, step up)
- outbox.py: the outbox's Lambdas as AWS invokes them: the scheduled sweeper, the table's stream
- phone.py: a paired phone: the reference authenticator's signing, in-process or over HTTP
- races.py: a staged interleaving of two or more requests, for race tests
- saml_idp.py: a real SAML IdP (pysaml2 with xmlsec1) on 127.0.0.1, with response variants and forgeries
- servers.py: the served API (`make run`'s program) and the real local servers, with their gating
- soft_authenticator.py: WebAuthn responses built with fido2
- sso.py: SSO connections (and a SAML IdP's metadata) for tests where no identity provider answers
- table.py: reading the DynamoDB table as stored
"""
import json
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
# The local stage's environment (.chalice/config.json): table, key, sender, origins.
LOCAL_STAGE = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
