"""engine.grading's own tests: feedback that teaches, plugs that really decide, scenarios that are reproducible."""

from __future__ import annotations

import pytest

import engine
from engine.grading import GradingFailure, check, compare, plug_authorizer, unplug_authorizer
from engine.grading import rbac as rbac_grading
from engine.grading import selectors as selector_grading
from engine.grading import store as store_grading
from engine.store import CompactedError, Compare, PutOp


def test_check_says_what_was_expected_what_happened_and_where_to_look() -> None:
    with pytest.raises(GradingFailure) as raised:
        check(1 == 2, "the watch missed an event", expected=[1], got=[], hint="start is inclusive",
              see="course/02_etcd.ipynb")
    text = str(raised.value)
    assert "the watch missed an event" in text and "expected: [1]" in text and "got:      []" in text
    assert "Hint: start is inclusive" in text and "Where to look: course/02_etcd.ipynb" in text
    assert isinstance(raised.value, AssertionError)
    assert raised.value._render_traceback_()[0].endswith("the watch missed an event")


def test_check_passes_silently() -> None:
    check(True, "never shown")


def test_compare_lists_the_first_mismatches_and_counts_them() -> None:
    with pytest.raises(GradingFailure) as raised:
        compare(lambda x: x + 1 if x > 2 else x, lambda x: x, [(n,) for n in range(10)],
                describe=lambda x: f"f({x})", shown=2, hint="look at big numbers")
    text = str(raised.value)
    assert "on 7 of 10 cases" in text and "1. f(3)" in text and "2. f(4)" in text and "f(5)" not in text
    assert "expected: 3" in text and "got:      4" in text


def test_compare_expects_the_same_exception_type_as_the_reference() -> None:
    def reference(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return x

    assert compare(reference, reference, [(1,), (-1,)]) is None
    with pytest.raises(GradingFailure) as raised:
        compare(lambda x: x, reference, [(-1,)])
    assert "raised ValueError" in str(raised.value)


def test_compare_reports_the_learners_exception_with_its_line() -> None:
    def learner(x: int) -> int:
        return {}[x]

    with pytest.raises(GradingFailure) as raised:
        compare(learner, lambda x: x, [(1,)])
    assert "raised KeyError: 1" in str(raised.value)


def test_random_operations_are_reproducible_and_apply_to_a_store() -> None:
    assert store_grading.random_operations(5, 40) == store_grading.random_operations(5, 40)
    store = store_grading.new_store()
    store_grading.apply_operations(store, store_grading.random_operations(5, 40))
    assert store.revision > 1


def test_watch_cases_reference_is_the_stores_own_watch() -> None:
    cases = store_grading.watch_cases(seed=1, scenarios=10)
    compacted = 0
    for history, start, compact, prefix in cases.cases:
        try:
            expected = cases.reference(history, start, compact, prefix)
        except CompactedError:
            compacted += 1
            assert 0 < start < compact
            continue
        assert expected == [e for e in history if start and e.kv.mod_revision >= start and e.kv.key.startswith(prefix)]
    assert compacted > 0


def test_racing_store_writes_before_the_first_write_only() -> None:
    store = store_grading.new_store()
    store.put("k", b"0")
    racing = store_grading.RacingStore(store, lambda: store.put("k", b"them"))
    mod = racing.range("k").kvs[0].mod_revision
    assert not racing.raced
    response = racing.txn([Compare("k", "MOD", "=", mod)], [PutOp("k", b"me")], [])
    assert racing.raced and not response.succeeded and store.range("k").kvs[0].value == b"them"


def test_plugged_authorizer_decides_real_requests_and_admin_bypasses_it() -> None:
    cluster = engine.Cluster(nodes=0, seed=0)
    rbac_grading.seed_objects(cluster)
    adapter = plug_authorizer(cluster, lambda attrs, *objects: attrs.verb == "get")
    request = rbac_grading.Request("bob", "get", "", "configmaps", "team-a", "alpha")
    assert rbac_grading.send(cluster, request) == "allowed"
    assert rbac_grading.send(cluster, rbac_grading.Request("bob", "list", "", "configmaps", "team-a")) == "forbidden"
    assert [recorded.learner for recorded in adapter.decisions] == [True, False]
    assert [recorded.reference.allowed for recorded in adapter.decisions] == [False, False]
    cluster.admin.list("configmaps", "team-a")            # system:masters never reaches the learner
    assert len(adapter.decisions) == 2
    unplug_authorizer(cluster)
    assert rbac_grading.send(cluster, request) == "forbidden"


def test_the_reference_authorize_agrees_with_the_running_server() -> None:
    cluster = engine.Cluster(nodes=0, seed=1)
    rbac_grading.seed_objects(cluster)
    rbac_grading.apply_policy(cluster, rbac_grading.random_policy(1))
    adapter = plug_authorizer(cluster, rbac_grading.reference_authorize)
    for request in rbac_grading.random_requests(1, 40):
        rbac_grading.send(cluster, request)
    assert len(adapter.decisions) == 40
    assert all(recorded.learner == recorded.reference.allowed for recorded in adapter.decisions)


def test_selector_cases_cover_matches_and_misses() -> None:
    cases = selector_grading.selector_cases(0, 200)
    answers = [selector_grading.reference_matches(selector, labels) for selector, labels in cases]
    assert 30 < sum(answers) < 170
