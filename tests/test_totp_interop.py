"""TOTP against independent references: RFC 6238 Appendix B and oathtool."""
import shutil
import subprocess

import pytest

from chalicelib.methods.totp import matching_step

# RFC 6238 Appendix B, SHA-1 rows: the seed is ASCII "12345678901234567890".
RFC_SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize("when, eight_digits", RFC_VECTORS)
def test_rfc6238_appendix_b_vectors(when, eight_digits):
    import pyotp

    assert pyotp.TOTP(RFC_SEED_B32, digits=8).at(when) == eight_digits
    # A 6-digit code is the same truncation modulo 10^6: the verifier finds the same step.
    assert matching_step(RFC_SEED_B32, eight_digits[-6:], when) == when // 30


def test_verifier_window_is_one_step_each_way():
    code = "287082"  # step 1 (T=59)
    assert matching_step(RFC_SEED_B32, code, 59 + 30) == 1
    assert matching_step(RFC_SEED_B32, code, 59 - 30) == 1
    assert matching_step(RFC_SEED_B32, code, 59 + 60) is None


def oathtool(secret: str, when: float) -> str:
    result = subprocess.run(["oathtool", "--totp", "--base32", "--now", f"@{int(when)}", secret],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.mark.skipif(shutil.which("oathtool") is None, reason="oathtool is installed by .ci/run")
def test_oathtool_matches_rfc_vectors():
    for when, eight_digits in RFC_VECTORS[:5]:
        assert oathtool(RFC_SEED_B32, when) == eight_digits[-6:]


@pytest.mark.skipif(shutil.which("oathtool") is None, reason="oathtool is installed by .ci/run")
def test_codes_from_oathtool_enrol_and_log_in(person, api, clock):
    person.sign_up()
    person.password_step()
    started = api.post("/v1/account/methods/totp", {"label": "oathtool"}).json
    confirm = api.post(f"/v1/account/methods/{started['method_id']}/confirm",
                       {"code": oathtool(started["secret"], clock.now())})
    assert confirm.status_code == 200
    person.method_id = started["method_id"]
    clock.advance(30)
    assert person.login(oathtool(started["secret"], clock.now())).status_code == 200
    clock.advance(30)
    # A code typed with a space, as apps display it.
    code = oathtool(started["secret"], clock.now())
    assert person.login(code[:3] + " " + code[3:]).status_code == 200
