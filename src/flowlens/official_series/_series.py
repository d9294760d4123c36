"""read_series: any central bank's monthly, quarterly or annual table as an official panel."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import polars as pl

from flowlens import schema as fs
from flowlens.errors import InputFormatError, ParameterError, closest
from flowlens.official import OfficialTable, _classify
from flowlens.official_series._common import _column, _guard, _shown, _table, _where
from flowlens.official_series._dates import (
    _STEP_FREQ,
    _check_parsed,
    _dates,
    _gaps,
    _refuse_repeats,
    _step,
)
from flowlens.reference import to_iso3

__all__ = ["read_series"]

# ---------------------------------------------------------------- units

_THOUSAND_WORDS = {"thousand", "thousands", "k", "miles", "milliers", "mil"}
_MILLION_WORDS = {
    "million",
    "millions",
    "mn",
    "mln",
    "mio",
    "millones",
    "millon",
    "milhoes",
    "milhao",
}
_MULTIPLIERS = {
    **dict.fromkeys(_THOUSAND_WORDS, 1e3),
    **dict.fromkeys(_MILLION_WORDS, 1e6),
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
}
_UNIT_FILLERS = {"of", "de", "in", "en", "em", "current", "corrientes", "correntes"}
_DOLLAR_WORDS = {"dollar", "dollars"}  # English: also Canada's, Australia's, Hong Kong's...
_DOLARES = {"dolar", "dolares"}  # Spanish, Portuguese: the US dollar in the central banks' tables
_UNIT_HELP = (
    "a US-dollar unit: 'USD', 'US dollars', 'USD thousand' (or \"USD '000\", 'USD 000s'), "
    "'US$ million' (or 'USD 10^6'), 'millones de dolares', 'USD billion'"
)


def _digit_scale(token: str) -> float | None:
    """``'000``, ``000s``, ``000,000``, ``1,000`` -> 1e3, 1e6, 1e3; ``10^6`` -> 1e6; None
    for any other number."""
    power = re.fullmatch(r"10(?:\^|\*\*)(\d{1,2})", token)
    if power:
        exponent = int(power.group(1))
        return 10.0**exponent if exponent in (3, 6, 9) else None
    groups = re.fullmatch(r"'?(1?)((?:[,.' ]?000)+)s?", token)
    if groups is None:
        return None
    return 10.0 ** (3 * groups.group(2).count("000"))


def _unit_scale(unit: str) -> float:
    """US dollars per unit of the table: 'US$ million' -> 1e6, "USD '000" -> 1e3."""
    if not isinstance(unit, str):
        msg = f"unit={unit!r} is not text; pass {_UNIT_HELP}"
        raise ParameterError(msg)
    plain = unicodedata.normalize("NFKD", unit).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"\bu\.?\s?s\.?\s*\$", " usd ", plain)  # US$, U.S.$, US $
    text = re.sub(r"\bu\.\s?s\.", " us ", text).replace("$", " dollarsign ")
    text = re.sub(r"\s*(\^|\*\*)\s*", r"\1", text)  # 10 ^ 6 -> 10^6
    tokens = re.findall(r"10(?:\^|\*\*)\d+|'?\d[\d,.' ]*\d(?:s\b)?|'?\d(?:s\b)?|[a-z]+", text)
    tokens = [t.strip() for t in tokens]
    numbers = [t for t in tokens if t[0] in "'0123456789"]
    words = [t for t in tokens if t not in numbers]
    unreadable = [t for t in numbers if _digit_scale(t.replace(" ", "")) is None]
    other = [
        w
        for w in words
        if w not in _MULTIPLIERS
        and w not in _UNIT_FILLERS
        and w not in _DOLLAR_WORDS | _DOLARES
        and w not in {"usd", "us", "dollarsign"}
    ]
    usd = "usd" in words or bool(_DOLARES & set(words))
    usd = usd or (bool(_DOLLAR_WORDS & set(words)) and "us" in words)
    if not usd and _DOLLAR_WORDS & set(words):
        msg = (
            f"unit={unit!r}: 'dollars' alone does not say which dollar (Canadian, Australian, "
            "Hong Kong, ... dollars are dollars too); pass 'USD' or 'US dollars' (with the "
            "multiplier, e.g. 'USD million') for US dollars, or convert the table first "
            "(flowlens.normalise)"
        )
        raise ParameterError(msg)
    if not usd and "dollarsign" in words:
        msg = (
            f"unit={unit!r}: '$' alone does not say which currency (it is also the peso sign "
            "in Mexico, Colombia, Chile, Argentina...); pass 'USD' or 'US$' (with the "
            "multiplier, e.g. 'US$ million') for US dollars, or convert the table first "
            "(flowlens.normalise)"
        )
        raise ParameterError(msg)
    if not usd or other or unreadable:
        found = other + unreadable or words
        msg = (
            f"unit={unit!r} is not a US-dollar unit flowlens can read (found {found}); "
            f"pass {_UNIT_HELP}. A table in another currency must be converted first "
            "(flowlens.normalise converts amounts at the period's rate)."
        )
        raise ParameterError(msg)
    factors = [w for w in words if w in _MULTIPLIERS] + numbers
    billions = (  # "mil millones", "thousand million": a billion
        len(factors) == 2 and factors[0] in _THOUSAND_WORDS and factors[1] in _MILLION_WORDS
    )
    if "mil" in factors and not billions:
        msg = (
            f"unit={unit!r}: 'mil' is ambiguous (a million in English financial tables, a "
            "thousand in Spanish and Portuguese); pass 'USD million' or 'USD thousand'"
        )
        raise ParameterError(msg)
    if len(factors) > 1 and not billions:
        msg = f"unit={unit!r} has several multipliers ({factors}); pass one, as in {_UNIT_HELP}"
        raise ParameterError(msg)
    if billions:
        return 1e9
    if not factors:
        return 1.0
    word = factors[0]
    scale = _MULTIPLIERS.get(word) or _digit_scale(word.replace(" ", ""))
    return float(scale or 1.0)


# ---------------------------------------------------------------- countries


def _side(
    frame: pl.DataFrame, spec: str | None, role: str, where: str
) -> tuple[pl.DataFrame, bool]:
    """Columns ``_{role}`` (the name as written), ``_{role}_iso``, ``_{role}_agg``/``_kind``
    and ``_{role}_key`` (the ISO3 code, else the aggregate's code, else the name: one key
    per country however it is spelt) for ``origin`` or ``destination``; True when it comes
    from a column."""
    raw, iso, key = f"_{role}", f"_{role}_iso", f"_{role}_key"
    nothing = pl.lit(None, pl.String)
    if spec is None:
        return frame.with_columns(
            nothing.alias(raw),
            nothing.alias(iso),
            nothing.alias(f"_{role}_agg"),
            nothing.alias(f"_{role}_kind"),
            nothing.alias(key),
        ), False
    if not isinstance(spec, str):
        msg = f"{role}={spec!r}: pass a column name, or an ISO3 code or country name"
        raise ParameterError(msg)
    if spec in frame.columns:
        named = frame.with_columns(pl.col(spec).cast(pl.String).str.strip_chars().alias(raw))
        named = _classify(named, raw, iso).rename(
            {"agg_code": f"_{role}_agg", "agg_kind": f"_{role}_kind"}
        )
        # two letters are never read as ISO2: US state codes (CA, AL, IN) would become countries
        two = pl.col(raw).str.len_chars() == 2
        named = named.with_columns(pl.when(~two).then(pl.col(iso)).alias(iso))
        return named.with_columns(pl.coalesce(iso, f"_{role}_agg", raw).alias(key)), True
    code = pl.select(to_iso3(pl.lit(spec, pl.String))).item()
    if code is None or len(spec.strip()) == 2:
        match = closest(spec, frame.columns)
        hint = f" (did you mean the column {match!r}?)" if match else ""
        what = (
            "an ISO2 code, which flowlens does not guess from"
            if code
            else "not a country flowlens knows"
        )
        msg = (
            f"{role}={spec!r} is neither a column of {where}{hint} nor an ISO3 code or country "
            f"name ({what}); pass the ISO3 code, e.g. {role}='GTM', or the column's name"
        )
        raise ParameterError(msg)
    return frame.with_columns(
        pl.lit(spec).alias(raw),
        pl.lit(code).alias(iso),
        nothing.alias(f"_{role}_agg"),
        nothing.alias(f"_{role}_kind"),
        pl.lit(code).alias(key),
    ), False


def _check_corridor(origin: str | None, destination: str | None, frame: pl.DataFrame) -> None:
    """Refuse a domestic corridor: one country (or one column) as origin and destination."""
    if destination is None and origin is None:
        msg = "pass destination= (inflows to a country) or origin= (outflows), or both"
        raise ParameterError(msg)
    if origin is None or destination is None:
        return
    if origin == destination and origin in frame.columns:
        msg = (
            f"origin= and destination= name the same column {origin!r}; pass the column of "
            "sending countries as origin= and that of receiving countries as destination="
        )
        raise ParameterError(msg)
    if origin in frame.columns or destination in frame.columns:
        return
    code = pl.select(to_iso3(pl.lit(origin, pl.String))).item()
    if code == pl.select(to_iso3(pl.lit(destination, pl.String))).item():
        msg = (
            f"origin={origin!r} and destination={destination!r} are one country "
            f"({code}): a corridor goes from one country to another. For a "
            "country's inflows from all countries pass destination= alone; for its outflows, "
            "origin= alone"
        )
        raise ParameterError(msg)


def _check_countries(
    frame: pl.DataFrame, specs: dict[str, str], where: str, others: dict[str, str]
) -> None:
    """The country columns (``specs``: role -> column) of a table's rows: none empty, at
    least one country in each column, no row whose origin is its destination. ``others``
    names the table's other columns (date, value) for the hint."""
    for role, column in specs.items():
        empty = frame.filter(pl.col(f"_{role}").is_null() | (pl.col(f"_{role}") == ""))
        known = frame.filter(
            pl.col(f"_{role}_iso").is_not_null() | pl.col(f"_{role}_agg").is_not_null()
        )
        if known.height == 0:
            values = frame[f"_{role}"].drop_nulls().unique(maintain_order=True).to_list()
            also = next(
                (f" ({column!r} is the {w} column)" for w, c in others.items() if c == column), ""
            )
            msg = (
                f"{where}: no value of the {role} column {column!r}{also} is a country or an "
                f"aggregate flowlens knows ({_shown(values) or 'the column is empty'}); expected "
                f"ISO3 codes or country names. Pass {role}= the column that holds the "
                f"countries, or an ISO3 code for the whole series ({role}='GTM')"
            )
            raise InputFormatError(msg)
        if empty.height:
            msg = (
                f"{where}: the {role} column {column!r} is empty in {empty.height} rows "
                f"(dates {_shown(empty['_label'].to_list())}); expected a country in every "
                "row. Fill the country in, or remove those rows (a total row?)"
            )
            raise InputFormatError(msg)
    if len(specs) == 2:
        same = frame.filter(pl.col("_origin_iso") == pl.col("_destination_iso"))
        if same.height:
            shown = _shown(
                same.select(pl.format("{} {}", "_label", "_origin_iso")).to_series().to_list()
            )
            msg = (
                f"{where}: {same.height} rows have one country as origin and destination "
                f"({shown}); expected corridors between two countries. Remove the domestic "
                "rows"
            )
            raise InputFormatError(msg)


