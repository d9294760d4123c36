"""Dates as central banks write them: parsed, their frequency read, repeats and gaps found."""

from __future__ import annotations

import polars as pl

from flowlens.errors import InputFormatError, ParameterError
from flowlens.freq import normalise_freq
from flowlens.official_series._common import _column, _shown

# ---------------------------------------------------------------- month names

_MONTH_NAMES = (
    # English, Spanish, Portuguese, French (accents removed), one tuple per month
    ("january", "enero", "janeiro", "janvier"),
    ("february", "febrero", "fevereiro", "fevrier"),
    ("march", "marzo", "marco", "mars"),
    ("april", "abril", "avril"),
    ("may", "mayo", "maio", "mai"),
    ("june", "junio", "junho", "juin"),
    ("july", "julio", "julho", "juillet"),
    ("august", "agosto", "aout"),
    ("september", "septiembre", "setiembre", "setembro", "septembre"),
    ("october", "octubre", "outubro", "octobre"),
    ("november", "noviembre", "novembro", "novembre"),
    ("december", "diciembre", "dezembro", "decembre"),
)


def _month_words() -> dict[str, int]:
    """Every prefix of at least three letters of a month's name in English, Spanish,
    Portuguese or French that names one month only (``sept``, ``agos``, ``fev``,
    ``juil``; not ``jui``, which starts both juin and juillet)."""
    seen: dict[str, set[int]] = {}
    for month, names in enumerate(_MONTH_NAMES, start=1):
        for name in names:
            for end in range(3, len(name) + 1):
                seen.setdefault(name[:end], set()).add(month)
    return {word: months.pop() for word, months in seen.items() if len(months) == 1}


MONTH_WORDS: dict[str, int] = _month_words()
"""Month word (lower case, no accents) -> month number, as :func:`read_series` reads labels."""

_FILLER_WORDS = ["de", "del", "of", "do", "da"]

# ---------------------------------------------------------------- dates


def _label_text(label: pl.Expr) -> pl.Expr:
    """Lower case, accents removed, a trailing time of day removed."""
    return (
        label.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace(r"[ t]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*$", "")
    )


_SCRATCH = ["_text", "_w", "_n", "_nw", "_nn", "_word", "_y4", "_nl", "_s0", "_ns"]


def _two_digit_year(text: pl.Expr) -> pl.Expr:
    """00-68 -> 2000s, 69-99 -> 1900s (as Python's and C's %y)."""
    yy = text.cast(pl.Int32, strict=False)
    return pl.when(yy < 69).then(yy + 2000).otherwise(yy + 1900)


