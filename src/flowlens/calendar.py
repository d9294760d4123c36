"""Holiday calendars that move remittances: the Islamic calendar, computed, not typed per year.

Remittances to Muslim-majority countries peak before Eid al-Fitr and Eid al-Adha,
which move about 11 days earlier every Gregorian year. The dates here come from the
tabular (arithmetical) Islamic calendar: 30-year cycles with leap years 2, 5, 7,
10, 13, 16, 18, 21, 24, 26 and 29, epoch 16 July 622 (Julian). Observed dates,
which depend on moon sighting, can differ from it by a day or two.

References
----------
.. [1] E. M. Reingold and N. Dershowitz, *Calendrical Calculations*, 3rd ed.,
   Cambridge University Press, 2008, ch. 6 (the arithmetic Islamic calendar).

Against the dates announced in Saudi Arabia for 2015-2024, the computed Eids
fall on the same day or one day later.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from flowlens.errors import ParameterError

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "FIXED_HOLIDAYS",
    "ISLAMIC_HOLIDAYS",
    "holiday_windows",
    "islamic_holidays",
    "islamic_to_days",
]

_ISLAMIC_EPOCH_JDN = 1948440  # Julian day number of 1 Muharram 1 AH (civil epoch)
_UNIX_EPOCH_JDN = 2440588  # Julian day number of 1970-01-01

ISLAMIC_HOLIDAYS: dict[str, tuple[int, int]] = {
    "ramadan_start": (9, 1),
    "eid_al_fitr": (10, 1),
    "eid_al_adha": (12, 10),
}
"""Holiday -> (Islamic month, day)."""


def islamic_to_days(
    year: npt.ArrayLike, month: npt.ArrayLike, day: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of tabular Islamic dates (vectorised).

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.calendar import islamic_to_days
    >>> days = int(islamic_to_days(1444, 10, 1))  # 1 Shawwal 1444, Eid al-Fitr
    >>> dt.date(1970, 1, 1) + dt.timedelta(days=days)  # observed in Saudi Arabia: 21 April
    datetime.date(2023, 4, 22)
    """
    y = np.asarray(year, dtype=np.int64)
    m = np.asarray(month, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    jdn = (
        d
        + np.ceil(29.5 * (m - 1)).astype(np.int64)
        + (y - 1) * 354
        + (3 + 11 * y) // 30
        + _ISLAMIC_EPOCH_JDN
        - 1
    )
    result: npt.NDArray[np.int64] = jdn - _UNIX_EPOCH_JDN
    return result


def islamic_holidays(first_year: int, last_year: int) -> pl.DataFrame:
    """Gregorian dates of Ramadan's start and the two Eids in ``first_year``..``last_year``.

    Parameters
    ----------
    first_year, last_year
        Gregorian years, inclusive.

    Returns
    -------
    polars.DataFrame
        ``holiday`` (``ramadan_start``, ``eid_al_fitr``, ``eid_al_adha``) and
        ``date``, sorted by date.

    Examples
    --------
    >>> from flowlens.calendar import islamic_holidays
    >>> eids = islamic_holidays(2020, 2024).filter(holiday="eid_al_fitr")
    >>> [str(d) for d in eids["date"]]
    ['2020-05-24', '2021-05-13', '2022-05-03', '2023-04-22', '2024-04-10']
    """
    _check_years(first_year, last_year)
    # an Islamic year is ~354 days, so Gregorian year Y overlaps Islamic years near
    # (Y - 622) * 33 / 32; take a margin of one year either side
    first_h = (first_year - 622) * 33 // 32 - 1
    last_h = (last_year - 622) * 33 // 32 + 2
    years = np.arange(first_h, last_h + 1)
    frames = [
        pl.DataFrame(
            {
                "holiday": name,
                "date": pl.Series(islamic_to_days(years, month, day).astype(np.int32)).cast(
                    pl.Date
                ),
            }
        )
        for name, (month, day) in ISLAMIC_HOLIDAYS.items()
    ]
    return (
        pl.concat(frames)
        .filter(pl.col("date").dt.year().is_between(first_year, last_year))
        .sort("date")
    )


def _check_years(first_year: int, last_year: int) -> None:
    whole = all(isinstance(y, int) and not isinstance(y, bool) for y in (first_year, last_year))
    if not (whole and 1 <= first_year <= last_year <= 9999 and last_year - first_year <= 1000):
        msg = (
            f"first_year and last_year are whole Gregorian years, 1 to 9999, first_year <= "
            f"last_year, at most 1,000 years apart; got {first_year!r}, {last_year!r}"
        )
        raise ParameterError(msg)


DEFAULT_WINDOW_DAYS = 15
"""Days before a holiday when remittances rise (an assumption, as in ``flowlens.synth``)."""

FIXED_HOLIDAYS: dict[str, tuple[int, int, int]] = {"MEX": (5, 10, 10)}
"""Country -> (month, day, window days) of fixed-date holidays that move remittances:
Mother's Day in Mexico (10 May, the 10 days before it)."""


def holiday_windows(
    first_year: int,
    last_year: int,
    *,
    countries: pl.Series | list[str],
    muslim_majority: set[str] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    fixed: dict[str, tuple[int, int, int]] | None = None,
) -> pl.DataFrame:
    """The pre-holiday days that move remittances, per receiving country.

    For Muslim-majority countries, the ``window_days`` before Eid al-Fitr and Eid
    al-Adha (tabular calendar); for countries in ``fixed`` (default: Mexico's
    Mother's Day), the days before a fixed date.

    Returns
    -------
    polars.DataFrame
        ``country`` and ``date``, one row per pre-holiday day.

    Examples
    --------
    >>> from flowlens.calendar import holiday_windows
    >>> days = holiday_windows(2024, 2024, countries=["PAK", "MEX", "USA"])
    >>> days.group_by("country").len().sort("country").rows()
    [('MEX', 10), ('PAK', 30)]
    """
    _check_years(first_year, last_year)
    if not (isinstance(window_days, int) and window_days >= 1):
        msg = f"window_days must be a whole number of days, at least 1; got {window_days!r}"
        raise ParameterError(msg)
    import datetime as dt

    from flowlens.reference import countries as country_table

    if muslim_majority is None:
        flagged = country_table().filter(pl.col("muslim_majority") == "true")["iso3"]
        muslim_majority = set(flagged.to_list())
    fixed = FIXED_HOLIDAYS if fixed is None else fixed
    wanted = [str(c) for c in countries]
    eids = islamic_holidays(first_year, last_year + 1).filter(
        pl.col("holiday").str.starts_with("eid")
    )
    eid_days = (
        eids.with_columns(offset=pl.int_ranges(1, window_days + 1))
        .explode("offset")
        .select(date=pl.col("date") - pl.duration(days=pl.col("offset")))
    )
    frames = [
        eid_days.select(pl.lit(c).alias("country"), "date") for c in wanted if c in muslim_majority
    ]
    for country in wanted:
        if country in fixed:
            month, day, days = fixed[country]
            anchors = pl.Series([dt.date(y, month, day) for y in range(first_year, last_year + 1)])
            frames.append(
                pl.DataFrame({"anchor": anchors})
                .with_columns(offset=pl.int_ranges(1, days + 1))
                .explode("offset")
                .select(
                    pl.lit(country).alias("country"),
                    date=pl.col("anchor") - pl.duration(days=pl.col("offset")),
                )
            )
    if not frames:
        return pl.DataFrame(schema={"country": pl.String, "date": pl.Date})
    return (
        pl.concat(frames)
        .filter(pl.col("date").dt.year().is_between(first_year, last_year))
        .unique()
        .sort("country", "date")
    )
