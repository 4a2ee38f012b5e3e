"""Lengths with units."""

import pytest

from objlen.errors import ParameterError
from objlen.units import convert, parse_length, parse_size


def test_conversions():
    assert convert(25.4, "mm", "in") == pytest.approx(1.0)
    assert convert(1.0, "in", "cm") == pytest.approx(2.54)
    assert convert(12.0, "cm", "mm") == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("85.6", "mm", 85.6),
        ("85.6mm", "cm", 8.56),
        ("1 in", "mm", 25.4),
        (".5cm", "mm", 5.0),
        (3, "in", 3.0),
        ("1e1mm", "mm", 10.0),
    ],
)
def test_parse_length(text, unit, expected):
    assert parse_length(text, unit) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "-3", "0", "inf", "nan", "3 ft", ""])
def test_parse_length_refuses_nonsense(text):
    with pytest.raises(ParameterError):
        parse_length(text, "mm")


def test_zero_offset_is_allowed_where_asked():
    assert parse_length("0", "mm", allow_zero=True) == 0.0


def test_parse_size():
    assert parse_size("85.6x54", "mm") == pytest.approx((85.6, 54.0))
    assert parse_size("85.6x54mm", "cm") == pytest.approx((8.56, 5.4))
    with pytest.raises(ParameterError):
        parse_size("85.6", "mm")


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("85.6mmx54mm", "mm", (85.6, 54.0)),
        ("3.5inx2in", "mm", (88.9, 50.8)),
        ("3.5 in x 2 in", "in", (3.5, 2.0)),
        ("85.6mmx2in", "mm", (85.6, 50.8)),
        ("8.56cmx54", "mm", (85.6, 54.0)),
    ],
)
def test_parse_size_takes_a_unit_on_each_side(text, unit, expected):
    assert parse_size(text, unit) == pytest.approx(expected)


def test_a_negative_offset_is_told_that_zero_is_allowed():
    with pytest.raises(ParameterError, match="must be zero or positive, got '-3'"):
        parse_length("-3", "mm", what="--offset", allow_zero=True)


def test_unknown_unit():
    with pytest.raises(ParameterError, match="unknown unit"):
        convert(1.0, "mm", "ft")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param(10**400, "finite", id="huge-int"),  # a JSON number too large for a float
        pytest.param("9" * 5000, "characters long", id="5000-digits"),
        ("1e999", "finite"),
    ],
)
def test_absurd_numbers_are_parameter_errors_with_short_messages(value, words):
    with pytest.raises(ParameterError, match=words) as refused:
        parse_length(value, "mm", what="reference_length")
    assert len(str(refused.value)) < 200