# ---------------------------------------------------------------- values


def _values(frame: pl.DataFrame, value: str, where: str, decimal_comma: bool) -> pl.DataFrame:
    _column(frame, value, "value", where)
    dtype = frame.schema[value]
    if dtype.is_numeric():
        return frame.with_columns(_v=pl.col(value).cast(pl.Float64))
    if dtype != pl.String:
        msg = f"{where}: value column {value!r} has dtype {dtype}; expected numbers"
        raise InputFormatError(msg)
    text = pl.col(value).str.strip_chars().str.replace_all(r"[\s\u00a0']", "")
    _refuse_separators(frame, text, value, where, decimal_comma)
    if decimal_comma:
        text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        text = text.str.replace_all(",", "", literal=True)
    blank = pl.col(value).is_null() | text.is_in(["", "-", "..", "n.d.", "nd", "na", "NA", "n/a"])
    frame = frame.with_columns(_v=pl.when(~blank).then(text).cast(pl.Float64, strict=False))
    bad = frame.filter(pl.col("_v").is_null() & ~blank)
    if bad.height:
        msg = (
            f"{where}: {bad.height} values in {value!r} are not numbers: "
            f"{_shown(bad[value].unique(maintain_order=True).to_list())}; expected numbers "
            "such as 1234.5 or 1,234.5 (pass decimal_comma=True for 1.234,5)"
        )
        raise InputFormatError(msg)
    return frame