def _parse_labels(frame: pl.DataFrame, label: str) -> pl.DataFrame:  # long: one rule per layout
    """Year, month, day and what the label gives (``year``, ``quarter``, ``month``, ``day``)
    from text labels in any of the layouts of :func:`read_series`; null where none fits."""
    words = pl.col("_text").str.extract_all(r"[a-z]+")
    words = words.list.eval(pl.element().filter(~pl.element().is_in(_FILLER_WORDS)))
    nums = pl.col("_text").str.extract_all(r"\d+")
    f = frame.with_columns(_text=_label_text(pl.col(label))).with_columns(_w=words, _n=nums)
    w, n = pl.col("_w"), pl.col("_n")
    longs = n.list.eval(pl.element().filter(pl.element().str.len_chars() == 4))
    shorts = n.list.eval(pl.element().filter(pl.element().str.len_chars() <= 2))
    f = f.with_columns(
        _nw=w.list.len(),
        _nn=n.list.len(),
        _word=w.list.first(),
        _y4=longs.list.first().cast(pl.Int32),
        _nl=longs.list.len(),
        _s0=shorts.list.first(),
        _ns=shorts.list.len(),
    )
    word, nn, y4, s0 = pl.col("_word"), pl.col("_nn"), pl.col("_y4"), pl.col("_s0").cast(pl.Int32)
    one_word = pl.col("_nw") == 1
    month_word = word.replace_strict(MONTH_WORDS, default=None, return_dtype=pl.Int32)
    year_and_short = (nn == 2) & (pl.col("_nl") == 1) & (pl.col("_ns") == 1)
    only = n.list.first()
    lone = (pl.col("_nw") == 0) & (nn == 1)
    a, b, c = (n.list.get(i, null_on_oob=True) for i in range(3))
    rules: list[tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, str]] = [
        # ene-2000, 2000 ENE, janvier 2001, Fev/2003
        (one_word & (nn == 1) & (pl.col("_nl") == 1), y4, month_word, pl.lit(1), "month"),
        # Jan-02 (two-digit year)
        (
            one_word & (nn == 1) & (pl.col("_ns") == 1),
            _two_digit_year(s0.cast(pl.String)),
            month_word,
            pl.lit(1),
            "month",
        ),
        # 15 janvier 2001
        (one_word & year_and_short & month_word.is_not_null(), y4, month_word, s0, "day"),
        # 2020Q1, Q1 2020, T1-2020 (trimestre)
        (
            one_word & word.is_in(["q", "t"]) & year_and_short,
            y4,
            (s0 - 1) * 3 + 1,
            pl.lit(1),
            "quarter",
        ),
        # 2020M01
        (one_word & (word == "m") & year_and_short, y4, s0, pl.lit(1), "month"),
        # 2020
        (lone & (only.str.len_chars() == 4), only.cast(pl.Int32), pl.lit(1), pl.lit(1), "year"),
        # 202001
        (
            lone & (only.str.len_chars() == 6),
            only.str.slice(0, 4).cast(pl.Int32),
            only.str.slice(4, 2).cast(pl.Int32),
            pl.lit(1),
            "month",
        ),
        # 20200131
        (
            lone & (only.str.len_chars() == 8),
            only.str.slice(0, 4).cast(pl.Int32),
            only.str.slice(4, 2).cast(pl.Int32),
            only.str.slice(6, 2).cast(pl.Int32),
            "day",
        ),
        # 2020-01, 01/2020
        ((pl.col("_nw") == 0) & year_and_short, y4, s0, pl.lit(1), "month"),
        # 2020-01-31
        (
            (pl.col("_nw") == 0) & (nn == 3) & (a.str.len_chars() == 4),
            a.cast(pl.Int32),
            b.cast(pl.Int32),
            c.cast(pl.Int32),
            "day",
        ),
    ]
    year_e: pl.Expr = pl.lit(None, pl.Int32)
    month_e: pl.Expr = pl.lit(None, pl.Int32)
    day_e: pl.Expr = pl.lit(None, pl.Int32)
    kind_e: pl.Expr = pl.lit(None, pl.String)
    for cond, y, m, d, k in reversed(rules):  # built last to first: the first that fits wins
        fits = cond.fill_null(value=False)
        year_e = pl.when(fits).then(y.cast(pl.Int32)).otherwise(year_e)
        month_e = pl.when(fits).then(m.cast(pl.Int32)).otherwise(month_e)
        day_e = pl.when(fits).then(d.cast(pl.Int32)).otherwise(day_e)
        kind_e = pl.when(fits).then(pl.lit(k)).otherwise(kind_e)
    f = f.with_columns(_y=year_e, _m=month_e, _d=day_e, _kind=kind_e)
    return _day_month_year(f, a, b, c)


def _day_month_year(f: pl.DataFrame, a: pl.Expr, b: pl.Expr, c: pl.Expr) -> pl.DataFrame:
    """31/01/2020 or 01/31/2020: which of the first two numbers is the day, read from the
    whole column (one above 12, or one that never changes)."""
    fits = (pl.col("_nw") == 0) & (pl.col("_nn") == 3) & (c.str.len_chars() == 4)
    fits = fits & (a.str.len_chars() <= 2) & (b.str.len_chars() <= 2)
    rows = f.filter(fits.fill_null(value=False)).select(
        a=a.cast(pl.Int32), b=b.cast(pl.Int32), label="_text"
    )
    if rows.height == 0:
        return f
    a_day = rows["a"].max() > 12 or rows["a"].n_unique() == 1 < rows["b"].n_unique()  # type: ignore[operator]
    b_day = rows["b"].max() > 12 or rows["b"].n_unique() == 1 < rows["a"].n_unique()  # type: ignore[operator]
    if a_day == b_day and rows.height > 1:
        msg = (
            "dates such as "
            f"{_shown(rows['label'].head(3).to_list())} could be day/month/year or "
            "month/day/year; pass date_format='%d/%m/%Y' or '%m/%d/%Y'"
        )
        raise InputFormatError(msg)
    day, month = (a, b) if a_day or rows.height == 1 else (b, a)
    return f.with_columns(
        _y=pl.when(fits).then(c.cast(pl.Int32)).otherwise("_y"),
        _m=pl.when(fits).then(month.cast(pl.Int32)).otherwise("_m"),
        _d=pl.when(fits).then(day.cast(pl.Int32)).otherwise("_d"),
        _kind=pl.when(fits).then(pl.lit("day")).otherwise("_kind"),
    )


