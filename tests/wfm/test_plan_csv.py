"""The intervals CSV: parsing, validation with line numbers, period inference."""

from __future__ import annotations

import pytest

from switchboard.domain.errors import ValidationError
from switchboard.wfm.plan import infer_period_s, parse_intervals_csv

GOOD = (
    "interval_start,volume,aht,queue\n"
    "2024-03-04T08:00:00,0,,sales\n"
    "\n"
    "2024-03-04T08:15:00,12.5,300,sales\n"
    "2024-03-04T08:30:00,40,280.5,sales\n"
)


def test_parses_rows_in_order_and_ignores_other_columns() -> None:
    plan = parse_intervals_csv(GOOD, "week.csv")
    assert plan.starts == ("2024-03-04T08:00:00", "2024-03-04T08:15:00", "2024-03-04T08:30:00")
    assert plan.volume.tolist() == [0.0, 12.5, 40.0]
    assert plan.aht_s.tolist() == [0.0, 300.0, 280.5]
    assert plan.lines == (2, 4, 5)
    assert infer_period_s(plan, "week.csv") == 900.0


def test_header_may_come_in_any_order_and_case() -> None:
    plan = parse_intervals_csv("AHT, Volume ,Interval_Start\n300,4,a\n")
    assert plan.volume.tolist() == [4.0] and plan.starts == ("a",)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("", "f.csv", "empty"),
        ("interval_start,volume\nx,1\n", "f.csv line 1", "'aht'"),
        ("interval_start,volume,aht\n", "f.csv", "no interval rows"),
        ("interval_start,volume,aht\nx,1,300\ny,abc,300\n", "f.csv line 3: volume", "'abc'"),
        ("interval_start,volume,aht\nx,-2,300\n", "f.csv line 2: volume", ">= 0"),
        ("interval_start,volume,aht\nx,nan,300\n", "f.csv line 2: volume", "finite"),
        ("interval_start,volume,aht\nx,3,0\n", "f.csv line 2: aht", "> 0"),
        ("interval_start,volume,aht\nx,3,\n", "f.csv line 2: aht", "number"),
        ("interval_start,volume,aht\nx,3,300,9\n", "f.csv line 2", "expected 3 fields"),
        ("interval_start,volume,aht\n,3,300\n", "f.csv line 2: interval_start", "empty"),
        ("interval_start,volume,aht\nx,3,300\nx,4,300\n", "f.csv line 3: interval_start", "line 2"),
    ],
)
def test_bad_files_name_the_line_and_column(text: str, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_intervals_csv(text, "f.csv")
    assert err.value.field == field
    assert words in err.value.message


def test_period_inference_refuses_uneven_or_unparseable_starts() -> None:
    uneven = parse_intervals_csv(
        "interval_start,volume,aht\n2024-01-01T08:00,1,60\n2024-01-01T08:30,1,60\n"
        "2024-01-01T08:45,1,60\n"
    )
    with pytest.raises(ValidationError) as err:
        infer_period_s(uneven, "f.csv")
    assert err.value.field == "f.csv line 4: interval_start"
    labels = parse_intervals_csv("interval_start,volume,aht\nmon-1,1,60\nmon-2,1,60\n")
    with pytest.raises(ValidationError) as err:
        infer_period_s(labels, "f.csv")
    assert err.value.field == "f.csv line 2: interval_start"
    single = parse_intervals_csv("interval_start,volume,aht\n2024-01-01T08:00,1,60\n")
    with pytest.raises(ValidationError) as err:
        infer_period_s(single)
    assert err.value.field == "period_s"
