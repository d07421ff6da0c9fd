"""Races, staged: one interleaving of concurrent requests, chosen by the test and the same on
every run, rather than whatever the threads' timing gives.

    race(first, *others, pause_before=(store, "transact"))

runs `first` in a thread until it calls `store.transact` (any module attribute or method
named by the pair), holds it there, runs each of `others` to the end in turn, then lets
`first` go on: `first` has read what it read before the others wrote, and writes after
them. Threads carry the requests, but nothing waits on time: each step starts when the one
before it has reached its point (the timeout only turns a hang into a failure).

In-process requests need the app's per-thread request object: the `race` fixture
(tests/conftest.py) sets that up and hands out this function.
"""
import threading

TIMEOUT = 60


class RaceNotStaged(AssertionError):
    """The first step ended without reaching its pause point: the interleaving never happened."""


def race(first, *others, pause_before: tuple[object, str], timeout: float = TIMEOUT) -> list:
    """The results of `first` and each of `others`, in that order, with `first` held just
    before its first call of `pause_before` while the others run to the end, one after the
    other. An exception in any step is raised once `first` has finished."""
    owner, name = pause_before
    original = getattr(owner, name)
    staged = threading.local()
    arrived, go_on = threading.Event(), threading.Event()
    state = {"paused": False}
    outcome = {}

    def pausing(*args, **kwargs):
        if getattr(staged, "first", False) and not state["paused"]:
            state["paused"] = True
            arrived.set()
            go_on.wait(timeout)
        return original(*args, **kwargs)

    def run_first():
        staged.first = True
        try:
            outcome["result"] = first()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome["error"] = error
        finally:
            arrived.set()

    setattr(owner, name, pausing)
    try:
        thread = threading.Thread(target=run_first, name="race-first", daemon=True)
        thread.start()
        if not arrived.wait(timeout):
            raise RaceNotStaged(f"the first step did not reach {name} within {timeout} s")
        if not state["paused"]:
            thread.join(timeout)
            raise RaceNotStaged(f"the first step ended without calling {name}: "
                                f"{outcome.get('error') or outcome.get('result')!r}")
        try:
            results = [step() for step in others]
        finally:
            go_on.set()
            thread.join(timeout)
        if thread.is_alive():
            raise RaceNotStaged(f"the first step did not finish within {timeout} s of going on")
        if "error" in outcome:
            raise outcome["error"]
        return [outcome["result"], *results]
    finally:
        setattr(owner, name, original)
