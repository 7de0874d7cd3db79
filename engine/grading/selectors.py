"""Label selector cases for the API server lab: generated selectors and label sets, and the engine's answer.

Interface:

- ``random_selector(rng, operators=...)``: a valid selector string in kubectl's
  syntax (``app=web,tier!=db``, ``env in (prod, staging)``, ``!canary``), with
  the spacing people type.
- ``random_labels(rng)``: a label map over the same few keys, so that matches
  and misses both happen often.
- ``selector_cases(seed, n, operators=...)``: ``(selector, labels)`` pairs.
- ``reference_matches(selector, labels)``: ``engine.api.selectors.parse(selector).matches(labels)``.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

from engine.api.selectors import LabelSelector, Requirement, _Parser, parse
from engine.grading.delegation import OwnWork
from engine.grading.feedback import Outcome, compare

LABEL_KEYS = ("app", "tier", "env", "app.kubernetes.io/name")
LABEL_VALUES = ("web", "db", "prod", "staging", "dev", "")
ALL_OPERATORS = ("=", "==", "!=", "in", "notin", "exists", "!")


def _value(rng: random.Random) -> str:
    return rng.choice(LABEL_VALUES[:-1])


def random_requirement(rng: random.Random, key: str, operators: Sequence[str] = ALL_OPERATORS) -> str:
    operator = rng.choice(list(operators))
    if operator in ("=", "==", "!="):
        space = rng.choice(["", "", " "])
        return f"{key}{space}{operator}{space}{_value(rng)}"
    if operator in ("in", "notin"):
        values = sorted({_value(rng) for _ in range(rng.randint(1, 3))})
        joiner = rng.choice([",", ", "])
        return f"{key} {operator} ({joiner.join(values)})"
    if operator == "exists":
        return key
    return f"!{key}"


def random_selector(rng: random.Random, operators: Sequence[str] = ALL_OPERATORS) -> str:
    keys = rng.sample(LABEL_KEYS, rng.randint(1, 3))
    return ",".join(random_requirement(rng, key, operators) for key in keys)


def random_labels(rng: random.Random) -> dict[str, str]:
    return {key: _value(rng) for key in LABEL_KEYS if rng.random() < 0.6}


def selector_cases(seed: int, n: int, operators: Sequence[str] = ALL_OPERATORS) -> list[tuple[str, dict[str, str]]]:
    """``n`` (selector, labels) pairs; the empty selector (selects everything) comes first."""
    rng = random.Random(seed)
    cases: list[tuple[str, dict[str, str]]] = [("", random_labels(rng))]
    while len(cases) < n:
        cases.append((random_selector(rng, operators), random_labels(rng)))
    return cases


def reference_matches(selector: str, labels: dict[str, str]) -> bool:
    """The engine's answer (``labels.Parse(selector).Matches(labels)``)."""
    return parse(selector).matches(labels)


SEE_SELECTORS = ("the Kubernetes docs page \"Labels and Selectors\" (set-based requirements); "
                 "engine module engine.api.selectors (Requirement.matches)")


def diagnose_selector(case: tuple, expected: Outcome, got: Outcome) -> str | None:
    """Name the requirement the learner got wrong, with the rule it breaks."""
    selector, labels = case
    if got.error is not None:
        return "every selector here is valid kubectl syntax: split on commas outside parentheses, then strip spaces"
    if not isinstance(got.value, bool):
        return "return True or False"
    for requirement in parse(selector).requirements:
        alone = str(requirement)
        key = requirement.key
        present = key in labels
        if requirement.operator in ("!=", "notin") and not present and expected.value is True:
            return (f"{alone!r}: the object has no {key!r} label, and 'not equal' / notin also select objects "
                    f"without the label (it is not set, so it is not that value)")
        if requirement.operator == "!" and expected.value != got.value:
            return f"{alone!r} selects objects that do not have the label {key!r} at all"
        if requirement.operator == "exists" and expected.value != got.value:
            return f"{alone!r} (a bare key) selects objects that have the label {key!r}, whatever its value"
        if requirement.operator in ("in", "=", "==") and not present and got.value is True and expected.value is False:
            return f"{alone!r} requires the label {key!r} to be there: an object without it does not match"
    if selector == "":
        return "the empty selector selects everything"
    return None


def check_selectors(selector_matches: Callable[[str, dict], Any], seed: int, n: int = 300,
                    operators: Sequence[str] = ALL_OPERATORS) -> None:
    """Compare ``selector_matches`` with ``labels.Parse(selector).Matches(labels)`` on generated cases."""
    own = OwnWork("selector_matches", [parse, LabelSelector, Requirement, _Parser, reference_matches],
                  see=SEE_SELECTORS)
    compare(own.wrap(selector_matches), reference_matches, selector_cases(seed, n, operators),
            describe=lambda selector, labels: f"selector_matches({selector!r}, {labels})",
            what="selector_matches", diagnose=diagnose_selector, see=SEE_SELECTORS)
    own.check(selector_matches)
