"""Resource quantities, as ``k8s.io/apimachinery/pkg/api/resource`` defines them.

A quantity is the string a manifest writes for CPU, memory or storage: ``100m``,
``1.5Gi``, ``2e3``, ``512Mi``. This module parses such strings exactly as
``resource.ParseQuantity`` does, keeps the value as an exact fraction (never a
float: that is the point of the format), and prints it back the way the API
server does, so ``1.5Gi`` comes back as ``1536Mi`` and ``0.1`` as ``100m``.

What a caller may rely on:

- ``parse_quantity`` accepts what Go accepts and rejects what Go rejects, with
  Go's three error messages (``quantities must match the regular expression
  ...``, ``unable to parse quantity's suffix``, ``unable to parse numeric part
  of quantity``), raised as ``ValueError``.
- Values are rounded up (away from zero) to the nano unit on parse, and binary
  (``Ki``..``Ei``) quantities are capped at 2^63-1, like Go.
- A ``Quantity`` remembers its format (``BinarySI``, ``DecimalSI`` or
  ``DecimalExponent``) from its suffix, and prints in that format when it can
  do so exactly; ``str(q)`` is what the API server serialises. Like Go, a parsed
  string that is already in canonical form is kept as written (so ``"+1"`` and
  ``"1.250"`` print unchanged: the second is kubernetes/kubernetes#138165);
  ``q.canonical()`` always gives the canonical form.
- ``Quantity`` is immutable and hashable; equality and ordering compare values
  (``Quantity("1Gi") == Quantity("1024Mi")``). ``+``, ``-`` and ``* int`` follow
  Go's ``Add``/``Sub``/``Mul``: the result keeps the left operand's format,
  unless the left operand is zero.
- ``value()`` and ``milli_value()`` round up away from zero, like ``Value()``
  and ``MilliValue()``.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Union

DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
BINARY_SI = "BinarySI"  # 12Mi (12 * 2^20)
DECIMAL_SI = "DecimalSI"  # 12M (12 * 10^6)
FORMATS = (DECIMAL_EXPONENT, BINARY_SI, DECIMAL_SI)

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXPONENT = {exp: suffix for suffix, exp in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_MAX_INT32 = 2**31 - 1
_MAX_INT64 = 2**63 - 1
_MAX_ALLOWED = Fraction(_MAX_INT64)
_NANO = 10**9
_INF_DECIMAL = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")


class Quantity:
    """An exact, immutable resource quantity (Go: ``resource.Quantity``)."""

    __slots__ = ("_value", "_format", "_text")

    def __init__(self, value: Union[str, int, Fraction, "Quantity"] = 0, format: str = DECIMAL_SI) -> None:
        if isinstance(value, str):
            parsed = _parse(value)
            amount, format, text = parsed._value, parsed._format, parsed._text
        elif isinstance(value, Quantity):
            amount, format, text = value._value, value._format, value._text
        elif isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            raise TypeError(f"a Quantity is built from a string, an int or a Fraction, not {type(value).__name__}")
        else:
            amount, text = Fraction(value), None
            if format not in FORMATS:
                raise ValueError(f"unknown quantity format {format!r}: use one of {', '.join(FORMATS)}")
        object.__setattr__(self, "_value", amount)
        object.__setattr__(self, "_format", format)
        object.__setattr__(self, "_text", text)

    @classmethod
    def _make(cls, value: Fraction, format: str, text: str | None = None) -> "Quantity":
        q = cls.__new__(cls)
        object.__setattr__(q, "_value", value)
        object.__setattr__(q, "_format", format)
        object.__setattr__(q, "_text", text)
        return q

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Quantity is immutable: arithmetic returns a new Quantity")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Quantity is immutable")

    # -- reading -----------------------------------------------------------

    @property
    def format(self) -> str:
        return self._format

    @property
    def fraction(self) -> Fraction:
        """The exact value."""
        return self._value

    def is_zero(self) -> bool:
        return self._value == 0

    def sign(self) -> int:
        return (self._value > 0) - (self._value < 0)

    def scaled_value(self, scale: int) -> int:
        """``ceil(q / 10^scale)``, rounding away from zero (Go: ``ScaledValue``)."""
        return _round_away(self._value / Fraction(10) ** scale)

    def value(self) -> int:
        """The value rounded up to an integer, away from zero (Go: ``Value()``): bytes, cores."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """``ceil(q * 1000)``, away from zero (Go: ``MilliValue()``): millicores."""
        return self.scaled_value(-3)

    def as_approximate_float(self) -> float:
        """A float approximation, for display and ratios only."""
        return float(self._value)

    def round_up(self, scale: int) -> "Quantity":
        """The value rounded up (away from zero) to a multiple of 10^scale (Go: ``RoundUp``)."""
        step = Fraction(10) ** scale
        rounded = _round_away(self._value / step) * step
        text = self._text if rounded == self._value else None
        return Quantity._make(Fraction(rounded), self._format, text)

    # -- printing ----------------------------------------------------------

    def canonical(self) -> str:
        """The canonical string: no fractional digits, the largest exponent or suffix possible."""
        return _canonicalize(self._value, self._format)

    def __str__(self) -> str:
        """What the API server writes back (Go: ``String()``): the text as parsed if canonical."""
        return self._text if self._text is not None else self.canonical()

    def to_json(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # -- comparing ---------------------------------------------------------

    def cmp(self, other: "QuantityLike") -> int:
        """-1, 0 or 1, like Go's ``Cmp``."""
        theirs = _coerce(other)._value
        return (self._value > theirs) - (self._value < theirs)

    def _other(self, other: object) -> Fraction | None:
        if isinstance(other, Quantity):
            return other._value
        if isinstance(other, int) and not isinstance(other, bool):
            return Fraction(other)
        return None

    def __eq__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self._value == theirs  # type: ignore[return-value]

    def __lt__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self._value < theirs  # type: ignore[return-value]

    def __le__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self._value <= theirs  # type: ignore[return-value]

    def __gt__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self._value > theirs  # type: ignore[return-value]

    def __ge__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self._value >= theirs  # type: ignore[return-value]

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return self._value != 0

    # -- arithmetic (Go: Add, Sub, Mul, Neg) --------------------------------

    def __add__(self, other: "QuantityLike") -> "Quantity":
        theirs = _coerce(other)
        format = theirs._format if self._value == 0 else self._format
        return Quantity._make(self._value + theirs._value, format)

    def __radd__(self, other: "QuantityLike") -> "Quantity":
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self  # so that sum() works
        return _coerce(other) + self

    def __sub__(self, other: "QuantityLike") -> "Quantity":
        theirs = _coerce(other)
        format = theirs._format if self._value == 0 else self._format
        return Quantity._make(self._value - theirs._value, format)

    def __rsub__(self, other: "QuantityLike") -> "Quantity":
        return _coerce(other) - self

    def __mul__(self, other: int) -> "Quantity":
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return Quantity._make(self._value * other, self._format)

    __rmul__ = __mul__

    def __neg__(self) -> "Quantity":
        return Quantity._make(-self._value, self._format)

    def __abs__(self) -> "Quantity":
        return Quantity._make(abs(self._value), self._format)

    def __reduce__(self):
        return (_restore, (self._value.numerator, self._value.denominator, self._format, self._text))


