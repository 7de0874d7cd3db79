"""Predict, then run: a question widget for "what will the cluster do?" before a failure is injected.

Learning sticks when you commit to an answer first. ``Prediction(question, options, answer, why)`` shows the
question with its options; the learner picks one *before* running the next cell, which injects the failure and
shows what the cluster did. ``prediction.reveal()`` (in the cell after) then says whether the pick was right and
why the cluster behaves that way; with no pick it gives the answer anyway, so a notebook run top to bottom
(or by a test) still reads well. The widget never touches a cluster.
"""

from __future__ import annotations

import ipywidgets as widgets


class Prediction(widgets.VBox):
    """A multiple-choice prediction; ``reveal()`` returns (and the widget shows) the verdict and the reason."""

    def __init__(self, question: str, options: list[str], answer: str, why: str) -> None:
        if answer not in options:
            raise ValueError(f"the answer {answer!r} is not one of the options")
        self.question, self.options, self.answer, self.why = question, list(options), answer, why
        self.choice = widgets.RadioButtons(options=self.options, value=None, layout=widgets.Layout(width="auto"))
        self.verdict = widgets.HTML()
        super().__init__([widgets.HTML(f"<b>Predict:</b> {question}"), self.choice, self.verdict])

    def reveal(self) -> str:
        """The verdict on the learner's pick (or the answer if none was picked), and why."""
        picked = self.choice.value
        if picked is None:
            text = f"You did not predict. The cluster's answer: {self.answer}. {self.why}"
        elif picked == self.answer:
            text = f"Right: {self.answer}. {self.why}"
        else:
            text = f"Not quite: you picked \"{picked}\"; the cluster's answer: {self.answer}. {self.why}"
        self.choice.disabled = True
        self.verdict.value = f"<p>{text}</p>"
        return text
