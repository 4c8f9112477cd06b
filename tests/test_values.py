"""Cell values as Excel users type them: money, shares, yes/no, whole numbers, lists, ids."""

import math

import pytest

from optimiser.values import (
    format_id,
    is_blank,
    parse_bool,
    parse_integer,
    parse_list,
    parse_number,
    parse_share,
)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        (1200, 1200.0),
        (1200.5, 1200.5),
        ("1200", 1200.0),
        ("1,200", 1200.0),
        ("$ 1,200,000", 1_200_000.0),
        ("1 200 000 €", 1_200_000.0),
        ("1\u00a0200\u00a0000 €", 1_200_000.0),  # non-breaking spaces, as French Excel writes
        ("USD 2,500", 2500.0),
        ("1.200.000,50", 1_200_000.5),
        ("1,200,000.50", 1_200_000.5),
        ("1,5", 1.5),
        ("(500)", -500.0),
        ("-500", -500.0),
        ("40%", 0.4),
        ("1.5m", 1_500_000.0),
        ("250k", 250_000.0),
        ("2bn", 2e9),
        ("1e3", 1000.0),
        (" 42 ", 42.0),
        (-0.0, 0.0),
    ],
)
def test_parse_number_reads_money_as_typed(typed, number):
    assert parse_number(typed) == pytest.approx(number)


@pytest.mark.parametrize("typed", ["abc", "", "12 apples", True, None, float("nan"), float("inf"), "1,2,3"])
def test_parse_number_refuses_what_is_not_a_number(typed):
    with pytest.raises(ValueError, match="not a"):
        parse_number(typed)


@pytest.mark.parametrize(
    ("typed", "share"), [(0.4, 0.4), ("40%", 0.4), ("0,4", 0.4), (0, 0.0), (1, 1.0), ("100%", 1.0)]
)
def test_parse_share_reads_percentages_and_fractions(typed, share):
    assert parse_share(typed) == pytest.approx(share)


@pytest.mark.parametrize("typed", [40, "150%", -0.1, "1.01"])
def test_parse_share_refuses_numbers_outside_zero_to_one(typed):
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_share(typed)


@pytest.mark.parametrize(
    ("typed", "flag"),
    [
        ("yes", True),
        ("Y", True),
        ("x", True),
        ("TRUE", True),
        (1, True),
        (1.0, True),
        (True, True),
        ("no", False),
        ("n", False),
        ("False", False),
        ("0", False),
        (0, False),
        (False, False),
    ],
)
def test_parse_bool_reads_yes_and_no_as_typed(typed, flag):
    assert parse_bool(typed) is flag


@pytest.mark.parametrize("typed", ["maybe", 2, "yes please"])
def test_parse_bool_refuses_anything_else(typed):
    with pytest.raises(ValueError, match="yes or no"):
        parse_bool(typed)


@pytest.mark.parametrize(("typed", "whole"), [(3, 3), ("3", 3), (3.0, 3), ("1,000", 1000)])
def test_parse_integer_reads_whole_numbers(typed, whole):
    assert parse_integer(typed) == whole


def test_parse_integer_refuses_fractions():
    with pytest.raises(ValueError, match="whole"):
        parse_integer(2.5)


@pytest.mark.parametrize(
    ("typed", "items"),
    [
        ("mediation, monitoring", ("mediation", "monitoring")),
        ("Z01;Z02", ("Z01", "Z02")),
        ("Z01,\nZ02,", ("Z01", "Z02")),
        (101.0, ("101",)),
        (None, ()),
        ("  ", ()),
    ],
)
def test_parse_list_splits_on_commas_and_semicolons(typed, items):
    assert parse_list(typed) == items


@pytest.mark.parametrize(("typed", "text"), [(101.0, "101"), (101, "101"), (" M1 ", "M1"), (1.5, "1.5")])
def test_format_id_writes_numbers_as_ids(typed, text):
    assert format_id(typed) == text


@pytest.mark.parametrize(
    ("value", "blank"),
    [(None, True), (math.nan, True), ("  ", True), ("", True), (0, False), ("x", False), (False, False)],
)
def test_is_blank(value, blank):
    assert is_blank(value) is blank