QuantityLike = Union[Quantity, str, int, float]


def _restore(numerator: int, denominator: int, format: str, text: str | None) -> Quantity:
    return Quantity._make(Fraction(numerator, denominator), format, text)


def parse_quantity(value: QuantityLike) -> Quantity:
    """A ``Quantity`` from a manifest value: a string, or a JSON number (int or float).

    Strings follow ``resource.ParseQuantity`` exactly; numbers are read the way
    the API server decodes a JSON number into a quantity.
    """
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool):
        raise ValueError(f"a quantity must be a string or a number, not {value!r}")
    if isinstance(value, int):
        return _parse(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(ERR_FORMAT_WRONG)
        return _parse(repr(value))
    if isinstance(value, str):
        return _parse(value)
    raise ValueError(f"a quantity must be a string or a number, not {type(value).__name__}")


def cpu_millis(value: QuantityLike) -> int:
    """Millicores of a CPU quantity: ``"250m"`` -> 250, ``"1.5"`` -> 1500, ``2`` -> 2000."""
    return parse_quantity(value).milli_value()


def memory_bytes(value: QuantityLike) -> int:
    """Bytes of a memory or storage quantity: ``"1Ki"`` -> 1024, ``"1k"`` -> 1000."""
    return parse_quantity(value).value()


def _coerce(value: QuantityLike) -> Quantity:
    return value if isinstance(value, Quantity) else parse_quantity(value)


def _round_away(x: Fraction) -> int:
    """The integer nearest x away from zero when x is not whole (Go's RoundUp)."""
    return math.ceil(x) if x >= 0 else -math.ceil(-x)


# -- parsing ---------------------------------------------------------------

def _scan(s: str) -> tuple[bool, str, str, str, str]:
    """Split a quantity into (positive, value, num, denom, suffix), as Go's parseQuantityString."""
    positive, pos, end = True, 0, len(s)
    if pos < end and s[0] in "+-":
        positive = s[0] != "-"
        pos += 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while True:  # numerator
        if i >= end:
            return positive, s, s[pos:end], "", ""
        if s[i] not in _DIGITS:
            num, pos = s[pos:i], i
            break
        i += 1
    num = num or "0"
    denom = ""
    if pos < end and s[pos] == ".":
        pos += 1
        i = pos
        while True:  # denominator
            if i >= end:
                return positive, s, num, s[pos:end], ""
            if s[i] not in _DIGITS:
                denom, pos = s[pos:i], i
                break
            i += 1
    value = s[:pos]
    suffix_start = i = pos
    while True:  # suffix letters
        if i >= end:
            return positive, value, num, denom, s[suffix_start:]
        if s[i] not in _SUFFIX_CHARS:
            pos = i
            break
        i += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    i = pos
    while True:  # exponent digits
        if i >= end:
            return positive, value, num, denom, s[suffix_start:]
        if s[i] not in _DIGITS:
            raise ValueError(ERR_FORMAT_WRONG)
        i += 1


def _interpret(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix, as Go's quantitySuffixer.interpret."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        exponent = int(suffix[1:])
        if -_MAX_INT32 <= exponent <= _MAX_INT32:  # an int32 scale that can also be negated
            return 10, exponent, DECIMAL_EXPONENT
    raise ValueError(ERR_SUFFIX)


def _parse(s: str) -> Quantity:
    if not s:
        raise ValueError(ERR_FORMAT_WRONG)
    if s == "0":
        return Quantity._make(Fraction(0), DECIMAL_SI, "0")
    positive, value, num, denom, suffix = _scan(s)
    base, exponent, format = _interpret(suffix)

    # Go's fast path (int64 arithmetic) is taken when the digits fit; only then may the
    # input text be kept as the printed form, and only then is `value` never re-parsed.
    if format == BINARY_SI:
        if exponent >= 0 and not denom:
            precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        else:
            precision = -1
        scale = 0
    else:
        precision = 18 - (len(num) + len(denom))
        scale = exponent
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = num + denom
            digits = int(shifted)
            magnitude = digits << exponent if format == BINARY_SI else digits
            if magnitude <= _MAX_INT64:
                amount = Fraction(magnitude if positive else -magnitude) * Fraction(10) ** scale
                text = None
                if format == BINARY_SI:
                    if exponent % 10 == 0 and digits & 0x07:
                        text = s
                elif scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                    text = s
                return Quantity._make(amount, format, text)

    if not _INF_DECIMAL.match(value):
        raise ValueError(ERR_NUMERIC)
    amount = abs(Fraction(value))
    amount *= Fraction(10) ** exponent if base == 10 else 2**exponent
    if amount != 0:  # rounds up to the nano unit: ask for some, get some
        amount = Fraction(math.ceil(amount * _NANO), _NANO)
    if format == BINARY_SI and amount > _MAX_ALLOWED:
        amount = _MAX_ALLOWED
    if format == BINARY_SI and 0 < amount < 1:
        format = DECIMAL_SI
    return Quantity._make(amount if positive else -amount, format)


# -- printing --------------------------------------------------------------

def _decimal_parts(value: Fraction) -> tuple[int, int]:
    """(mantissa, exponent) with value = mantissa * 10^exponent, exponent a multiple of 3, no fraction."""
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
    mantissa = value.numerator
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def _exponent_notation(value: Fraction) -> str:
    mantissa, exponent = _decimal_parts(value)
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)


def _canonicalize(value: Fraction, format: str) -> str:
    if value == 0:
        return "0"
    if format == BINARY_SI:
        if -1024 < value < 1024 or value.denominator != 1:
            format = DECIMAL_SI  # avoids rounding, and confusion
    elif format not in (DECIMAL_SI, DECIMAL_EXPONENT):
        format = DECIMAL_EXPONENT
    if format == DECIMAL_EXPONENT:
        return _exponent_notation(value)
    if format == DECIMAL_SI:
        mantissa, exponent = _decimal_parts(value)
        suffix = _DECIMAL_BY_EXPONENT.get(exponent)
        return _exponent_notation(value) if suffix is None else f"{mantissa}{suffix}"
    amount, exponent = value.numerator, 0
    while amount % 1024 == 0:
        amount //= 1024
        exponent += 10
    if exponent == 0:
        return str(amount)
    suffix = _BINARY_BY_EXPONENT.get(exponent)
    return _exponent_notation(value) if suffix is None else f"{amount}{suffix}"
