"""Holiday calendars against dates announced or reported independently, and by hand."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
import sys
import warnings
from itertools import pairwise

import numpy as np
import polars as pl
import pytest

import flowlens as fl
from flowlens.calendar import (
    HolidayCoverageWarning,
    holiday_dates,
    holiday_windows,
    islamic_holidays,
    nth_weekday,
)

ANNOUNCED = {
    "eid_al_fitr": [
        "2015-07-17",
        "2018-06-15",
        "2019-06-04",
        "2020-05-24",
        "2021-05-13",
        "2022-05-02",
        "2023-04-21",
        "2024-04-10",
    ],
    "eid_al_adha": [
        "2015-09-24",
        "2020-07-31",
        "2021-07-20",
        "2022-07-09",
        "2023-06-28",
        "2024-06-16",
    ],
}
"""First days of the Eids as announced in Saudi Arabia."""

DASHAIN_REPORTED = {
    # the day of the Dashain tika (Vijaya Dashami) fixed by Nepal's calendar committee
    # (Nepal Panchanga Nirnayak Samiti), as reported at the time
    "2015-10-22": "thehimalayantimes.com/kathmandu/1055-am-of-oct-22-is-most-auspicious-time-for-dashain-tika",
    "2016-10-11": "myrepublica.nagariknetwork.com/news/8-45-am-on-oct-11-the-most-auspicious-time-for-dashain-tika",
    "2018-10-19": "kathmandupost.com/national/2018/10/17/951am-auspicious-time-for-dashain-tika",
    "2020-10-26": "spotlightnepal.com/2020/10/25/dashain-tika-2077-1019-am-auspicious-hour/",
    "2022-10-05": "devdiscourse.com/article/law-order/2203323-nepal-celebrates-vijayadashami-amid-fanfare",
    "2023-10-24": "globalastrologers.com/news-n-info/132-auspicious-time-for-dashain-tika",
}

SCHEMA = {"country": pl.String, "holiday": pl.String, "date": pl.Date}


# -- the tabular Islamic calendar ---------------------------------------------------------


@pytest.mark.parametrize("holiday", sorted(ANNOUNCED))
def test_eids_are_within_one_day_of_the_announced_dates(holiday: str) -> None:
    computed = islamic_holidays(2015, 2024).filter(holiday=holiday)["date"].to_list()
    for announced in ANNOUNCED[holiday]:
        day = dt.date.fromisoformat(announced)
        nearest = min(computed, key=lambda d: abs((d - day).days))
        assert 0 <= (nearest - day).days <= 1, (holiday, announced, nearest)


def test_eids_move_about_eleven_days_earlier_each_year() -> None:
    fitr = islamic_holidays(2000, 2030).filter(holiday="eid_al_fitr")["date"].to_list()
    gaps = [(b - a).days for a, b in pairwise(fitr)]
    assert all(353 <= g <= 356 for g in gaps)  # an Islamic year: 354 or 355 days
    assert len(fitr) == 32  # 31 years, 32 Eids: 2000 had two (8 January and 28 December)


# -- observed Eids from the holidays package ----------------------------------------------


def observed(country: str, first: int, last: int) -> pl.DataFrame:
    pytest.importorskip("holidays")
    return holiday_dates(first, last, countries=[country], source="observed")


@pytest.mark.parametrize("holiday", ["eid_al_fitr", "eid_al_adha"])
def test_observed_eids_of_pakistan_are_within_two_days_of_the_tabular_ones(holiday: str) -> None:
    seen = observed("PAK", 2010, 2024).filter(holiday=holiday)["date"].to_list()
    tabular = islamic_holidays(2010, 2024).filter(holiday=holiday)["date"].to_list()
    assert len(seen) == len(tabular) == 15  # one of each Eid a year in 2010-2024
    gaps = [(s - t).days for s, t in zip(seen, tabular, strict=True)]
    assert all(abs(g) <= 2 for g in gaps), gaps
    assert any(g != 0 for g in gaps)  # the package's dates, not the tabular ones again


@pytest.mark.parametrize("holiday", sorted(ANNOUNCED))
def test_observed_eids_of_saudi_arabia_are_the_announced_dates(holiday: str) -> None:
    seen = set(observed("SAU", 2015, 2024).filter(holiday=holiday)["date"].to_list())
    assert {dt.date.fromisoformat(d) for d in ANNOUNCED[holiday]} <= seen


def test_observed_falls_back_to_tabular_where_the_package_has_no_eid() -> None:
    # Mayotte (flagged Muslim-majority) is in the package with French holidays only
    seen = observed("MYT", 2020, 2021)
    tabular = islamic_holidays(2020, 2021).filter(pl.col("holiday").str.starts_with("eid"))
    assert seen["date"].sort().to_list() == tabular["date"].sort().to_list()


def test_observed_without_the_package_asks_for_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)  # import holidays now fails
    with pytest.raises(fl.ParameterError, match=r"pip install flowlens\[holidays\]"):
        holiday_dates(2020, 2020, countries=["MEX"], source="observed")


# -- packaged tables ----------------------------------------------------------------------


def test_dashain_is_the_reported_day_of_the_tika() -> None:
    dashain = holiday_dates(2015, 2023, countries=["NPL"]).filter(holiday="dashain")
    days = dashain["date"].to_list()
    assert [d.year for d in days] == list(range(2015, 2024))  # one a year
    for reported in DASHAIN_REPORTED:
        assert dt.date.fromisoformat(reported) in days, reported


def test_tihar_follows_dashain_by_nineteen_or_twenty_days() -> None:
    # Laxmi Puja is the new moon of Kartik, Vijaya Dashami the tenth day of Ashwin's bright half
    both = (
        holiday_dates(2010, 2035, countries=["NPL"])
        .with_columns(year=pl.col("date").dt.year())
        .pivot("holiday", index="year", values="date")
    )
    gaps = (both["tihar"] - both["dashain"]).dt.total_days().to_list()
    assert len(gaps) == 26 and all(18 <= g <= 21 for g in gaps), gaps


def test_diwali_and_the_lunar_new_year_on_known_days() -> None:
    days = holiday_dates(2020, 2024, countries=["IND", "CHN", "KOR", "VNM"])
    got = {(c, str(d)) for c, _h, d in days.iter_rows()}
    # Diwali: India's central-government holiday; the lunar new year: the first day
    expected = {
        ("IND", "2022-10-24"),
        ("IND", "2023-11-12"),
        ("IND", "2024-10-31"),
        ("CHN", "2020-01-25"),
        ("CHN", "2021-02-12"),
        ("CHN", "2022-02-01"),
        ("CHN", "2023-01-22"),
        ("KOR", "2024-02-10"),
        ("VNM", "2024-02-10"),
    }
    assert expected <= got
    assert len(days) == 4 * 5


def test_lunar_new_year_falls_between_21_january_and_20_february() -> None:
    days = holiday_dates(1989, 2099, countries=["CHN", "KOR", "VNM"])["date"]
    day_of_year = days.dt.ordinal_day()
    assert day_of_year.min() >= 21 and day_of_year.max() <= 31 + 20
    # Vietnam's calendar keeps UTC+7: in 2007 Tet came a day before the Spring Festival
    in_2007 = holiday_dates(2007, 2007, countries=["CHN", "VNM"])
    assert dict(zip(in_2007["country"], in_2007["date"].cast(pl.String), strict=True)) == {
        "CHN": "2007-02-18",
        "VNM": "2007-02-17",
    }


def test_a_year_outside_a_packaged_table_warns_and_returns_what_exists() -> None:
    with pytest.warns(HolidayCoverageWarning) as caught:
        days = holiday_dates(2005, 2011, countries=["NPL", "MEX"])
    message = str(caught[0].message)
    assert "dashain for NPL in 2005-2009" in message
    assert "tihar for NPL in 2005-2009" in message
    assert "covers 2010-2035" in message
    assert days.filter(country="NPL")["date"].dt.year().unique().sort().to_list() == [2010, 2011]
    assert days.filter(country="MEX").height == 7  # Mother's Day is a rule: every year


def test_windows_warn_only_for_the_years_asked_for() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 2036 is read for early-January holidays, not asked for
        holiday_windows(2030, 2035, countries=["NPL", "IND"])
    with pytest.warns(HolidayCoverageWarning, match="diwali for IND in 2036"):
        holiday_windows(2035, 2036, countries=["IND"])


# -- nth weekday and Mother's Day ---------------------------------------------------------


def test_second_sunday_of_may_by_hand() -> None:
    # 1 May 2021 was a Saturday, 2022 a Sunday, 2023 a Monday, 2024 a Wednesday, 2025 a Thursday
    expected = ["2021-05-09", "2022-05-08", "2023-05-14", "2024-05-12", "2025-05-11"]
    assert nth_weekday(range(2021, 2026), 5, 6, 2).cast(pl.String).to_list() == expected
    philippines = holiday_dates(2021, 2025, countries=["PHL"])
    assert philippines["date"].cast(pl.String).to_list() == expected
    assert set(philippines["holiday"]) == {"mothers_day"}


def test_nth_weekday_matches_the_standard_library() -> None:
    years, months, weekdays, ns = np.meshgrid(
        np.arange(1999, 2031), np.arange(1, 13), np.arange(7), [1, 2, 3, 4, 5, -1, -2, -5]
    )
    got = nth_weekday(years.ravel(), months.ravel(), weekdays.ravel(), ns.ravel()).to_list()
    for y, m, w, n, day in zip(
        years.ravel(), months.ravel(), weekdays.ravel(), ns.ravel(), got, strict=True
    ):
        matching = [
            d
            for d in stdlib_calendar.Calendar().itermonthdates(int(y), int(m))
            if d.month == m and d.weekday() == w
        ]
        index = n - 1 if n > 0 else n
        expected = matching[index] if -len(matching) <= index < len(matching) else None
        assert day == expected, (y, m, w, n)


def test_mothers_day_on_10_may_in_mexico_guatemala_and_el_salvador() -> None:
    days = holiday_dates(2019, 2020, countries=["MEX", "GTM", "SLV", "USA"])
    assert days["country"].unique().sort().to_list() == ["GTM", "MEX", "SLV"]
    assert set(days["date"].cast(pl.String)) == {"2019-05-10", "2020-05-10"}


# -- windows ------------------------------------------------------------------------------


def test_windows_are_the_days_before_each_holiday() -> None:
    days = holiday_windows(2024, 2024, countries=["MEX", "NPL"])
    mexico = days.filter(country="MEX")["date"]
    assert mexico.to_list() == [dt.date(2024, 4, 30) + dt.timedelta(days=i) for i in range(10)]
    dashain = days.filter(holiday="dashain")["date"]  # Vijaya Dashami: 12 October 2024
    assert (dashain.min(), dashain.max(), dashain.len()) == (
        dt.date(2024, 9, 27),
        dt.date(2024, 10, 11),
        15,
    )


def test_a_january_eid_counts_for_the_december_before() -> None:
    # tabular Eid al-Fitr: 19 January 1999 and 8 January 2000; Eid al-Adha: 28 March 1999
    days = holiday_windows(1999, 1999, countries=["PAK"])
    fitr = days.filter(holiday="eid_al_fitr")["date"]
    assert fitr.len() == 15 + 8  # 4-18 January, and 24-31 December for the 2000 Eid
    assert fitr.max() == dt.date(1999, 12, 31)
    assert days.filter(holiday="eid_al_adha").height == 15


def test_window_days_one_number_or_per_holiday() -> None:
    one = holiday_windows(2024, 2024, countries=["PAK", "MEX"], window_days=3)
    assert one.group_by("holiday").len().sort("holiday").rows() == [
        ("eid_al_adha", 3),
        ("eid_al_fitr", 3),
        ("mothers_day", 3),
    ]
    mapped = holiday_windows(2024, 2024, countries=["PAK", "MEX"], window_days={"eid_al_fitr": 30})
    assert mapped.group_by("holiday").len().sort("holiday").rows() == [
        ("eid_al_adha", 15),
        ("eid_al_fitr", 30),
        ("mothers_day", 10),
    ]


def test_fixed_and_muslim_majority_override_the_defaults() -> None:
    days = holiday_windows(
        2024, 2024, countries=["MEX", "NGA"], muslim_majority={"NGA"}, fixed={"MEX": (5, 10, 4)}
    )
    assert days.group_by("country", "holiday").len().sort("country", "holiday").rows() == [
        ("MEX", "mothers_day", 4),
        ("NGA", "eid_al_adha", 15),
        ("NGA", "eid_al_fitr", 15),
    ]


def test_a_table_of_ones_own_replaces_the_defaults() -> None:
    christmas = pl.DataFrame(
        {
            "country": ["PHL", "PHL", "MEX"],
            "holiday": "christmas",
            "date": [dt.date(2023, 12, 25), dt.date(2024, 12, 25), dt.date(2024, 12, 25)],
            "note": "ignored",
        }
    )
    days = holiday_windows(2024, 2024, countries=["PHL"], holidays=christmas.lazy())
    assert days["holiday"].unique().to_list() == ["christmas"]  # no Mother's Day
    assert days["date"].to_list() == [dt.date(2024, 12, 10) + dt.timedelta(i) for i in range(15)]


def test_extra_rows_are_appended_and_row_order_does_not_matter() -> None:
    extra = pl.DataFrame(
        {
            "country": ["PHL", "PHL", "MEX", "PHL"],
            "holiday": ["christmas", "christmas", "christmas", "christmas"],
            "date": [dt.date(y, 12, 25) for y in (2020, 2021, 2021, 2030)],
        }
    )
    days = holiday_dates(2020, 2021, countries=["PHL"], extra=extra)
    assert days.filter(holiday="christmas")["date"].dt.year().to_list() == [2020, 2021]
    shuffled = holiday_dates(
        2020, 2021, countries=["PHL"], extra=extra.sample(fraction=1.0, seed=3)
    )
    assert shuffled.equals(days)


def test_the_schema_of_every_output() -> None:
    dates = holiday_dates(2020, 2020, countries=pl.Series(["PAK", "NPL", "MEX"]))
    windows = holiday_windows(2020, 2020, countries=pl.Series(["PAK"], dtype=pl.Categorical))
    none = holiday_windows(2020, 2020, countries=["USA"])
    for frame in (dates, windows, none):
        assert dict(frame.schema) == SCHEMA
    assert none.is_empty() and holiday_dates(2020, 2020, countries=[]).is_empty()
    assert dates.equals(dates.sort("country", "date", "holiday"))


def test_windows_of_the_eids_by_a_slow_reference() -> None:
    days = holiday_windows(2005, 2024, countries=["PAK"])
    first, last = dt.date(2005, 1, 1), dt.date(2024, 12, 31)
    expected = sorted(
        (holiday, eid - dt.timedelta(days=k))
        for holiday, eid in islamic_holidays(2005, 2025).iter_rows()
        if holiday != "ramadan_start"
        for k in range(1, 16)
        if first <= eid - dt.timedelta(days=k) <= last
    )
    assert sorted(days.select("holiday", "date").iter_rows()) == expected
    # the two Eids' windows never overlap: the calendar method's distinct days lose nothing
    assert days.select("country", "date").n_unique() == days.height


# -- bad arguments ------------------------------------------------------------------------


def test_bad_arguments_raise_parameter_error() -> None:
    with pytest.raises(fl.ParameterError, match="first_year <= last_year"):
        islamic_holidays(2024, 2020)
    with pytest.raises(fl.ParameterError, match="window_days"):
        holiday_windows(2024, 2024, countries=["PAK"], window_days=0)
    with pytest.raises(fl.ParameterError, match="window_days"):
        holiday_windows(2024, 2024, countries=["PAK"], window_days=True)
    with pytest.raises(fl.ParameterError, match="for 'eid_al_fitr'"):
        holiday_windows(2024, 2024, countries=["PAK"], window_days={"eid_al_fitr": 2.5})
    with pytest.raises(fl.ParameterError, match="source must be 'tabular'"):
        holiday_dates(2024, 2024, countries=["PAK"], source="lunar")
    with pytest.raises(fl.ParameterError, match=r"pass \['PAK'\]"):
        holiday_dates(2024, 2024, countries="PAK")
    with pytest.raises(fl.ParameterError, match="ISO3 codes as text"):
        holiday_dates(2024, 2024, countries=[586])
    with pytest.raises(fl.ParameterError, match="whole Gregorian years"):
        holiday_dates(2024.0, 2024, countries=["PAK"])  # type: ignore[arg-type]
    with pytest.raises(fl.ParameterError, match="fixed maps a country"):
        holiday_windows(2024, 2024, countries=["MEX"], fixed={"MEX": (2, 29, 10)})
    with pytest.raises(fl.ParameterError, match="month must be from 1 to 12"):
        nth_weekday(2024, 13, 6, 2)
    with pytest.raises(fl.ParameterError, match="n counts from 1"):
        nth_weekday(2024, 5, 6, 0)
    with pytest.raises(fl.ParameterError, match="year must be whole numbers"):
        nth_weekday(2024.5, 5, 6, 2)


@pytest.mark.parametrize(
    ("extra", "error", "match"),
    [
        ({"country": ["PHL"], "holiday": ["x"], "day": [dt.date(2020, 1, 1)]}, fl.SchemaError, "'date' is missing.*rename it: extra.rename\\(\\{'day': 'date'\\}\\)"),
        ({"country": ["PHL"], "date": [dt.date(2020, 1, 1)]}, fl.SchemaError, "'holiday' is missing.*pl.lit"),
        ({"country": ["PHL"], "holiday": ["x"], "date": ["2020-01-01"]}, fl.SchemaError, "'date' of extra.*dtype String.*str.to_date"),
        ({"country": [608], "holiday": ["x"], "date": [dt.date(2020, 1, 1)]}, fl.SchemaError, "'country' of extra holds text"),
        ({"country": ["PHL", None], "holiday": ["x", "x"], "date": [dt.date(2020, 1, 1)] * 2}, fl.SchemaError, "'country' of extra has 1 null"),
        ({"country": ["Philippines"], "holiday": ["x"], "date": [dt.date(2020, 1, 1)]}, fl.SchemaError, "unknown: \\['Philippines'\\].*to_iso3"),
    ],
)  # fmt: skip
def test_bad_extra_tables_name_the_column_and_the_fix(
    extra: dict[str, list[object]], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        holiday_dates(2020, 2020, countries=["PHL"], extra=pl.DataFrame(extra))


def test_extra_must_be_a_polars_frame() -> None:
    with pytest.raises(fl.ParameterError, match="polars DataFrame"):
        holiday_dates(2020, 2020, countries=["PHL"], extra={"country": ["PHL"]})  # type: ignore[arg-type]


def test_a_datetime_column_counts_by_its_day() -> None:
    extra = pl.DataFrame(
        {"country": ["PHL"], "holiday": ["x"], "date": [dt.datetime(2020, 3, 1, 18, 30)]}
    )
    days = holiday_dates(2020, 2020, countries=["PHL"], extra=extra)
    assert days.filter(holiday="x")["date"].to_list() == [dt.date(2020, 3, 1)]


def test_countries_by_name_or_in_any_case_are_the_same_countries() -> None:
    # holiday_dates(countries=["Pakistan"]) returned no rows: a name never matched an ISO3 code
    codes = holiday_dates(2023, 2023, countries=["PAK", "NPL"])
    assert codes.height > 0
    assert holiday_dates(2023, 2023, countries=["Pakistan", "Nepal"]).equals(codes)
    assert holiday_dates(2023, 2023, countries=["pak", "npl"]).equals(codes)
    with pytest.raises(fl.ParameterError, match=r"\[.Atlantis.\] is not a country"):
        holiday_dates(2023, 2023, countries=["Atlantis", "PAK"])
