"""Resource quantities parse, compare, add and print as apimachinery's resource.Quantity does."""

from fractions import Fraction
import pickle

import pytest

from engine.api.quantity import (
    BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, ERR_FORMAT_WRONG, ERR_NUMERIC, ERR_SUFFIX, Quantity,
    cpu_millis, memory_bytes, parse_quantity,
)

PARSED = [
    # (text, exact value, format, printed back) -- cases from quantity_test.go
    ("100m", Fraction(1, 10), DECIMAL_SI, "100m"),
    ("0.1", Fraction(1, 10), DECIMAL_SI, "100m"),
    ("1.5", Fraction(3, 2), DECIMAL_SI, "1500m"),
    ("2", 2, DECIMAL_SI, "2"),
    ("1Ki", 1024, BINARY_SI, "1Ki"),
    ("1.5Gi", 1536 * 2**20, BINARY_SI, "1536Mi"),
    ("1536Mi", 1536 * 2**20, BINARY_SI, "1536Mi"),
    ("1024Mi", 2**30, BINARY_SI, "1Gi"),
    ("3Ei", 3 * 2**60, BINARY_SI, "3Ei"),
    ("0.5Ki", 512, BINARY_SI, "512"),
    ("1000M", 10**9, DECIMAL_SI, "1G"),
    ("50k", 50000, DECIMAL_SI, "50k"),
    ("2e3", 2000, DECIMAL_EXPONENT, "2e3"),
    ("1E-3", Fraction(1, 1000), DECIMAL_EXPONENT, "1E-3"),
    ("1e-3", Fraction(1, 1000), DECIMAL_EXPONENT, "1e-3"),
    ("0.001e0", Fraction(1, 1000), DECIMAL_EXPONENT, "1e-3"),
    ("1.2e3", 1200, DECIMAL_EXPONENT, "1200"),
    ("5n", Fraction(5, 10**9), DECIMAL_SI, "5n"),
    ("4u", Fraction(4, 10**6), DECIMAL_SI, "4u"),
    ("-1.5", Fraction(-3, 2), DECIMAL_SI, "-1500m"),
    ("0", 0, DECIMAL_SI, "0"),
    ("0Mi", 0, BINARY_SI, "0"),
    ("1E", 10**18, DECIMAL_SI, "1E"),
    ("1000E", 10**21, DECIMAL_SI, "1e21"),
    ("3.001n", Fraction(4, 10**9), DECIMAL_SI, "4n"),
    ("0.0000000001", Fraction(1, 10**9), DECIMAL_SI, "1n"),
    (".001Ki", Fraction(1024, 1000), BINARY_SI, "1024m"),
    (".000000000001Ki", Fraction(2, 10**9), DECIMAL_SI, "2n"),
    ("9Ei", 2**63 - 1, BINARY_SI, "9223372036854775807"),
    ("+1", 1, DECIMAL_SI, "+1"),
]


@pytest.mark.parametrize("text, value, fmt, printed", PARSED, ids=[
    f"{p[0]!r} is {p[3]!r} in {p[2]}" for p in PARSED])
def test_a_quantity_parses_to_its_exact_value_and_prints_back_as_the_api_server_does(text, value, fmt, printed):
    q = parse_quantity(text)
    assert q.fraction == value
    assert q.format == fmt
    assert str(q) == printed


BAD = [
    ("", ERR_FORMAT_WRONG),
    ("aoeu", ERR_FORMAT_WRONG),
    ("1.1.M", ERR_FORMAT_WRONG),
    ("1+1.0M", ERR_FORMAT_WRONG),
    (" 1", ERR_FORMAT_WRONG),
    ("1 ", ERR_FORMAT_WRONG),
    ("2 cores", ERR_FORMAT_WRONG),
    ("0.1mi", ERR_SUFFIX),
    ("1i", ERR_SUFFIX),
    ("-3.01e-", ERR_SUFFIX),
    ("1e4294967297", ERR_SUFFIX),
    ("1KB", ERR_FORMAT_WRONG),
    ("1kk", ERR_SUFFIX),
    ("e-12", ERR_NUMERIC),
]


@pytest.mark.parametrize("text, message", BAD, ids=[f"{b[0]!r} is rejected" for b in BAD])
def test_a_malformed_quantity_is_rejected_with_go_s_message(text, message):
    with pytest.raises(ValueError) as excinfo:
        parse_quantity(text)
    assert str(excinfo.value) == message