def _dates(
    frame: pl.DataFrame, date: str | tuple[str, str], date_format: str | None, where: str
) -> pl.DataFrame:
    """``_y``, ``_m``, ``_d``, ``_kind`` and ``_label`` (the date as written) for every row."""
    if isinstance(date, str):
        _column(frame, date, "date", where)
        label = pl.col(date)
        dtype = frame.schema[date]
    elif (
        isinstance(date, (tuple, list)) and len(date) == 2 and all(isinstance(c, str) for c in date)
    ):
        for name, role in zip(date, ("year", "month"), strict=True):
            _column(frame, name, role, where)
        year = pl.col(date[0])
        if frame.schema[date[0]].is_float():
            year = year.cast(pl.Int64, strict=False)
        label = pl.concat_str(
            year.cast(pl.String).str.strip_chars(), pl.col(date[1]).cast(pl.String), separator=" "
        )
        dtype = pl.String()
    else:
        msg = (
            f"date={date!r}: pass the name of the date column, or a pair of column names "
            "(year, month) such as date=('Year', 'Month')"
        )
        raise ParameterError(msg)
    frame = frame.with_columns(_label=label.cast(pl.String))
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        return frame.with_columns(
            _y=label.dt.year().cast(pl.Int32),
            _m=label.dt.month().cast(pl.Int32),
            _d=label.dt.day().cast(pl.Int32),
            _kind=pl.lit("day"),
        )
    if date_format is not None:
        parsed = pl.col("_label").str.strip_chars().str.to_date(date_format, strict=False)
        return frame.with_columns(
            _y=parsed.dt.year().cast(pl.Int32),
            _m=parsed.dt.month().cast(pl.Int32),
            _d=parsed.dt.day().cast(pl.Int32),
            _kind=pl.lit("day"),
        )
    if dtype.is_float():
        integral = frame.select((label.is_null() | (label == label.round())).all()).item()
        if not integral:
            msg = f"{where}: date column {date!r} holds numbers with decimals; expected dates"
            raise InputFormatError(msg)
        frame = frame.with_columns(_label=label.cast(pl.Int64).cast(pl.String))
    found = _parse_labels(frame, "_label")
    valid = (
        pl.col("_m").is_between(1, 12) & pl.col("_d").is_between(1, 31) & (pl.col("_y") >= 1)
    ).fill_null(value=False)
    found = found.with_columns(
        pl.when(valid).then(pl.col(c)).alias(c) for c in ("_y", "_m", "_d", "_kind")
    )
    month_end = pl.date(pl.col("_y"), pl.col("_m"), 1).dt.month_end().dt.day()
    return found.with_columns(
        pl.when(pl.col("_d") <= month_end).then(pl.col(c)).alias(c)
        for c in ("_y", "_m", "_d", "_kind")
    ).drop(_SCRATCH)


def _check_parsed(frame: pl.DataFrame, where: str, date: object) -> None:
    bad = frame.filter(pl.col("_y").is_null())
    if bad.height:
        labels = bad["_label"].unique(maintain_order=True).to_list()
        msg = (
            f"{where}: {bad.height} dates in {date!r} could not be read: {_shown(labels)}; "
            "expected dates (2020-01-31), year-month labels in English, Spanish, Portuguese "
            "or French ('2000 ENE', 'ene-2000', 'janvier 2001', 'Fev/2003', 'Dec 2024'), "
            "quarters ('2020Q1') or years; pass date_format= for another layout"
        )
        raise InputFormatError(msg)


_STEP_FREQ = {1: "1mo", 3: "1q", 12: "1y"}


