"""Own work: does a learner's answer hand the graded piece to the engine's own implementation?

The engine holds the reference implementation of every piece a lab asks for (a lab's
``selector_matches`` is ``engine.api.selectors.parse(s).matches(labels)``), so an answer could
simply call it. ``OwnWork`` finds such an answer three ways:

- it *is* the engine's piece (``selector_matches = reference_matches``, a ``functools.partial``
  or a bound method of it);
- it *imports* the piece: a name of the piece appears in the answer's code (or the code of a
  function nested in it) and resolves, through the answer's globals or an import in its body,
  to the piece or to the module or class that holds it;
- it *calls into* the piece: while the answer runs (only then: ``wrap``), a profile hook
  watches for the piece's code being entered, however indirectly.

Use::

    own = OwnWork("selector_matches", [parse, LabelSelector, Requirement, reference_matches], see=...)
    compare(own.wrap(selector_matches), reference_matches, cases, ...)
    own.check(selector_matches)       # GradingFailure when the answer delegates

Pass classes to cover every method they define. The grader's own code that runs inside an
answer's call (a store that races the learner's write, say) runs under ``own.paused()`` so that
it does not count. ``check`` raises a ``GradingFailure`` that says which piece the answer
delegates to and why that earns no marks. Nothing here prints or writes to stderr.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from engine.grading.feedback import fail


def _name(piece: Any) -> str:
    return f"{getattr(piece, '__module__', '?')}.{getattr(piece, '__qualname__', getattr(piece, '__name__', piece))}"


def _codes_of(piece: Any) -> dict[types.CodeType, str]:
    """The code objects of a function, or of every function a class defines (with their qualified names)."""
    found: dict[types.CodeType, str] = {}
    members = vars(piece).values() if isinstance(piece, type) else [piece]
    for member in members:
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            candidates = [member.fget, member.fset, member.fdel]
        else:
            candidates = [inspect.unwrap(member)] if callable(member) else []
        for function in candidates:
            code = getattr(function, "__code__", None)
            if code is not None:
                found[code] = _name(function)
    return found


def _code_tree(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_tree(const)


def _target(answer: Any) -> Any:
    """What an answer stands for: the function a partial or a bound method wraps, unwrapped."""
    while True:
        if isinstance(answer, functools.partial):
            answer = answer.func
        elif inspect.ismethod(answer):
            answer = answer.__func__
        elif hasattr(answer, "__wrapped__"):
            answer = inspect.unwrap(answer)
        else:
            return answer


class OwnWork:
    """Detects an answer named ``what`` that delegates to ``pieces`` (functions or classes of the engine)."""

    def __init__(self, what: str, pieces: Sequence[Any], *, see: str | None = None) -> None:
        self.what = what
        self.pieces = list(pieces)
        self.see = see
        self.codes: dict[types.CodeType, str] = {}
        for piece in self.pieces:
            self.codes.update(_codes_of(piece))
        self.names = {getattr(piece, "__name__", "") for piece in self.pieces} - {""}
        self.called: list[str] = []
        self._paused = 0

    # -- calls into a piece -----------------------------------------------------
    def wrap(self, answer: Callable[..., Any]) -> Callable[..., Any]:
        """``answer`` watched: a call into a piece while it runs is recorded (``called``)."""
        @functools.wraps(answer)
        def watched(*args: Any, **kwargs: Any) -> Any:
            previous = sys.getprofile()
            sys.setprofile(self._profile)
            try:
                return answer(*args, **kwargs)
            finally:
                sys.setprofile(previous)
        return watched

    def _profile(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call" and not self._paused and frame.f_code in self.codes:
            if len(self.called) < 5:
                self.called.append(self.codes[frame.f_code])

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The grader's own code running inside an answer's call: calls into pieces do not count."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    # -- is it, imports it --------------------------------------------------------
    def _holds_piece(self, value: Any, attributes: set[str]) -> str | None:
        value = _target(value)
        for piece in self.pieces:
            if value is piece or getattr(value, "__code__", None) in self.codes:
                return _name(piece)
        if isinstance(value, (types.ModuleType, type)):
            for attribute in attributes & self.names:
                held = getattr(value, attribute, None)
                if any(held is piece for piece in self.pieces):
                    return _name(held)
        return None

    def imported(self, answer: Callable[..., Any]) -> str | None:
        """The piece ``answer`` is, or names in its code, or ``None``."""
        target = _target(answer)
        found = self._holds_piece(target, set())
        if found or not hasattr(target, "__code__"):
            return found
        names: set[str] = set()
        for code in _code_tree(target.__code__):
            names.update(code.co_names)
        names_of_pieces = names & self.names
        modules = {getattr(piece, "__module__", "") for piece in self.pieces}
        if names_of_pieces and any(name in modules or any(m.endswith("." + name) or m.startswith(name + ".")
                                                          for m in modules) for name in names):
            return ", ".join(sorted(names_of_pieces))          # an import of the piece in the answer's body
        scope = getattr(target, "__globals__", {})
        for name in names:
            if name in scope:
                found = self._holds_piece(scope[name], names)
                if found:
                    return found
        return None

    # -- the verdict ---------------------------------------------------------------
    def check(self, answer: Callable[..., Any]) -> None:
        """Raise a ``GradingFailure`` when ``answer`` delegates to a piece (statically, or in the calls watched)."""
        piece = self.imported(answer) or (", ".join(dict.fromkeys(self.called)) if self.called else None)
        if piece:
            fail(f"{self.what} hands the work to the engine's own implementation ({piece}). This lab asks you to "
                 f"write that logic yourself, so this test gives no marks for it. Read the engine's code to learn "
                 f"from it, then write {self.what} without calling or importing it.", see=self.see)


__all__ = ["OwnWork"]