def _refuse_separators(
    frame: pl.DataFrame, text: pl.Expr, value: str, where: str, decimal_comma: bool
) -> None:
    """A thousands separator must group thousands: by default a comma (``1,234,567.8``),
    with ``decimal_comma=True`` a dot (``1.234.567,8``). Anything else (``1,5``, ``1.234,5``
    read by default) is refused rather than read as another number."""
    sep, mark = (".", ",") if decimal_comma else (",", ".")
    grouped = rf"^[+-]?\d{{1,3}}(\{sep}\d{{3}})+(\{mark}\d*)?$"
    wrong = text.str.contains(sep, literal=True) & ~text.str.contains(grouped)
    bad = frame.filter(wrong.fill_null(value=False))
    if not bad.height:
        return
    shown = _shown(bad[value].unique(maintain_order=True).to_list())
    if decimal_comma:
        msg = (
            f"{where}: {bad.height} values in {value!r} have a dot that does not separate "
            f"thousands ({shown}); with decimal_comma=True a dot may only group thousands "
            "(1.234.567,8) and the comma is the decimal mark. Leave decimal_comma out (the "
            "default) for values written 1,234.5 or 1.5"
        )
    else:
        msg = (
            f"{where}: {bad.height} values in {value!r} have a comma that does not separate "
            f"thousands ({shown}); by default a comma may only group thousands (1,234,567.8) "
            "and the dot is the decimal mark. If the comma is the decimal mark (1,5 for one "
            "and a half; 1.234,5), pass decimal_comma=True"
        )
    raise InputFormatError(msg)