def _step(frame: pl.DataFrame, keys: list[str], freq: str | None, where: str) -> int:
    """Months per period: read from the labels and the spacing of the dates, checked
    against ``freq`` when given."""
    kinds = set(frame["_kind"].unique().to_list())
    if "year" in kinds and len(kinds) > 1:
        msg = f"{where}: the dates mix years ('2020') with months or days; expected one layout"
        raise InputFormatError(msg)
    month_index = pl.col("_y") * 12 + pl.col("_m") - 1
    spacing = (
        frame.select(*keys, _mi=month_index)
        .unique()
        .sort(*keys, "_mi")
        .select(pl.col("_mi").diff().over(keys or pl.lit(0)).alias("gap"))
        .filter(pl.col("gap") > 0)["gap"]
    )
    finest = int(spacing.min()) if spacing.len() else None  # type: ignore[arg-type]
    if kinds == {"year"}:
        found = 12
    elif kinds == {"quarter"}:
        found = 3
    else:
        found = finest if finest is not None else 1
    wanted: int | None = None
    if freq is not None:
        normal = normalise_freq(freq)
        wanted = next((k for k, v in _STEP_FREQ.items() if v == normal), None)
        if wanted is None:
            msg = f"freq={freq!r}: read_series reads monthly, quarterly or annual series ('1mo', '1q', '1y')"
            raise ParameterError(msg)
        fits = finest is None or finest % wanted == 0  # periods missing are gaps
        if fits and kinds <= {"month", "day"}:
            found = wanted
    if found not in _STEP_FREQ:
        msg = (
            f"{where}: the dates are {found} months apart at the closest; expected a monthly, "
            "quarterly or annual series (1, 3 or 12 months apart); if periods are missing, "
            "pass freq= and allow_gaps=True"
        )
        raise InputFormatError(msg)
    if wanted is not None and wanted != found:
        msg = (
            f"freq={freq!r} contradicts {where}: its dates are {_STEP_FREQ[found]} apart; "
            f"pass freq={_STEP_FREQ[found]!r}, or leave freq out to read it from the dates"
        )
        raise ParameterError(msg)
    return found


def _refuse_repeats(frame: pl.DataFrame, roles: list[str], where: str, step: int) -> None:
    """Two rows for one period (and one origin, destination: country names mapped to ISO3
    codes first, so that 'USA' and 'United States' are one country) are refused, listed
    with their dates and spellings as written."""
    keys = [f"_{role}_key" for role in roles]
    repeated = frame.filter(pl.len().over(*keys, "period") > 1)
    if not repeated.height:
        return
    finer = repeated.filter(pl.col("_label").n_unique().over(*keys, "period") > 1)
    if step == 1 and finer.height and finer["_d"].n_unique() > 1:
        msg = (
            f"{where}: several dates fall in one month ({_shown(finer['_label'].head(6).to_list())}); "
            "expected a monthly, quarterly or annual series; aggregate daily or weekly data "
            "with flowlens.corridor_panel"
        )
        raise InputFormatError(msg)
    if not roles:
        labels = repeated["_label"].unique(maintain_order=True).to_list()
        msg = (
            f"{where}: {repeated.height} rows repeat a period ({_shown(labels)}); expected one "
            "row per period. Remove the duplicates"
        )
        raise InputFormatError(msg)
    spelt = [pl.format("{} {}", pl.lit(role), pl.col(f"_{role}_key")) for role in roles]
    written = [pl.col(f"_{role}").unique(maintain_order=True).str.join("', '") for role in roles]
    groups = (
        repeated.group_by(*keys, "period", maintain_order=True)
        .agg(
            pl.col("_label").unique(maintain_order=True).str.join("', '").alias("_labels"),
            *(w.alias(f"_as_{role}") for w, role in zip(written, roles, strict=True)),
            *(s.first().alias(f"_is_{role}") for s, role in zip(spelt, roles, strict=True)),
        )
        .sort("period", *keys)
    )
    rows = groups.select(
        pl.format(
            "'{}' for {} (written " + ", ".join(f"{role} '{{}}'" for role in roles) + ")",
            "_labels",
            pl.concat_str([pl.col(f"_is_{role}") for role in roles], separator=", "),
            *(pl.col(f"_as_{role}") for role in roles),
        )
    )
    several = " or ".join(roles)
    msg = (
        f"{where}: {repeated.height} rows repeat a period for one {several}: "
        + "; ".join(rows.to_series().head(5).to_list())
        + ("; ..." if rows.height > 5 else "")
        + f". Expected one row per period and {' and '.join(roles)} (names are mapped to "
        "ISO3 codes first: two spellings of one country are one country). Sum or remove the "
        "duplicates"
    )
    raise InputFormatError(msg)


def _gaps(frame: pl.DataFrame, keys: list[str], step: int) -> pl.DataFrame:
    """The periods missing between each series' first and last, as (keys, period)."""
    every = _STEP_FREQ[step]
    if not keys:
        frame = frame.with_columns(_all=pl.lit(0))
    by = keys or ["_all"]
    full = (
        frame.group_by(by)
        .agg(period=pl.date_ranges(pl.col("period").min(), pl.col("period").max(), every))
        .explode("period")
    )
    on = [*by, "period"]
    present = frame.select(*by, "period")
    return full.join(present, on=on, how="anti").sort(on).select(*keys, "period")
