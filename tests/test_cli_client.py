"""The reference CLI's own logic: its credentials file and how it follows the server's answers."""
import sys

import pytest

from tests.support import PROJECT

sys.path.insert(0, str(PROJECT / "clients" / "cli"))
import mfa_cli  # noqa: E402


@pytest.fixture
def credentials(tmp_path, monkeypatch):
    path = tmp_path / "dir" / "netrc"
    monkeypatch.setenv("MFA_CREDENTIALS", str(path))
    return path


def test_tokens_per_api_host_in_a_private_file(credentials):
    mfa_cli.save_token("http://127.0.0.1:8000", "a@example.com", "token-a")
    mfa_cli.save_token("https://mfa.example.com", "b@example.com", "token-b")
    mfa_cli.save_token("http://127.0.0.1:8000", "a@example.com", "token-a2")
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert mfa_cli.load_token("http://127.0.0.1:8000") == "token-a2"
    assert mfa_cli.load_token("https://mfa.example.com") == "token-b"
    mfa_cli.forget_token("http://127.0.0.1:8000")
    assert mfa_cli.load_token("http://127.0.0.1:8000") is None
    assert mfa_cli.load_token("https://mfa.example.com") == "token-b"
    mfa_cli.forget_token("https://mfa.example.com")
    assert not credentials.exists()


def test_login_follows_pending_and_slow_down(credentials, monkeypatch, capsys):
    answers = iter([
        {"device_code": "d", "user_code": "BCDF-GHJK", "verification_uri": "http://x/cli-login",
         "verification_uri_complete": "http://x/cli-login?user_code=BCDF-GHJK", "expires_in": 600, "interval": 5},
        mfa_cli.ApiError(400, {"error": "authorization_pending"}),
        mfa_cli.ApiError(400, {"error": "slow_down", "interval": 10}),
        mfa_cli.ApiError(400, {"error": "authorization_pending"}),
        {"access_token": "tok", "token_type": "bearer", "expires_at": 1},
        {"email": "a@example.com"},
    ])

    def fake_call(api, method, path, body=None, token=None):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    slept = []
    monkeypatch.setattr(mfa_cli, "call", fake_call)
    assert mfa_cli.login("http://x", False, "test", sleep=slept.append) == 0
    assert slept == [5, 5, 10, 10]
    assert mfa_cli.load_token("http://x") == "tok"
    assert "BCDF-GHJK" in capsys.readouterr().out


@pytest.mark.parametrize("error", ["access_denied", "expired_token", "invalid_grant"])
def test_login_stops_on_final_errors(credentials, monkeypatch, error):
    answers = iter([
        {"device_code": "d", "user_code": "BCDF-GHJK", "verification_uri": "u", "verification_uri_complete": "u",
         "expires_in": 600, "interval": 1},
        mfa_cli.ApiError(400, {"error": error, "message": error}),
    ])

    def fake_call(*args, **kwargs):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(mfa_cli, "call", fake_call)
    assert mfa_cli.login("http://x", False, "test", sleep=lambda s: None) == 1
    assert not credentials.exists()
