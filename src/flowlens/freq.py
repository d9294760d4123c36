"""Frequencies: the one place that knows period lengths.

A frequency is a period length: ``day``, ``week`` (Monday start), ``month``,
``quarter``, ``year`` or a polars duration such as ``"2w"`` or ``"6mo"``. Every
function of flowlens that takes ``freq=`` normalises it here, and every panel's
frequency can be read back from its ``period`` column (:func:`infer_freq`): the
periods of a panel are the starts of its periods, so their spacing and alignment
say what the frequency is. A ``freq`` argument that contradicts them raises
(:func:`resolve_freq`) instead of scoring a quarterly panel as a monthly one with
two missing months in every three.

Examples
--------
>>> import datetime as dt
>>> from flowlens.freq import infer_freq, normalise_freq, periods_per_year
>>> normalise_freq("Quarterly"), normalise_freq("3mo"), periods_per_year("month")
('1q', '1q', 12)
>>> infer_freq([dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 10, 1)])
'1q'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import polars as pl

from flowlens.errors import ParameterError

__all__ = [
    "FREQ_ALIASES",
    "as_date",
    "infer_freq",
    "months_per_period",
    "normalise_freq",
    "period_expr",
    "periods_per_year",
    "resolve_freq",
]

FREQ_ALIASES: Final[dict[str, str]] = {
    "day": "1d",
    "daily": "1d",
    "d": "1d",
    "week": "1w",
    "weekly": "1w",
    "w": "1w",
    "month": "1mo",
    "monthly": "1mo",
    "m": "1mo",
    "quarter": "1q",
    "quarterly": "1q",
    "q": "1q",
    "year": "1y",
    "yearly": "1y",
    "annual": "1y",
    "y": "1y",
}
"""Readable names for the period lengths; any polars duration such as ``"2w"`` works too."""

_DURATION = re.compile(r"^(\d+)(d|w|mo|q|y)$")
_MONTHS = {"mo": 1, "q": 3, "y": 12}
_DAYS = {"d": 1.0, "w": 7.0, "mo": 30.44, "q": 91.31, "y": 365.25}
_LONGEST_DAYS = 100 * 365.25
_READABLE = {"d": "day", "w": "week", "mo": "month", "q": "quarter", "y": "year"}


def normalise_freq(freq: str) -> str:
    """The canonical spelling of a period length (``"1mo"``, ``"1q"``, ``"2w"``).

    Calendar lengths are spelt in their largest whole unit (``"3mo"`` -> ``"1q"``,
    ``"12mo"`` -> ``"1y"``), so that equal lengths compare equal.

    Raises
    ------
    ParameterError
        When ``freq`` is not a period length (``"0d"``, ``"fortnight"``, ``3``).

    Examples
    --------
    >>> from flowlens.freq import normalise_freq
    >>> normalise_freq("monthly"), normalise_freq(" 6MO "), normalise_freq("14d")
    ('1mo', '2q', '14d')
    >>> normalise_freq("0d")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: freq '0d' is not a period length; use one of ...
    """
    if not isinstance(freq, str):
        msg = (
            f"freq {freq!r} is not a period length; use one of {sorted(set(FREQ_ALIASES))} "
            "or a polars duration such as '1mo', '2w', '1q'"
        )
        raise ParameterError(msg)
    text = freq.strip().lower()
    every = FREQ_ALIASES.get(text, text)
    match = _DURATION.match(every)
    if match is None or int(match.group(1)) == 0:
        msg = (
            f"freq {freq!r} is not a period length; use one of {sorted(set(FREQ_ALIASES))} "
            "or a polars duration such as '1mo', '2w', '1q'"
        )
        raise ParameterError(msg)
    n, unit = int(match.group(1)), match.group(2)
    if n * _DAYS[unit] > _LONGEST_DAYS:
        msg = (
            f"freq {freq!r} is longer than a century: every transfer would fall in one period "
            "(1970-01-01 for most); use a period of at most 100 years, such as '1y'"
        )
        raise ParameterError(msg)
    if unit in _MONTHS:
        return _from_months(n * _MONTHS[unit])
    return f"{n}{unit}"


def _from_months(months: int) -> str:
    if months % 12 == 0:
        return f"{months // 12}y"
    if months % 3 == 0:
        return f"{months // 3}q"
    return f"{months}mo"


def _split(freq: str) -> tuple[int, str]:
    match = _DURATION.match(normalise_freq(freq))
    if match is None:  # pragma: no cover - normalise_freq only returns durations
        raise ParameterError(freq)
    return int(match.group(1)), match.group(2)


def months_per_period(freq: str) -> int | None:
    """Months in one period of ``freq``, or None for days and weeks.

    Examples
    --------
    >>> from flowlens.freq import months_per_period
    >>> months_per_period("quarter"), months_per_period("2mo"), months_per_period("1w")
    (3, 2, None)
    """
    n, unit = _split(freq)
    return n * _MONTHS[unit] if unit in _MONTHS else None


def periods_per_year(freq: str) -> int | None:
    """Periods of ``freq`` in one year (365 days, 52 weeks, 12 months), or None when a
    year is not a whole number of them.

    Examples
    --------
    >>> from flowlens.freq import periods_per_year
    >>> periods_per_year("day"), periods_per_year("week"), periods_per_year("1q")
    (365, 52, 4)
    >>> periods_per_year("5mo") is None, periods_per_year("2y") is None
    (True, True)
    """
    n, unit = _split(freq)
    per_year = {"d": 365, "w": 52, "mo": 12, "q": 4, "y": 1}[unit]
    return per_year // n if per_year % n == 0 else None


def period_expr(date: str | pl.Expr = "date", *, freq: str = "1mo") -> pl.Expr:
    """The start date of the period that contains ``date`` (weeks start on Monday).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.freq import period_expr
    >>> df = pl.DataFrame({"date": [dt.date(2024, 5, 17)]})
    >>> df.select(q=period_expr(freq="quarter"), w=period_expr(freq="1w")).row(0)
    (datetime.date(2024, 4, 1), datetime.date(2024, 5, 13))
    """
    every = normalise_freq(freq)
    e = pl.col(date) if isinstance(date, str) else date
    return e.dt.truncate(every).cast(pl.Date)


def _as_dates(periods: Iterable[object] | pl.Series) -> pl.Series:
    series = periods if isinstance(periods, pl.Series) else pl.Series(list(periods))
    if not (series.dtype == pl.Date or isinstance(series.dtype, pl.Datetime)):
        msg = (
            f"the period column has dtype {series.dtype}; periods are dates (the start of each "
            "period), as corridor_panel and the official readers write them: parse it with "
            "pl.col('period').str.to_date()"
        )
        raise ParameterError(msg)
    return series.drop_nulls().cast(pl.Date).unique().sort()


def infer_freq(periods: Iterable[object] | pl.Series) -> str | None:
    """The frequency of a panel, read from its distinct period starts.

    The spacing is the greatest common divisor of the gaps between distinct
    periods, in months when every period starts a month (spelt as quarters or
    years when they all start one), else in days (weeks when they are all
    Mondays a whole number of weeks apart). None when there are fewer than two
    distinct periods: one period does not say how long it is.

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.freq import infer_freq
    >>> infer_freq([dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 6, 1)])
    '1mo'
    >>> infer_freq([dt.date(2020, 1, 1), dt.date(2022, 1, 1)])
    '2y'
    >>> infer_freq([dt.date(2024, 5, 6), dt.date(2024, 5, 20)])
    '2w'
    >>> infer_freq([dt.date(2024, 5, 6)]) is None
    True
    """
    dates = _as_dates(periods)
    if dates.len() < 2:
        return None
    month = dates.dt.month().cast(pl.Int64).to_numpy()
    if bool((dates.dt.day() == 1).all()):
        index = dates.dt.year().cast(pl.Int64).to_numpy() * 12 + month - 1
        step = int(np.gcd.reduce(np.diff(index)))
        if step % 12 == 0 and bool((month == 1).all()):
            return f"{step // 12}y"
        if step % 3 == 0 and bool(((month - 1) % 3 == 0).all()):
            return f"{step // 3}q"
        return f"{step}mo"
    step = int(np.gcd.reduce(np.diff(dates.cast(pl.Int64).to_numpy())))
    if step % 7 == 0 and bool((dates.dt.weekday() == 1).all()):  # polars: Monday is 1
        return f"{step // 7}w"
    return f"{step}d"


def _check_period_starts(dates: pl.Series, inferred: str, what: str) -> None:
    """Refuse dates that are one a month but not month starts: the spacing says days, the
    calendar says months, and scoring them as days would leave every other day empty."""
    if months_per_period(inferred) is not None or dates.len() < 3:
        return
    months = dates.dt.truncate("1mo")
    if months.n_unique() == dates.len():
        msg = (
            f"{what}: its periods are one date a month but not month starts (the first is "
            f"{dates[0]}); a period is the start date of the period. Truncate them with "
            "pl.col('period').dt.truncate('1mo') (or '1q', '1y'), or pass freq='1d' if the "
            "data really is daily with gaps"
        )
        raise ParameterError(msg)


def _coarsest_alignment(date: dt.date) -> str:
    if date.day == 1:
        if date.month == 1:
            return "1y"
        return "1q" if (date.month - 1) % 3 == 0 else "1mo"
    return "1w" if date.weekday() == 0 else "1d"


def _aligned(dates: pl.Series, every: str) -> bool:
    return bool((dates.dt.truncate(every) == dates).all())


def resolve_freq(
    periods: Iterable[object] | pl.Series,
    freq: str | None = None,
    *,
    what: str = "the panel",
    guess: bool = False,
) -> str:
    """The frequency to use for a panel: ``freq`` checked against the data, or inferred.

    Parameters
    ----------
    periods
        The panel's ``period`` column (period starts).
    freq
        What the caller says the frequency is, or None to read it from the data.
    what
        How the error message names the data.
    guess
        With ``freq=None`` and a single distinct period, which does not say how
        long a period is: False (the default) raises; True reads it as the longest
        period that date starts (2017-01-01 as a year, 2017-05-01 as a month), for
        uses where the length does not matter (a graph of one period).

    Returns
    -------
    str
        The normalised frequency.

    Raises
    ------
    ParameterError
        When ``freq`` contradicts the periods: they are not starts of its periods,
        or they are spaced more widely or more finely than it (a quarterly panel
        given ``freq="1mo"``); the message names both. With ``freq=None``: one
        period and ``guess=False``, or periods that are one date a month but not
        month starts (2024-01-15, 2024-02-15: dates, not periods).

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.freq import resolve_freq
    >>> quarters = [dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 7, 1)]
    >>> resolve_freq(quarters)
    '1q'
    >>> resolve_freq([dt.date(2017, 1, 1)], guess=True)
    '1y'
    >>> resolve_freq(quarters, "1mo")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: freq='1mo' contradicts the panel: its periods are 1q apart (quarters). Pass freq='1q', or leave freq out to read it from the periods.
    """
    dates = _as_dates(periods)
    inferred = infer_freq(dates)
    if freq is None:
        if inferred is None:
            if guess:
                return _coarsest_alignment(dates[0]) if dates.len() else "1mo"
            msg = (
                f"{what} has {dates.len()} distinct period(s), which does not say how long a "
                "period is: pass freq= ('month', 'quarter', 'year', ...)"
            )
            raise ParameterError(msg)
        _check_period_starts(dates, inferred, what)
        return inferred
    every = normalise_freq(freq)
    if inferred is not None and inferred != every:
        n, unit = _split(inferred)
        msg = (
            f"freq={freq!r} contradicts {what}: its periods are {inferred} apart "
            f"({_READABLE[unit]}{'s' if n == 1 else 's, ' + str(n) + ' at a time'}). "
            f"Pass freq={inferred!r}, or leave freq out to read it from the periods."
        )
        raise ParameterError(msg)
    if not _aligned(dates, every):
        msg = (
            f"freq={freq!r} contradicts {what}: its periods are not all starts of {every} "
            f"periods (the first is {dates[0]}). Leave freq out to read it from the periods."
        )
        raise ParameterError(msg)
    return every


def as_date(value: object, what: str = "date") -> dt.date:
    """``value`` as a ``datetime.date``.

    Parameters
    ----------
    value
        A date, a datetime (its date is kept) or ISO text ``"YYYY-MM-DD"`` (a time
        after it is ignored).
    what
        How the error names the argument (``"period"``, ``"start"``).

    Raises
    ------
    ParameterError
        For anything else, naming the argument and the value.

    Examples
    --------
    >>> import datetime as dt
    >>> from flowlens.freq import as_date
    >>> as_date("2020-03-01"), as_date(dt.datetime(2020, 3, 1, 12))
    (datetime.date(2020, 3, 1), datetime.date(2020, 3, 1))
    >>> as_date("March 2020", "start")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: start 'March 2020' is not a date; pass a datetime.date or an ISO date 'YYYY-MM-DD'
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    msg = f"{what} {value!r} is not a date; pass a datetime.date or an ISO date 'YYYY-MM-DD'"
    raise ParameterError(msg)
