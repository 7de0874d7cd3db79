"""API errors carry the Status the real API server sends, message included."""

import pytest

from engine.api.errors import invalid

REQUIRED_IMAGE = {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}
REQUIRED_NAME = {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].name"}
REQUIRED_NAME_DETAIL = {"reason": "FieldValueRequired", "message": "Required value: name is required",
                        "field": "spec.containers[0].name"}
TOO_LONG = {"reason": "FieldValueTooLong", "message": "Too long: must have at most 1048576 bytes", "field": ""}


@pytest.mark.parametrize("causes, message", [
    pytest.param([], 'Pod "web" is invalid', id="without causes the message only says the object is invalid"),
    pytest.param([REQUIRED_IMAGE], 'Pod "web" is invalid: spec.containers[0].image: Required value',
                 id="a single cause is printed without brackets"),
    pytest.param([REQUIRED_IMAGE, REQUIRED_NAME],
                 'Pod "web" is invalid: [spec.containers[0].image: Required value, '
                 'spec.containers[0].name: Required value]',
                 id="several causes are listed in brackets, in order"),
    pytest.param([REQUIRED_IMAGE, REQUIRED_NAME, REQUIRED_IMAGE],
                 'Pod "web" is invalid: [spec.containers[0].image: Required value, '
                 'spec.containers[0].name: Required value]',
                 id="a repeated cause is listed once, where it first appeared (ErrorList.ToAggregate)"),
    pytest.param([REQUIRED_IMAGE, REQUIRED_IMAGE], 'Pod "web" is invalid: spec.containers[0].image: Required value',
                 id="causes that are all the same print as one, without brackets"),
    pytest.param([REQUIRED_NAME, REQUIRED_NAME_DETAIL],
                 'Pod "web" is invalid: [spec.containers[0].name: Required value, '
                 'spec.containers[0].name: Required value: name is required]',
                 id="only exact duplicates are dropped: the same field with another message stays"),
    pytest.param([TOO_LONG], 'Pod "web" is invalid: Too long: must have at most 1048576 bytes',
                 id="a cause without a field prints its message alone"),
])
def test_the_invalid_message_aggregates_the_causes_as_go_does(causes, message):
    assert invalid("Pod", "web", causes).message == message


def test_the_invalid_status_keeps_every_cause_even_when_the_message_drops_repeats():
    causes = [REQUIRED_IMAGE, REQUIRED_NAME, REQUIRED_IMAGE]
    status = invalid("Deployment", "web", causes, group="apps").status
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"] == ('Deployment.apps "web" is invalid: [spec.containers[0].image: Required value, '
                                 'spec.containers[0].name: Required value]')
    assert status["details"]["causes"] == causes
    assert status["details"]["kind"] == "Deployment"
    assert status["details"]["group"] == "apps"
