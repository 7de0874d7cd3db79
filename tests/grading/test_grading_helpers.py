"""engine.grading's own tests: feedback that teaches, plugs that really decide, scenarios that are reproducible."""

from __future__ import annotations

import pytest

import engine
from engine.grading import GradingFailure, check, compare, plug_authorizer, unplug_authorizer
from engine.grading import rbac as rbac_grading
from engine.grading import selectors as selector_grading
from engine.grading import store as store_grading
from engine.store import CompactedError, Compare, PutOp
from lab_specs import LABS


def _solution(lab: str) -> dict:
    """The lab's setup and solution cells run in a namespace of their own: an honest learner's answers."""
    if lab not in LABS:
        pytest.skip(f"{lab} is not among GRADING_LABS")
    namespace: dict = {"__name__": "learner"}
    for kind, _, source, _ in LABS[lab].cells():
        if kind in ("solution", "code"):
            exec(compile(source, f"<{lab}>", "exec"), namespace)
    return namespace


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
    assert rbac_grading.send(cluster, request) == "allowed"       # asked again: no decision is remembered
    assert len(adapter.decisions) == 3
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


# -- the lab checks recognise the typical mistakes (the round trips show them through nbgrader) --------

def _watch(history, start, compact, prefix="", *, inclusive=True, compaction=True):
    if compaction and 0 < start < compact:
        raise CompactedError(start, compact)
    if start <= 0:
        return []
    return [e for e in history if (e.kv.mod_revision >= start if inclusive else e.kv.mod_revision > start)
            and e.kv.key.startswith(prefix)]


@pytest.mark.parametrize("kwargs, words", [
    ({"inclusive": False}, "etcd's start_revision is inclusive"),
    ({"compaction": False}, "must raise CompactedError"),
], ids=["a watch that skips its start revision is told the start is inclusive",
        "a watch that ignores compaction is told to raise CompactedError"])
def test_check_watch_names_the_mistake(kwargs: dict, words: str) -> None:
    store_grading.check_watch(_watch, seed=5, scenarios=6)
    with pytest.raises(GradingFailure, match=words):
        store_grading.check_watch(lambda *args: _watch(*args, **kwargs), seed=5, scenarios=6)


def test_check_cas_race_catches_a_read_then_write() -> None:
    def read_then_write(store, key, expected, value):
        kvs = store.range(key).kvs
        if (kvs[0].mod_revision if kvs else 0) != expected:
            return False
        store.put(key, value)
        return True

    store_grading.check_cas(read_then_write, seed=1)          # right when nobody races it
    store_grading.check_cas_race(_solution("lab02_etcd")["cas_update"], seed=1)
    with pytest.raises(GradingFailure, match="lost update"):
        store_grading.check_cas_race(read_then_write, seed=1)


def test_check_in_api_server_names_a_binding_from_another_namespace() -> None:
    def any_namespace(attrs, roles, cluster_roles, role_bindings, cluster_role_bindings):
        moved = [{**b, "metadata": {**b["metadata"], "namespace": attrs.namespace}} for b in role_bindings]
        return rbac_grading.reference_authorize(attrs, roles, cluster_roles, moved, cluster_role_bindings)

    rbac_grading.check_in_api_server(_solution("lab03_apiserver")["authorize"], seed=33)
    with pytest.raises(GradingFailure, match="a RoleBinding grants only in its own namespace"):
        rbac_grading.check_in_api_server(any_namespace, seed=33)


def test_check_selectors_names_not_equal_on_a_missing_label() -> None:
    def missing_is_false(selector, labels):
        if "!=" in selector and selector.split("!=")[0].strip() not in labels:
            return False
        return selector_grading.reference_matches(selector, labels)

    selector_grading.check_selectors(_solution("lab03_apiserver")["selector_matches"], seed=2, n=100)
    with pytest.raises(GradingFailure, match="also select objects without the label"):
        selector_grading.check_selectors(missing_is_false, seed=2, n=100, operators=("!=",))


def test_a_watch_written_as_a_generator_counts_as_its_list() -> None:
    def lazy(history, start, compact, prefix=""):
        if 0 < start < compact:
            raise CompactedError(start, compact)
        yield from _watch(history, start, compact, prefix)

    store_grading.check_watch(lazy, seed=5, scenarios=6)
