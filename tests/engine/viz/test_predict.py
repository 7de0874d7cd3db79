"""The prediction widget: a pick, then a verdict with the reason."""

from __future__ import annotations

import pytest

from engine.viz.predict import Prediction


def question() -> Prediction:
    return Prediction("Where does it stop?", ["kubectl", "kube-apiserver"], answer="kube-apiserver",
                      why="Validation is the API server's job.")


def test_a_right_pick_is_confirmed_with_the_reason() -> None:
    widget = question()
    widget.choice.value = "kube-apiserver"
    assert widget.reveal() == "Right: kube-apiserver. Validation is the API server's job."
    assert widget.choice.disabled and "Right" in widget.verdict.value


def test_a_wrong_pick_names_the_pick_and_the_answer() -> None:
    widget = question()
    widget.choice.value = "kubectl"
    assert widget.reveal().startswith('Not quite: you picked "kubectl"; the cluster\'s answer: kube-apiserver.')


def test_no_pick_still_gives_the_answer() -> None:
    assert question().reveal().startswith("You did not predict. The cluster's answer: kube-apiserver.")


def test_the_answer_must_be_an_option() -> None:
    with pytest.raises(ValueError):
        Prediction("?", ["a", "b"], answer="c", why="")
