import pytest

from engine.kubelet.prober.results import FAILURE, LIVENESS, READINESS, SUCCESS, ProbeCount, ResultsManager, count_result


def feed(outcomes, probe_type=READINESS, success=1, failure=3):
    count, published = ProbeCount(), []
    for outcome in outcomes:
        count, result = count_result(count, outcome, probe_type=probe_type, success_threshold=success,
                                     failure_threshold=failure)
        published.append(result)
    return published


@pytest.mark.parametrize("outcomes, options, expected", [
    ([FAILURE, FAILURE, FAILURE], {}, [None, None, FAILURE]),
    ([FAILURE, FAILURE, SUCCESS, FAILURE, FAILURE], {}, [None, None, SUCCESS, None, None]),
    ([SUCCESS, SUCCESS, SUCCESS], {"success": 2}, [None, SUCCESS, SUCCESS]),
    ([FAILURE, FAILURE, FAILURE, FAILURE], {}, [None, None, FAILURE, FAILURE]),
    ([FAILURE] * 6, {"probe_type": LIVENESS}, [None, None, FAILURE, None, None, FAILURE]),
    ([FAILURE], {"failure": 1}, [FAILURE]),
], ids=[
    "failureThreshold failures in a row publish Failure",
    "a success in between starts the count of failures again",
    "successThreshold successes in a row publish Success",
    "a readiness probe keeps publishing Failure while it keeps failing",
    "after a published liveness Failure the count starts again from zero",
    "failureThreshold 1 publishes the first failure",
])
def test_count_result(outcomes, options, expected):
    assert feed(outcomes, **options) == expected


def test_results_manager_publishes_only_changes():
    changes = []
    results = ResultsManager(lambda cid, result, uid: changes.append((cid, result, uid)))
    results.set("c1", FAILURE, "u")
    results.set("c1", FAILURE, "u")
    results.set("c1", SUCCESS, "u")
    results.remove("c1")
    assert changes == [("c1", FAILURE, "u"), ("c1", SUCCESS, "u")]
    assert results.get("c1") is None
