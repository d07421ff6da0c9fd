"""A pytest plugin for bench/mutants.py: runs every selected test `--repeat-runs` times (as
run 0, 1, ...) and writes which runs had a failing test to `--repeat-report` (JSON).

    python -m pytest -p repeat_plugin --repeat-runs 10 --repeat-report out.json <tests>

(bench/ on PYTHONPATH). A run is one pass over the selection; it failed when any of its
tests failed in any phase (setup, call, teardown).
"""
import json

import pytest

_PARAM = "repeat_run"


def pytest_addoption(parser):
    parser.addoption("--repeat-runs", type=int, default=1, help="how many times to run each selected test")
    parser.addoption("--repeat-report", default=None, help="where to write the runs' outcomes (JSON)")


def pytest_configure(config):
    config._repeat_outcomes = {"passed": set(), "failed": set()}


@pytest.fixture
def repeat_run(request):
    return request.param


def pytest_generate_tests(metafunc):
    runs = metafunc.config.getoption("repeat_runs")
    metafunc.fixturenames.append(_PARAM)
    metafunc.parametrize(_PARAM, range(runs), indirect=True, ids=[f"run{i}" for i in range(runs)])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    run = item.callspec.params.get(_PARAM) if hasattr(item, "callspec") else None
    if run is None:
        return
    outcomes = item.config._repeat_outcomes
    if report.failed:
        outcomes["failed"].add(run)
    elif report.when == "call" and report.passed:
        outcomes["passed"].add(run)


def pytest_sessionfinish(session):
    path = session.config.getoption("repeat_report")
    if path:
        outcomes = session.config._repeat_outcomes
        with open(path, "w") as out:
            json.dump({k: sorted(v) for k, v in outcomes.items()}, out)