def _period_values(
    frame: pl.DataFrame,
    keys: list[str],
    step: int,
    fiscal_year_start: int,
    *,
    where: str,
    allow_negative: bool,
) -> tuple[pl.DataFrame, list[str]]:
    """Year-to-date figures (cumulative within each fiscal year) as period values; a
    negative period value (the year-to-date figure fell) is refused unless
    ``allow_negative``."""
    start = fiscal_year_start
    month = pl.col("period").dt.month()
    fiscal_year = pl.col("period").dt.year() + (month >= start).cast(pl.Int32) * (start > 1)
    previous = pl.col("period").dt.offset_by(f"-{step}mo")
    by = [*keys, "_fy"]
    frame = frame.with_columns(_fy=fiscal_year).with_columns(
        _prev_period=pl.col("period").shift(1).over(by, order_by="period"),
        _prev_v=pl.col("_v").shift(1).over(by, order_by="period"),
    )
    first = (month - start + 12) % 12 < step
    follows = pl.col("_prev_period") == previous
    per_period = (
        pl.when(first)
        .then(pl.col("_v"))
        .when(follows.fill_null(value=False))
        .then(pl.col("_v") - pl.col("_prev_v"))
    )
    frame = frame.with_columns(_ytd=pl.col("_v"), _v=per_period)
    fell = frame.filter(pl.col("_v") < 0).sort("period")
    if fell.height and not allow_negative:
        raise InputFormatError(_not_year_to_date(fell, where, start, step))
    notes = [
        "flowlens: year-to-date figures turned into period values (the first period of each "
        f"fiscal year as published, then the difference from the period before; fiscal "
        f"years start in month {start})."
    ]
    lost = frame.filter(pl.col("_v").is_null() & pl.col("_ytd").is_not_null())
    if lost.height:
        notes.append(
            f"flowlens: {lost.height} periods left null: their fiscal year's periods before "
            f"them are missing, so the year-to-date figure cannot be split "
            f"({_shown(lost['_label'].to_list())})."
        )
    if fell.height:
        notes.append(
            f"flowlens: {fell.height} periods have a negative value (the year-to-date figure "
            f"fell: a revision or a correction; kept, allow_negative=True): "
            f"{_shown(fell['_label'].to_list())}."
        )
    return frame.drop("_fy", "_prev_period", "_prev_v", "_ytd"), notes


