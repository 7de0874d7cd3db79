"""engine.grading.integrity and engine.grading.delegation: hidden tests trust the installed engine only, and give
no marks to an answer that hands its work to the engine's own implementation.

Each test that tampers with the engine puts the originals back itself too (``restored``), so that a bug
in the repair could never leak into other tests of the session.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import pytest

import engine.grading.feedback as feedback
import engine.grading.selectors as selector_grading
import engine.grading.store as store_grading
from engine.api.selectors import parse
from engine.grading import GradingFailure
from engine.grading.delegation import OwnWork
from engine.grading.integrity import ENGINE_ROOT, ensure_installed, fresh_cluster, tampered
from engine.store.memory import MemoryStore


@contextmanager
def restored(*targets: tuple[object, str]) -> Iterator[None]:
    saved = [(owner, name, vars(owner).get(name)) for owner, name in targets]
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def test_the_installed_engine_is_untampered() -> None:
    assert tampered() == []
    assert ensure_installed() == []
    assert ENGINE_ROOT == __import__("pathlib").Path(feedback.__file__).resolve().parents[1]


def test_replaced_functions_methods_and_constants_are_put_back() -> None:
    with restored((feedback, "check"), (MemoryStore, "watch"), (store_grading, "KEYS"),
                  (store_grading, "check_watch")):
        original_watch = MemoryStore.watch
        feedback.check = lambda *args, **kwargs: None
        MemoryStore.watch = lambda self, *args, **kwargs: None
        store_grading.KEYS = ()
        store_grading.check_watch = lambda *args, **kwargs: None
        assert sorted(ensure_installed()) == ["engine.grading.feedback.check", "engine.grading.store.KEYS",
                                              "engine.grading.store.check_watch", "engine.store.memory.MemoryStore.watch"]
        assert tampered() == []
        assert MemoryStore.watch.__code__ == original_watch.__code__
        with pytest.raises(GradingFailure) as raised:
            feedback.check(False, "still checks")
        assert str(raised.value) == "still checks"            # the sentinel default is the live module's


def test_a_method_added_to_an_engine_class_is_removed() -> None:
    def matches(self, labels):        # written in a notebook, it would come from __main__
        return True
    matches.__module__ = "__main__"
    with restored((type(parse("a=b")), "__eq__")):
        type(parse("a=b")).__eq__ = matches
        assert ensure_installed() == ["engine.api.selectors.LabelSelector.__eq__"]


def test_a_foreign_module_in_sys_modules_is_replaced_by_the_installed_one() -> None:
    name = "engine.grading.selectors"
    try:
        sys.modules[name] = type(sys)(name)
        assert ensure_installed() == [name]
        assert sys.modules[name] is selector_grading
    finally:
        sys.modules[name] = selector_grading


def test_fresh_cluster_is_a_new_cluster_of_the_installed_engine() -> None:
    first, second = fresh_cluster(nodes=0, seed=1), fresh_cluster(nodes=0, seed=1)
    assert first is not second and first.now == second.now


def _reference(selector: str, labels: dict) -> bool:
    return parse(selector).matches(labels)


def _own(selector: str, labels: dict) -> bool:
    key, value = selector.split("=")
    return labels.get(key) == value


def test_an_answer_that_is_the_engine_piece_gets_no_marks() -> None:
    own = OwnWork("selector_matches", [parse, selector_grading.reference_matches])
    with pytest.raises(GradingFailure) as raised:
        own.check(selector_grading.reference_matches)
    assert "hands the work to the engine's own implementation" in str(raised.value)


def test_an_answer_that_imports_the_engine_piece_gets_no_marks() -> None:
    def answer(selector: str, labels: dict) -> bool:
        from engine.api.selectors import parse as engine_parse
        return engine_parse(selector).matches(labels)

    assert OwnWork("selector_matches", [parse]).imported(answer) == "parse"
    assert OwnWork("selector_matches", [parse]).imported(_reference) == "engine.api.selectors.parse"


def test_an_answer_that_calls_into_the_engine_piece_indirectly_gets_no_marks() -> None:
    own = OwnWork("selector_matches", [type(parse("a=b"))])     # LabelSelector: every method it defines
    helper = {"parse": parse}

    def answer(selector: str, labels: dict) -> bool:
        return helper["parse"](selector).matches(labels)        # no name of the piece in the code

    assert own.imported(answer) is None
    assert own.wrap(answer)("a=b", {"a": "b"}) is True
    assert "engine.api.selectors.LabelSelector.matches" in own.called
    with pytest.raises(GradingFailure):
        own.check(answer)


def test_own_work_passes_and_the_grader_s_own_calls_do_not_count() -> None:
    own = OwnWork("selector_matches", [parse])

    def grader_side(selector: str) -> None:
        with own.paused():
            _reference(selector, {})                            # as a racing store's competitor would

    def answer(selector: str, labels: dict) -> bool:
        grader_side(selector)
        return _own(selector, labels)

    assert own.wrap(answer)("a=b", {"a": "b"}) is True
    own.check(answer)
    own.check(_own)
    assert sys.getprofile() is None


def test_the_lab_checks_reject_delegation_and_accept_own_work() -> None:
    with pytest.raises(GradingFailure, match="hands the work"):
        selector_grading.check_selectors(selector_grading.reference_matches, seed=1, n=20)
    with pytest.raises(GradingFailure, match="hands the work"):
        store_grading.check_cas(store_grading.reference_cas, seed=1, scenarios=2)

    def cas_update(store, key, expected, value):
        from engine.store.types import Compare, PutOp
        return store.txn([Compare(key, "MOD", "=", expected)], [PutOp(key, value)], []).succeeded

    store_grading.check_cas(cas_update, seed=1, scenarios=2)
    store_grading.check_cas_race(cas_update, seed=1, scenarios=2)


def test_a_name_imported_from_another_engine_module_is_put_back() -> None:
    # checks modules import fail/check from feedback: patching the importer's name (and the origin's, in either
    # order of module names) must not outlive the guard.
    import engine.grading.delegation as delegation
    import engine.grading.own_controller_checks as own_checks
    original = feedback.fail
    with restored((feedback, "fail"), (delegation, "fail"), (own_checks, "fail")):
        own_checks.fail = lambda *args, **kwargs: None
        delegation.fail = lambda *args, **kwargs: None        # "delegation" sorts before "feedback"
        feedback.fail = lambda *args, **kwargs: None
        assert {"engine.grading.own_controller_checks.fail", "engine.grading.delegation.fail",
                "engine.grading.feedback.fail"} <= set(tampered())
        repaired = ensure_installed()
        assert {"engine.grading.own_controller_checks.fail", "engine.grading.delegation.fail",
                "engine.grading.feedback.fail"} <= set(repaired)
        assert feedback.fail.__code__ is original.__code__
        assert own_checks.fail is feedback.fail and delegation.fail is feedback.fail
        assert tampered() == []
