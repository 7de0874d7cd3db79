"""Failures that teach: what a lab's test cells raise when a learner's code is not there yet.

Interface:

- ``GradingFailure``: an ``AssertionError`` whose message says what was
  expected, what happened, and where to look. In a notebook it shows as that
  message alone, without a traceback: the traceback would only show the test
  cell's own lines (hidden tests included), which teach nothing.
- ``check(condition, message, expected=..., got=..., hint=..., see=...)``: raise
  a ``GradingFailure`` unless ``condition`` holds.
- ``compare(learner_fn, reference_fn, cases, ...)``: run the learner's function
  and the engine's own answer on every case; raise one ``GradingFailure`` that
  shows the first few cases where they differ, side by side.
- ``describe_exception(error)``: ``TypeError: ... (line 4 of your code: ...)``.

Nothing here prints or writes to stderr: nbgrader scores a test cell that
writes to stderr as zero, whatever the tests said.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

_MISSING: Any = object()
MAX_VALUE_TEXT = 400
"""Longer values are cut in messages: a learner reads the start and the point, not a dump."""


class GradingFailure(AssertionError):
    """A test of a lab failed; the message is written for the learner."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback (ipyparallel's hook for remote errors).
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: " + str(self).split("\n", 1)[0],
                *str(self).split("\n")[1:]]


def show(value: Any) -> str:
    """A value as a message shows it: ``repr``, cut to ``MAX_VALUE_TEXT`` characters."""
    text = value if isinstance(value, _Shown) else repr(value)
    text = str(text)
    return text if len(text) <= MAX_VALUE_TEXT else text[:MAX_VALUE_TEXT - 3] + "..."


class _Shown(str):
    """Text already rendered for a message (shown as is, not repr'd)."""


def describe_exception(error: BaseException) -> str:
    """``ValueError: bad key (line 3 of your code: parts = key.split())``: the learner's own last line."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if _is_learner_frame(frame.filename)]
    if own:
        frame = own[-1]
        line = (frame.line or "").strip()
        text += f" (line {frame.lineno} of your code" + (f": {line})" if line else ")")
    return text


def _is_learner_frame(filename: str) -> bool:
    # Code typed in a notebook cell is compiled under a name like <ipython-input-..> or .../ipykernel_*/*.py.
    return filename.startswith("<") or "ipykernel_" in filename


def _message(message: str, expected: Any, got: Any, hint: str | None, see: str | None) -> str:
    lines = [message]
    if expected is not _MISSING:
        lines.append(f"  expected: {show(expected)}")
    if got is not _MISSING:
        lines.append(f"  got:      {show(got)}")
    if hint:
        lines.append(f"Hint: {hint}")
    if see:
        lines.append(f"Where to look: {see}")
    return "\n".join(lines)


def check(condition: Any, message: str = "not what was expected", *, expected: Any = _MISSING,
          got: Any = _MISSING, hint: str | None = None, see: str | None = None) -> None:
    """Raise a ``GradingFailure`` unless ``condition`` is true; the message says what and where."""
    if not condition:
        raise GradingFailure(_message(message, expected, got, hint, see))


def fail(message: str, *, expected: Any = _MISSING, got: Any = _MISSING, hint: str | None = None,
         see: str | None = None) -> None:
    """Raise a ``GradingFailure`` unconditionally (``check(False, ...)``)."""
    raise GradingFailure(_message(message, expected, got, hint, see))


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned ``value`` or raised ``error``."""

    value: Any = None
    error: BaseException | None = None

    def render(self, render_value: Callable[[Any], str]) -> str:
        if self.error is not None:
            return f"raised {describe_exception(self.error)}"
        return show(_Shown(render_value(self.value)))


def _run(fn: Callable[..., Any], args: Sequence[Any], normalize: Callable[[Any], Any] | None) -> Outcome:
    try:
        value = fn(*args)
    except Exception as error:            # a learner's exception is a result to report, not a crash
        return Outcome(error=error)
    if normalize is not None:
        try:
            value = normalize(value)
        except Exception as error:
            return Outcome(error=error)
    return Outcome(value=value)


def _same(learner: Outcome, reference: Outcome, equal: Callable[[Any, Any], bool]) -> bool:
    if reference.error is not None:
        return learner.error is not None and isinstance(learner.error, type(reference.error))
    if learner.error is not None:
        return False
    try:
        return bool(equal(learner.value, reference.value))
    except Exception:
        return False


def _diagnosis(diagnose: Callable[[tuple, Outcome, Outcome], str | None] | None, case: tuple,
               reference: Outcome, learner: Outcome) -> str | None:
    if diagnose is None:
        return None
    try:
        return diagnose(case, reference, learner)
    except Exception:                     # a diagnosis is a bonus; never let it hide the mismatch
        return None


def compare(learner_fn: Callable[..., Any], reference_fn: Callable[..., Any], cases: Iterable[Sequence[Any]], *,
            describe: Callable[..., str] | None = None, render: Callable[[Any], str] = repr,
            equal: Callable[[Any, Any], bool] = lambda a, b: a == b,
            normalize: Callable[[Any], Any] | None = None, what: str = "your function",
            hint: str | None = None, see: str | None = None, shown: int = 3,
            diagnose: Callable[[tuple, Outcome, Outcome], str | None] | None = None) -> None:
    """Check ``learner_fn(*case)`` against ``reference_fn(*case)`` for every case.

    Returns None on purpose: nbgrader reads a number left as a test cell's last value as partial
    credit (and refuses one above the cell's points), so no check here returns a count.

    When the reference raises, the learner must raise the same exception type. On any
    difference, one ``GradingFailure`` lists the first ``shown`` differing cases, each as
    ``describe(*case)``, the expected outcome and the learner's, what ``diagnose(case,
    expected, got)`` says the mistake is (when it recognises one), then the hint.
    """
    cases = [tuple(case) for case in cases]
    mismatches: list[tuple[tuple, Outcome, Outcome]] = []
    for case in cases:
        reference = _run(reference_fn, case, None)
        learner = _run(learner_fn, case, normalize)
        if not _same(learner, reference, equal):
            mismatches.append((case, reference, learner))
    if not mismatches:
        return None
    label = describe or (lambda *args: ", ".join(show(arg) for arg in args))
    lines = [f"{what} disagrees with the engine on {len(mismatches)} of {len(cases)} cases; "
             f"the first {min(shown, len(mismatches))}:"]
    for number, (case, reference, learner) in enumerate(mismatches[:shown], start=1):
        lines.append(f"{number}. {label(*case)}")
        lines.append(f"   expected: {reference.render(render)}")
        lines.append(f"   got:      {learner.render(render)}")
        why = _diagnosis(diagnose, case, reference, learner)
        if why:
            lines.append(f"   why:      {why}")
    if hint:
        lines.append(f"Hint: {hint}")
    if see:
        lines.append(f"Where to look: {see}")
    raise GradingFailure("\n".join(lines))