def _not_year_to_date(fell: pl.DataFrame, where: str, start: int, step: int) -> str:
    """Why year-to-date figures that fall are refused, with the months and a likely fix."""
    falls = fell.select(
        pl.when(pl.col("_prev_v").is_not_null())
        .then(pl.format("{} ({} after {})", "_label", pl.col("_ytd"), pl.col("_prev_v")))
        .otherwise(pl.format("{} ({}, the first of its fiscal year)", "_label", pl.col("_ytd")))
    )
    months = fell["period"].dt.month().unique().to_list()
    hint = ""
    if len(months) == 1 and months[0] != start and fell.height > 1:
        hint = (
            f" The figures fall each time in month {months[0]}: if that is where they restart, "
            f"pass fiscal_year_start={months[0]}."
        )
    elif len(months) == 1 and months[0] != start and step == 1:
        hint = f" If the figures restart in month {months[0]}, pass fiscal_year_start={months[0]}."
    return (
        f"{where}: with cumulative=True, {fell.height} periods come out negative: the "
        f"figure falls from one period to the next within a fiscal year starting in month "
        f"{start} ({_shown(falls.to_series().to_list())}). The values do not look "
        f"year-to-date, or the fiscal year starts in another month.{hint} Pass "
        "cumulative=False if the values are per period; allow_negative=True keeps the "
        "negative period values if the falls are genuine (revisions, corrections)"
    )


# ---------------------------------------------------------------- read_series

_FRAME_EXPECTED = "a table with a date column (or year and month columns) and a value column"


