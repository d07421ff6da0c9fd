"""bench/mutants.py's list of security conditions still matches the code (no test runs):
each replacement finds its text exactly once, and each test it names exists. `make mutants`
then proves each condition's tests fail every time it is broken."""
import importlib.util
import re

from tests.support import PROJECT


def mutants_module():
    spec = importlib.util.spec_from_file_location("mutants", PROJECT / "bench" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_replacement_still_matches_the_source():
    assert mutants_module().drift() == []


def test_every_named_test_exists():
    missing = []
    for mutant in mutants_module().MUTANTS:
        for test in mutant.tests:
            path, _, name = test.partition("::")
            source = (PROJECT / path).read_text() if (PROJECT / path).exists() else ""
            if not re.search(rf"^def {re.escape(name)}\(", source, re.MULTILINE):
                missing.append(test)
    assert missing == []


def test_a_replacement_that_no_longer_matches_is_reported(tmp_path):
    mutants = mutants_module()
    edit = mutants.MUTANTS[0].edits[0]
    (tmp_path / edit.path).parent.mkdir(parents=True)
    (tmp_path / edit.path).write_text("the condition was rewritten\n")
    assert any(edit.path in problem for problem in mutants.drift(tmp_path))