def test_the_format_error_quotes_the_real_regular_expression():
    assert ERR_FORMAT_WRONG == ("quantities must match the regular expression "
                                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("text, canonical", [
    ("1.250", "1250m"), ("5.444T", "5444G"), ("012", "12"), ("+1", "1"), ("1.", "1"),
], ids=[
    "three decimal places print as written but canonicalise to millis",
    "a decimal SI fraction canonicalises to the next smaller suffix",
    "leading zeros print as written but canonicalise away",
    "a plus sign prints as written but canonicalises away",
    "a trailing point canonicalises away",
])
def test_canonical_ignores_the_text_as_written(text, canonical):
    assert parse_quantity(text).canonical() == canonical


@pytest.mark.parametrize("value, expected", [
    (1, "1"), (0.5, "500m"), (2.0, "2"), (1e-05, "10e-6"), (1024, "1024"),
], ids=["an int is a whole number", "a float half is 500m", "a float two is 2",
        "a tiny float keeps its exponent form", "a JSON number keeps decimal format"])
def test_json_numbers_become_quantities(value, expected):
    assert str(parse_quantity(value)) == expected


@pytest.mark.parametrize("value", [True, None, float("nan"), [1]], ids=[
    "a boolean is not a quantity", "null is not a quantity", "NaN is not a quantity", "a list is not a quantity"])
def test_non_quantities_are_rejected(value):
    with pytest.raises(ValueError):
        parse_quantity(value)


@pytest.mark.parametrize("text, value, milli", [
    ("100m", 1, 100), ("1.5", 2, 1500), ("-1.5", -2, -1500), ("1n", 1, 1), ("1Gi", 2**30, 2**30 * 1000), ("0", 0, 0),
], ids=["a tenth rounds up to one", "one and a half rounds up to two", "negatives round away from zero",
        "a nano rounds up to one and to one milli", "a gibibyte in bytes", "zero is zero"])
def test_value_and_milli_value_round_up_away_from_zero(text, value, milli):
    q = parse_quantity(text)
    assert (q.value(), q.milli_value()) == (value, milli)


def test_helpers_for_the_scheduler_and_kubelet():
    assert cpu_millis("250m") == 250
    assert cpu_millis("1.5") == 1500
    assert cpu_millis(2) == 2000
    assert memory_bytes("1Ki") == 1024
    assert memory_bytes("1k") == 1000
    assert memory_bytes("128Mi") == 128 * 2**20


@pytest.mark.parametrize("left, right, total", [
    ("1Gi", "512Mi", "1536Mi"), ("0", "100m", "100m"), ("100m", "0", "100m"), ("0", "1Gi", "1Gi"),
    ("1", "500m", "1500m"), ("100m", "1", "1100m"), ("1Ki", "1", "1025"),
], ids=["binary plus binary stays binary", "zero takes the format of what is added",
        "adding zero keeps the format", "zero plus binary is binary", "cores plus millicores are millicores",
        "the left operand's format wins", "a binary total that is not a power of 1024 prints plainly"])
def test_addition_is_exact_and_keeps_go_s_format_rules(left, right, total):
    assert str(parse_quantity(left) + parse_quantity(right)) == total


def test_subtraction_multiplication_and_negation():
    assert str(parse_quantity("1") - parse_quantity("100m")) == "900m"
    assert str(Quantity(0) - parse_quantity("100m")) == "-100m"
    assert str(parse_quantity("100m") * 3) == "300m"
    assert str(3 * parse_quantity("1Gi")) == "3Gi"
    assert str(-parse_quantity("1Gi")) == "-1Gi"
    assert str(parse_quantity("1Ei") * 1024) == "1180591620717411303424"


def test_sum_of_requests_works_with_the_builtin_sum():
    total = sum(parse_quantity(q) for q in ["100m", "250m", "1"])
    assert str(total) == "1350m"


@pytest.mark.parametrize("a, b, cmp", [
    ("1Gi", "1024Mi", 0), ("1G", "1Gi", -1), ("100m", "0.1", 0), ("10000T", "100Gi", 1), ("50m", "100m", -1),
], ids=["equal values in different units are equal", "a gigabyte is less than a gibibyte",
        "100 millicores is a tenth", "terabytes beat gibibytes", "fewer millicores are less"])
def test_quantities_compare_by_value(a, b, cmp):
    qa, qb = parse_quantity(a), parse_quantity(b)
    assert qa.cmp(qb) == cmp
    assert (qa == qb) == (cmp == 0)
    assert (qa < qb) == (cmp < 0)
    assert (qa > qb) == (cmp > 0)


def test_quantities_are_hashable_immutable_and_picklable():
    q = parse_quantity("1Gi")
    assert {q: "x"}[parse_quantity("1024Mi")] == "x"
    with pytest.raises(AttributeError):
        q._value = Fraction(1)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(q)) == q
    assert repr(q) == "Quantity('1Gi')"
    assert Quantity("1.5Gi") == q + parse_quantity("512Mi")


def test_round_up_to_milli_is_what_the_api_server_does_to_resource_lists():
    assert str(parse_quantity("0.1m").round_up(-3)) == "1m"
    assert str(parse_quantity("1.5").round_up(-3)) == "1500m"
    assert str(parse_quantity("9.01").round_up(0)) == "10"
