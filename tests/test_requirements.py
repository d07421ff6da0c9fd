"""Every package the code imports is pinned directly in a requirements file, not only
pulled in by another one: the Lambda's code (app.py, chalicelib/) in requirements.txt (boto3 and
botocore are the runtime's, pinned in requirements-dev.txt), the tools and the tests in either."""
import ast
import importlib.metadata
import re
import sys
from functools import lru_cache

import pytest

from tests.support import PROJECT

# The project's own modules and packages (tests put ops/ and clients/ folders on sys.path).
SOURCES = [PROJECT, *(path for path in PROJECT.iterdir() if path.is_dir() and path.name not in (".venv", "build"))]
LOCAL = {path.name for path in PROJECT.iterdir() if path.is_dir()} | {
    path.stem for folder in SOURCES for path in (folder.glob("*.py") if folder == PROJECT else folder.rglob("*.py"))}
# boto3 and botocore are the Lambda runtime's; `chalice package` adds chalice's own runtime.
PROVIDED_IN_LAMBDA = {"boto3", "botocore", "chalice"}


def imported(paths) -> set[str]:
    """Top-level names of the absolute imports in these files."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - LOCAL - {"__future__"}


def pinned(*files: str) -> set[str]:
    found = set()
    for name in files:
        for line in (PROJECT / name).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==", line.strip())
            if match:
                found.add(normalised(match.group(1)))
    return found


def normalised(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@lru_cache(maxsize=1)
def installed() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions(module: str) -> set[str]:
    found = installed().get(module)
    assert found, f"{module} is imported but no installed distribution provides it"
    return {normalised(d) for d in found}


def unpinned(paths, allowed: set[str]) -> list[str]:
    return sorted(f"{module} ({', '.join(sorted(distributions(module)))})" for module in imported(paths)
                  if not distributions(module) & allowed)


def test_the_lambdas_imports_are_pinned_in_requirements_txt():
    code = [PROJECT / "app.py", *(PROJECT / "chalicelib").rglob("*.py")]
    assert unpinned(code, pinned("requirements.txt") | PROVIDED_IN_LAMBDA) == []


# localdev (with the local stage's dev mailbox and SNS log) is never in the zip, like the tools.
@pytest.mark.parametrize("folder", ["ops", "localdev", "infra", "bench", "tests"])
def test_the_tools_and_tests_imports_are_pinned(folder):
    code = list((PROJECT / folder).rglob("*.py"))
    assert unpinned(code, pinned("requirements.txt", "requirements-dev.txt")) == []
