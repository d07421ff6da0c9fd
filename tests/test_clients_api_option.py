"""Both reference clients take the API's URL the same way: `--api URL` before the command,
shown in `--help`; the authenticator's older `pair CODE --api URL` still works."""
import sys

import pytest

from tests.support import PROJECT

sys.path.insert(0, str(PROJECT / "clients" / "cli"))
sys.path.insert(0, str(PROJECT / "clients" / "authenticator"))
import mfa_authenticator  # noqa: E402
import mfa_cli  # noqa: E402

API = "http://localhost:8123"


@pytest.mark.parametrize("client", [mfa_cli, mfa_authenticator])
def test_help_documents_api_before_the_command(client, capsys):
    with pytest.raises(SystemExit):
        client.main(["--help"])
    usage = capsys.readouterr().out
    assert "[--api URL]" in usage.splitlines()[0] and "--api URL" in usage.split("options:")[1]


def test_the_cli_takes_api_before_the_command(monkeypatch):
    called = []
    monkeypatch.setattr(mfa_cli, "whoami", lambda api: called.append(api) or 0)
    assert mfa_cli.main(["--api", API, "whoami"]) == 0
    assert called == [API]


@pytest.fixture
def paired_state(tmp_path, monkeypatch):
    state = tmp_path / "authenticator.json"
    monkeypatch.setenv("MFA_AUTHENTICATOR_STATE", str(state))
    return state


@pytest.mark.parametrize("argv", [["--api", API, "pair", "ABCD-EFGH"], ["pair", "ABCD-EFGH", "--api", API]])
def test_the_authenticator_pairs_with_api_before_or_after_the_command(paired_state, monkeypatch, argv):
    called = []

    def pair(self, pairing, api, name, platform, push_token):
        called.append((pairing, api))
        self.state = {"device_id": "d"}
        return "three little words"

    monkeypatch.setattr(mfa_authenticator.Authenticator, "pair", pair)
    assert mfa_authenticator.main(argv) == 0
    assert called == [("ABCD-EFGH", API)]


def test_the_authenticators_other_commands_use_api_for_this_run_only(paired_state, monkeypatch):
    paired_state.write_text('{"api": "http://127.0.0.1:8000", "device_id": "d"}')
    used = []
    monkeypatch.setattr(mfa_authenticator.Authenticator, "challenges",
                        lambda self: used.append(self.state["api"]) or [])
    assert mfa_authenticator.main(["--api", API, "list"]) == 0
    assert mfa_authenticator.main(["list"]) == 0
    assert used == [API, "http://127.0.0.1:8000"]
    assert '"http://127.0.0.1:8000"' in paired_state.read_text()