@_guard(_FRAME_EXPECTED)
def read_series(  # long: the parameters' checks, then one step per stage, each a helper
    data: Any,
    *,
    date: str | tuple[str, str],
    value: str,
    destination: str | None = None,
    origin: str | None = None,
    unit: str,
    source: str,
    vintage: str = "unknown",
    freq: str | None = None,
    cumulative: bool = False,
    allow_negative: bool = False,
    fiscal_year_start: int = 1,
    fiscal_year_label: Literal["start", "end"] | None = None,
    allow_gaps: bool = False,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    date_format: str | None = None,
    decimal_comma: bool = False,
    flow_type: str = "remittance",
) -> OfficialTable:
    """Read any central bank's monthly, quarterly or annual series into a panel with its provenance.

    One call reads a national series as central banks publish it: a column of
    dates or of month labels (or a year column and a month column), a column of
    values, and a unit. The result is the corridor panel of an
    :class:`~flowlens.OfficialTable` (``period``, ``origin``, ``destination``,
    ``flow_type``, ``amount_usd`` in US dollars), with the source, the vintage and
    notes on how the table was read. Nothing is dropped silently: blank rows are
    counted in ``notes``, names that are not countries go to ``unmatched`` and
    aggregates (World, regions) to ``aggregates``.

    Parameters
    ----------
    data
        A CSV file or an Excel workbook (.xlsx, .xls; see ``sheet``), or a table
        (polars, pandas, Arrow).
    date
        The date column, or a pair ``(year column, month column)`` such as
        ``("Year", "Month")``. Dates may be real dates (the Excel date type, or
        text such as ``2020-01-31``, ``2020-01``, ``01/2020``, ``31/01/2020``,
        ``202001``), month labels in English, Spanish, Portuguese or French in any
        order and spelling (``2000 ENE``, ``ene-2000``, ``janvier 2001``,
        ``Fev/2003``, ``Dec 2024``, ``SEPT``, ``Jan-02`` with a two-digit year),
        quarters (``2020Q1``, ``T1 2020``) or years (``2020``). A month column may
        hold numbers (1-12) or names.
    value
        The value column: numbers, or text such as ``1,234.5`` (see
        ``decimal_comma``); blank cells, ``..`` and ``-`` are missing (null).
    destination, origin
        The receiving and the sending country: an ISO3 code or a country name for
        the whole series (``destination="GTM"``: inflows to Guatemala from all
        countries, ``origin`` null), or the name of a column that holds them.
        Two-letter codes are never read as ISO2 (US state codes would become
        countries): in a column they go to ``unmatched``. Names are mapped to ISO3
        codes before rows are compared: ``USA`` and ``United States`` are one
        country, and two rows for it in one period are refused. A column with no
        country at all (the date column by mistake), an empty cell, and a row or a
        series whose origin is its destination are refused.
    unit
        The unit of ``value``, in US dollars: ``"USD"``, ``"USD thousand"``
        (``"USD '000"``, ``"USD 000s"``), ``"US$ million"`` (``"USD 10^6"``),
        ``"millones de dolares"``, ``"USD billion"``, ``"mil millones de US$"``.
        Refused as ambiguous: ``"mil"`` alone (a million in English tables, a
        thousand in Spanish), ``"dollars"`` and ``"$"`` without ``US`` (other
        countries' dollars; the peso sign).
    source, vintage
        Publisher and table, and the release (recorded in the result).
    freq
        ``"1mo"``, ``"1q"`` or ``"1y"`` (or ``"monthly"``...), checked against the
        dates; None (the default) reads it from them. Dates inside a period (month
        ends, quarter ends) become the period's start.
    cumulative
        True when the values are year-to-date: cumulative within each (fiscal)
        year, as several central banks publish. They are turned into period
        values: the first period of a year as published, then differences. A
        period whose figure falls (a negative period value) is refused: the values
        do not look year-to-date, or ``fiscal_year_start`` is wrong. Annual data is
        refused (annual figures are not cumulative within a year).
    allow_negative
        With ``cumulative=True``, keep negative period values (genuine revisions
        or corrections), noted, instead of refusing them.
    fiscal_year_start
        The month a fiscal year starts (1 = calendar years; 7 = July, as in
        Pakistan's fiscal year July-June): where year-to-date figures restart.
    fiscal_year_label
        With ``date=(year, month)`` whose year column is the fiscal year: ``"end"``
        when a fiscal year is named by the calendar year it ends in (FY2020 =
        July 2019 - June 2020), ``"start"`` when by the year it starts in.
    allow_gaps
        A period missing between a series' first and last is an error (listed);
        True keeps the series with the periods absent (noted).
    sheet, skip_rows
        For a workbook, the sheet's name or position (1 = first); for a file, the
        rows above the header (titles).
    date_format
        A strptime format (``"%d.%m.%Y"``) for dates no other layout fits.
    decimal_comma
        Values written ``1.234,5`` (a decimal comma, dots grouping thousands). By
        default a comma may only group thousands (``1,234,567.8``): values such as
        ``1,5`` or ``1.234,5`` are refused, not read as 15 or 1.2345. Negative
        values are kept and counted in ``notes``.
    flow_type
        The panel's flow type (default ``remittance``).

    Returns
    -------
    OfficialTable
        ``panel`` sorted by period, ``freq`` read from the dates, ``value``
        ``amount_usd``.

    Raises
    ------
    InputFormatError
        The file cannot be read as a table (a missing sheet: the workbook's sheets
        listed), dates that cannot be read (a few are shown), two rows for one
        period (and country), periods missing (listed, with the country), values
        that are not numbers or whose separators do not fit ``decimal_comma``,
        year-to-date figures that fall, a country column with no country or an
        empty cell, a domestic row. Each message names the file, what was expected
        and what was found.
    MissingColumnError, ParameterError
        A column that is not there (with the closest name), a unit that is not in
        US dollars or is ambiguous, a country that is not known, origin and
        destination one country, ``freq`` contradicting the dates,
        ``cumulative=True`` on annual data.

    Examples
    --------
    >>> import polars as pl
    >>> import flowlens as fl
    >>> table = pl.DataFrame({"Fecha": ["2000 ENE", "2000 FEB", "2000 MAR"],
    ...                       "Remesas": [103.75, 145.84, 125.35]})
    >>> t = fl.read_series(table, date="Fecha", value="Remesas", destination="Colombia",
    ...                    unit="US$ million", source="Banco de la Republica, remittances")
    >>> t.freq, t.panel["destination"].to_list(), t.panel["amount_usd"].to_list()
    ('1mo', ['COL', 'COL', 'COL'], [103750000.0, 145840000.0, 125350000.0])

    Year-to-date figures, with fiscal years starting in July:

    >>> ytd = pl.DataFrame({"month": ["2019-07", "2019-08", "2019-09"], "ytd": [10.0, 25.0, 45.0]})
    >>> t = fl.read_series(ytd, date="month", value="ytd", destination="PAK", unit="USD million",
    ...                    source="example", cumulative=True, fiscal_year_start=7)
    >>> t.panel["amount_usd"].to_list()
    [10000000.0, 15000000.0, 20000000.0]
    """
    scale = _unit_scale(unit)
    _check_options(
        data,
        cumulative=cumulative,
        allow_negative=allow_negative,
        fiscal_year_start=fiscal_year_start,
        fiscal_year_label=fiscal_year_label,
        date=date,
        flow_type=flow_type,
    )
    where = _where(data) if isinstance(data, (str, Path)) else "the table"
    frame = _table(data, sheet, skip_rows)
    if frame.width == 0:
        msg = f"{where} has no columns; expected {_FRAME_EXPECTED}"
        raise InputFormatError(msg)
    frame = _values(frame, value, where, decimal_comma)
    frame, from_dest = _side(frame, destination, "destination", where)
    frame, from_orig = _side(frame, origin, "origin", where)
    _check_corridor(origin, destination, frame)
    frame = _dates(frame, date, date_format, where)
    blank = pl.col("_label").is_null() & pl.col("_v").is_null()
    n_blank = frame.filter(blank).height
    frame = frame.filter(~blank)
    if frame.height == 0:
        msg = f"{where} has no rows with a date and a value; expected {_FRAME_EXPECTED}"
        raise InputFormatError(msg)
    _check_parsed(frame, where, date)
    roles = {
        r: c
        for r, c, used in (("origin", origin, from_orig), ("destination", destination, from_dest))
        if used and c
    }
    others = {"date": date, "value": value} if isinstance(date, str) else {"value": value}
    _check_countries(frame, roles, where, others)
    if fiscal_year_label is not None:
        shift = (
            (pl.col("_m") >= fiscal_year_start)
            if fiscal_year_label == "end"
            else (pl.col("_m") < fiscal_year_start)
        )
        sign = -1 if fiscal_year_label == "end" else 1
        frame = frame.with_columns(_y=pl.col("_y") + shift.cast(pl.Int32) * sign)
    keys = [f"_{role}_key" for role in roles]
    step = _step(frame, keys, freq, where)
    if cumulative and step == 12:
        msg = (
            f"cumulative=True, but {where} is annual: annual figures are not cumulative "
            "within a year (year-to-date figures are monthly or quarterly). Leave cumulative "
            "out; for a table of running totals across years, take the differences first"
        )
        raise ParameterError(msg)
    month_index = pl.col("_y") * 12 + pl.col("_m") - 1
    start = month_index - month_index % step
    frame = frame.with_columns(period=pl.date(start // 12, start % 12 + 1, 1))
    _refuse_repeats(frame, list(roles), where, step)
    notes = _read_notes(
        where=where, date=date, value=value, unit=unit, scale=scale, n_blank=n_blank, frame=frame
    )
    missing = _gaps(frame, keys, step)
    if missing.height:
        shown = _shown(_gap_labels(missing, list(roles)))
        if not allow_gaps and not cumulative:
            msg = (
                f"{where}: {missing.height} periods are missing between the first and the last: "
                f"{shown}; expected one row per period"
                + (f" for each {' and '.join(roles)}" if roles else "")
                + ". Pass allow_gaps=True to keep the series without them"
            )
            raise InputFormatError(msg)
        notes.append(
            f"flowlens: {missing.height} periods missing (absent from the panel): {shown}."
        )
    if cumulative:
        frame, more = _period_values(
            frame, keys, step, fiscal_year_start, where=where, allow_negative=allow_negative
        )
        notes.extend(more)
    else:
        notes.extend(_negative_note(frame))
    frame = frame.with_columns(amount_usd=pl.col("_v") * scale)
    table = {"source": source, "vintage": vintage, "freq": _STEP_FREQ[step]}
    return _series_table(frame, table, notes, flow_type)


def _gap_labels(missing: pl.DataFrame, roles: list[str]) -> list[str]:
    """'2020-02', or '2020-02 for origin ESP' in a table by country."""
    month = pl.col("period").dt.strftime("%Y-%m")
    if not roles:
        return missing.select(month).to_series().to_list()
    which = pl.concat_str(
        [pl.concat_str(pl.lit(f"{role} "), pl.col(f"_{role}_key")) for role in roles],
        separator=", ",
    )
    return missing.select(pl.format("{} for {}", month, which)).to_series().to_list()


def _negative_note(frame: pl.DataFrame) -> list[str]:
    """Negative values are kept, and said: remittances received or sent are not negative."""
    fell = frame.filter(pl.col("_v") < 0)
    if not fell.height:
        return []
    return [
        f"flowlens: {fell.height} periods have a negative value, kept as published "
        f"({_shown(fell['_label'].to_list())}); remittance flows are not negative: a "
        "correction, a net figure or a sign convention?"
    ]


def _check_options(
    data: Any,
    *,
    cumulative: bool,
    allow_negative: bool,
    fiscal_year_start: int,
    fiscal_year_label: str | None,
    date: object,
    flow_type: str,
) -> None:
    if isinstance(fiscal_year_start, bool) or fiscal_year_start not in range(1, 13):
        msg = f"fiscal_year_start={fiscal_year_start!r}: expected a month number, 1 to 12"
        raise ParameterError(msg)
    if fiscal_year_label not in (None, "start", "end"):
        msg = f"fiscal_year_label={fiscal_year_label!r}: expected 'start', 'end' or None"
        raise ParameterError(msg)
    if fiscal_year_label is not None and (fiscal_year_start == 1 or isinstance(date, str)):
        msg = (
            "fiscal_year_label= applies to date=(year column, month column) whose year is a "
            "fiscal year, with fiscal_year_start= its first month (not 1)"
        )
        raise ParameterError(msg)
    if flow_type not in fs.FLOW_TYPES:
        msg = f"flow_type={flow_type!r}: expected one of {list(fs.FLOW_TYPES)}"
        raise ParameterError(msg)
    for name, flag in (("cumulative", cumulative), ("allow_negative", allow_negative)):
        if not isinstance(flag, bool):
            msg = f"{name}={flag!r}: expected True or False"
            raise ParameterError(msg)
    if data is None:
        msg = f"data is None: expected a file path or {_FRAME_EXPECTED}"
        raise InputFormatError(msg)


def _read_notes(
    *,
    where: str,
    date: object,
    value: str,
    unit: str,
    scale: float,
    n_blank: int,
    frame: pl.DataFrame,
) -> list[str]:
    notes = [
        f"flowlens: read {where}: dates from {date!r}, values from {value!r} in {unit} "
        f"(x {scale:,.0f} to US dollars)."
    ]
    if n_blank:
        notes.append(f"flowlens: {n_blank} blank rows (no date, no value) left out.")
    n_null = frame.filter(pl.col("_v").is_null()).height
    if n_null:
        notes.append(f"flowlens: {n_null} periods have no value (kept as null).")
    two_digit = frame.filter(pl.col("_label").str.contains(r"^\D*\d{2}\D*$")).height
    if two_digit:
        notes.append(
            f"flowlens: {two_digit} labels have a two-digit year, read as 1969-2068 (as %y)."
        )
    return notes


def _series_table(
    frame: pl.DataFrame, table: dict[str, str], notes: list[str], flow_type: str
) -> OfficialTable:
    def known(role: str) -> pl.Expr:
        return pl.col(f"_{role}").is_null() | pl.col(f"_{role}_iso").is_not_null()

    is_agg = pl.col("_origin_agg").is_not_null() | pl.col("_destination_agg").is_not_null()
    panel = (
        frame.filter(~is_agg & known("origin") & known("destination"))
        .select(
            "period",
            origin=pl.col("_origin_iso").cast(fs.COUNTRY_ENUM),
            destination=pl.col("_destination_iso").cast(fs.COUNTRY_ENUM),
            flow_type=pl.lit(flow_type, fs.FLOW_TYPE_ENUM),
            amount_usd="amount_usd",
        )
        .sort("period", "origin", "destination", nulls_last=False)
    )
    aggregates = frame.filter(is_agg).select(
        name=pl.coalesce(
            pl.when(pl.col("_origin_agg").is_not_null()).then("_origin"), "_destination"
        ),
        code=pl.coalesce("_origin_agg", "_destination_agg"),
        kind=pl.coalesce("_origin_kind", "_destination_kind"),
        period="period",
        amount_usd="amount_usd",
    )
    unmatched = frame.filter(~is_agg & ~(known("origin") & known("destination"))).select(
        origin="_origin", destination="_destination", period="period", amount_usd="amount_usd"
    )
    if unmatched.height:  # the names that are not known, not the other side of their rows
        names = frame.filter(~is_agg).select(
            pl.concat_list(
                pl.when(~known("origin")).then("_origin"),
                pl.when(~known("destination")).then("_destination"),
            )
            .explode()
            .drop_nulls()
        )
        notes.append(
            f"flowlens: {unmatched.height} rows name no country flowlens knows (listed in "
            f"unmatched): {_shown(names.to_series().unique(maintain_order=True).to_list())}."
        )
    return OfficialTable(
        panel=panel,
        aggregates=aggregates,
        unmatched=unmatched,
        source=table["source"],
        vintage=table["vintage"],
        freq=table["freq"],
        notes=tuple(notes),
    )
