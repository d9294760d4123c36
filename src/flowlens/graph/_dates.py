"""One reading of a date argument: a date, a datetime or ISO text, else a ParameterError.

Analyses take dates from their callers as ``datetime.date``, ``datetime.datetime``
(pandas ``Timestamp`` included) or ISO text (``"2020-03-01"``); this is the one
place that reads them. It depends on nothing but the errors, so that any layer
could use it (it would sit as well in :mod:`flowlens.freq`).
"""

from __future__ import annotations

import datetime as dt

from flowlens.errors import ParameterError

__all__ = ["as_date"]


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
    >>> from flowlens.graph._dates import as_date
    >>> as_date("2020-03-01"), as_date(dt.datetime(2020, 3, 1, 12))
    (datetime.date(2020, 3, 1), datetime.date(2020, 3, 1))
    >>> as_date("March 2020", "start")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: start 'March 2020' is not a date; pass a datetime.date or ISO text 'YYYY-MM-DD'
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
    msg = f"{what} {value!r} is not a date; pass a datetime.date or ISO text 'YYYY-MM-DD'"
    raise ParameterError(msg)
