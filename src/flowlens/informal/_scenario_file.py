"""De-risking scenarios from a TOML file (stdlib ``tomllib``): the fields of
:class:`DeRiskingScenario`, the baseline to use and the Monte Carlo settings.

The format, every key optional except a scenario's ``name``::

    draws = 1000                  # Monte Carlo draws (estimate_informal's draws)
    seed = 0                      # and its seed

    [baseline]                    # the baseline informal ratio per corridor
    method = "costs"              # "costs" (baseline_from_costs), "observed" or "table"
    cost_pct = 7.0                # costs: one cost for every corridor, percent sent; or
    costs = "costs.csv"           # costs: a table of origin, destination, cost_pct
    # before = 2015-01-01         # observed: only periods before this date
    # path = "baseline.parquet"   # table: a baseline table written earlier

    [[scenario]]                  # one table per scenario, compared side by side
    name = "US banks close MTO accounts"
    origin = "USA"                # a code or a list; left out: every country
    destination = ["SOM"]
    start = 2015-02-06            # a TOML date (or text "2015-02-06")
    end = 2016-01-01              # left out: not restored within the panel
    ramp_days = 30
    channels = ["bank", "mto"]
    withdrawn = { triangular = [0.6, 0.7, 0.8] }   # a number, or a prior:
    cost_increase_pp = { uniform = [0.0, 3.0] }    # { fixed = x }, { uniform = [lo, hi] },
    cost_elasticity = 0.8                          # { triangular = [lo, mode, hi] }
    split = { informal = 0.5, other_formal = 0.3, concentration = 20.0 }

Paths are relative to the TOML file's folder. A key the format does not know raises
:class:`~flowlens.errors.ParameterError` with the closest known key, so a typo is never
ignored.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from flowlens import schema as fs
from flowlens.errors import ParameterError, closest
from flowlens.informal._baseline import baseline_from_costs, baseline_observed
from flowlens.informal._priors import Fixed, Prior, Split, Triangular, Uniform
from flowlens.informal._scenario import DeRiskingScenario

__all__ = ["BaselineChoice", "ScenarioFile", "read_scenario_file"]

_TOP_KEYS = ("draws", "seed", "baseline", "scenario")
_BASELINE_KEYS = ("method", "cost_pct", "costs", "before", "path")
_SCENARIO_KEYS = (
    "name",
    "origin",
    "destination",
    "start",
    "end",
    "ramp_days",
    "channels",
    "withdrawn",
    "cost_increase_pp",
    "cost_elasticity",
    "split",
)
_PRIORS = {"fixed": (Fixed, 1), "uniform": (Uniform, 2), "triangular": (Triangular, 3)}
_SPLIT_KEYS = ("informal", "other_formal", "concentration")
_METHODS = ("costs", "observed", "table")


def _unknown(keys: object, known: tuple[str, ...], where: str, path: Path) -> None:
    for key in keys:  # type: ignore[attr-defined]
        if key not in known:
            near = closest(str(key), known)
            hint = f"did you mean {near!r}? " if near else ""
            msg = f"{path}: {where} has an unknown key {key!r}; {hint}known keys: {list(known)}"
            raise ParameterError(msg)


def _prior(value: object, what: str, path: Path) -> float | Prior:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and len(value) == 1:
        ((kind, numbers),) = value.items()
        if kind in _PRIORS:
            cls, arity = _PRIORS[kind]
            args = numbers if isinstance(numbers, list) else [numbers]
            if len(args) == arity and all(
                isinstance(a, int | float) and not isinstance(a, bool) for a in args
            ):
                return cls(*(float(a) for a in args))  # type: ignore[no-any-return]
    msg = (
        f"{path}: {what} = {value!r} is not a number or a prior; write a number, "
        "{ fixed = 0.6 }, { uniform = [0.4, 0.8] } or { triangular = [0.4, 0.6, 0.8] }"
    )
    raise ParameterError(msg)


def _split(value: object, path: Path) -> Split:
    if not isinstance(value, dict):
        msg = (
            f"{path}: split = {value!r} is not a table; write "
            "split = { informal = 0.5, other_formal = 0.3, concentration = 20.0 }"
        )
        raise ParameterError(msg)
    _unknown(value, _SPLIT_KEYS, "split", path)
    return Split(**value)


def _scenario(table: object, index: int, path: Path) -> DeRiskingScenario:
    where = f"[[scenario]] number {index + 1}"
    if not isinstance(table, dict):
        msg = f"{path}: {where} is not a table; write [[scenario]] and its keys below it"
        raise ParameterError(msg)
    _unknown(table, _SCENARIO_KEYS, where, path)
    if "name" not in table:
        msg = f'{path}: {where} has no name; add name = "..." (it labels the results)'
        raise ParameterError(msg)
    fields = dict(table)
    for name in ("withdrawn", "cost_increase_pp", "cost_elasticity"):
        if name in fields:
            fields[name] = _prior(fields[name], f"{where}: {name}", path)
    if "split" in fields:
        fields["split"] = _split(fields["split"], path)
    if "channels" in fields and isinstance(fields["channels"], list):
        fields["channels"] = tuple(fields["channels"])
    try:
        return DeRiskingScenario(**fields)
    except ParameterError as exc:
        msg = f"{path}: {where} ({fields['name']!r}): {exc}"
        raise ParameterError(msg) from exc


@dataclass(frozen=True)
class BaselineChoice:
    """The ``[baseline]`` table of a scenario file: how to build the baseline of a panel.

    Attributes
    ----------
    method
        ``"costs"`` (:func:`baseline_from_costs`), ``"observed"``
        (:func:`baseline_observed`, a panel with a ``channel`` column) or ``"table"``
        (a baseline table written earlier, at ``path``).
    cost_pct, costs
        For ``costs``: one cost for every corridor (percent of the amount sent), or a
        table of ``origin``, ``destination``, ``cost_pct``; neither: the panel's
        ``cost_ratio`` column.
    before
        For ``observed``: only periods before this date.
    path
        For ``table``: the baseline table (CSV or Parquet).

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.informal._scenario_file import BaselineChoice
    >>> panel = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "amount_usd": [1e6]})
    >>> BaselineChoice("costs", cost_pct=7.0).build(panel)["cost_pct"].item()
    7.0
    """

    method: str = "costs"
    cost_pct: float | None = None
    costs: Path | None = None
    before: dt.date | None = None
    path: Path | None = None

    def build(self, panel: pl.DataFrame) -> pl.DataFrame:
        """The baseline table of ``panel`` (a polars DataFrame).

        Raises
        ------
        ParameterError
            ``costs`` without a cost (no ``cost_pct``, ``costs`` or ``cost_ratio``
            column), ``observed`` without a ``channel`` column.
        """
        if self.method == "table":
            if self.path is None:
                msg = 'the baseline method "table" needs path = "baseline.parquet"'
                raise ParameterError(msg)
            return _read_table(self.path)
        if self.method == "observed":
            if fs.CHANNEL not in panel.columns:
                msg = (
                    "the baseline method 'observed' needs a panel with a channel column "
                    '(flowlens panel --by channel); or use method = "costs"'
                )
                raise ParameterError(msg)
            return baseline_observed(panel, before=self.before)  # type: ignore[no-any-return]
        costs: Any = None
        if self.costs is not None:
            costs = _read_table(self.costs)
        elif self.cost_pct is not None:
            costs = (
                panel.select(fs.ORIGIN, fs.DESTINATION)
                .unique()
                .with_columns(cost_pct=pl.lit(float(self.cost_pct)))
            )
        elif fs.COST_RATIO not in panel.columns:
            msg = (
                "the baseline method 'costs' needs a cost: add cost_pct = 7.0 or "
                'costs = "costs.csv" (origin, destination, cost_pct) under [baseline], '
                "or build the panel with --stats sum,count,cost_ratio"
            )
            raise ParameterError(msg)
        return baseline_from_costs(panel, costs)  # type: ignore[no-any-return]


def _read_table(path: Path) -> pl.DataFrame:
    from flowlens.io import read_table_csv

    if path.suffix.lower() in (".parquet", ".pq"):
        if not path.is_file():
            msg = f"no such file {str(path)!r} (named in the scenario file)"
            raise ParameterError(msg)
        return pl.read_parquet(path)
    frame = read_table_csv(path, "a table named in the scenario file")
    numeric = [c for c in frame.columns if c not in (fs.ORIGIN, fs.DESTINATION, "method")]
    return frame.with_columns(pl.col(numeric).cast(pl.Float64, strict=False))


def _baseline(table: object, path: Path) -> BaselineChoice:
    if not isinstance(table, dict):
        msg = f"{path}: baseline is not a table; write [baseline] and its keys below it"
        raise ParameterError(msg)
    _unknown(table, _BASELINE_KEYS, "[baseline]", path)
    method = table.get("method", "costs")
    if method not in _METHODS:
        msg = f"{path}: [baseline] method = {method!r}; choose one of {list(_METHODS)}"
        raise ParameterError(msg)
    cost = table.get("cost_pct")
    if cost is not None and (
        isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 <= cost < 100
    ):
        msg = f"{path}: [baseline] cost_pct = {cost!r}; write a percent from 0 to 100, e.g. 7.0"
        raise ParameterError(msg)
    before = table.get("before")
    if isinstance(before, str):
        before = dt.date.fromisoformat(before)
    here = path.parent
    costs = here / table["costs"] if "costs" in table else None
    table_path = here / table["path"] if "path" in table else None
    if method == "table" and table_path is None:
        msg = f'{path}: [baseline] method = "table" needs path = "baseline.parquet"'
        raise ParameterError(msg)
    return BaselineChoice(
        method=method,
        cost_pct=None if cost is None else float(cost),
        costs=costs,
        before=before,
        path=table_path,
    )


@dataclass(frozen=True)
class ScenarioFile:
    """What a scenario file says: the scenarios, the baseline, and the Monte Carlo settings.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from flowlens.informal._scenario_file import read_scenario_file
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = path.write_text('[[scenario]]\\nname = "closure"\\norigin = "USA"\\n')
    >>> read_scenario_file(path).scenarios[0].origin
    ('USA',)
    """

    path: Path
    scenarios: tuple[DeRiskingScenario, ...]
    baseline: BaselineChoice
    draws: int = 1000
    seed: int = 0


def read_scenario_file(path: str | Path) -> ScenarioFile:
    """Read a TOML scenario file (the format in this module's notes).

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    ScenarioFile
        The :class:`DeRiskingScenario` list (empty: the baseline alone), the
        :class:`BaselineChoice`, ``draws`` and ``seed``.

    Raises
    ------
    ParameterError
        A missing file, TOML that does not parse (with its line), an unknown key
        (with the closest known one), a value a scenario refuses.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from flowlens.informal._scenario_file import read_scenario_file
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = path.write_text('''
    ... draws = 500
    ... [baseline]
    ... cost_pct = 7.0
    ... [[scenario]]
    ... name = "Merchants Bank"
    ... origin = "USA"
    ... destination = "SOM"
    ... start = 2015-02-06
    ... withdrawn = { triangular = [0.6, 0.7, 0.8] }
    ... ''')
    >>> found = read_scenario_file(path)
    >>> found.draws, found.baseline.cost_pct, found.scenarios[0].start
    (500, 7.0, datetime.date(2015, 2, 6))
    >>> round(found.scenarios[0].withdrawn.mean, 2)
    0.7
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read the scenario file {str(path)!r}: {exc.strerror or exc}"
        raise ParameterError(msg) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"the scenario file {str(path)!r} is not valid TOML: {exc}"
        raise ParameterError(msg) from exc
    _unknown(data, _TOP_KEYS, "the file", path)
    tables = data.get("scenario", [])
    if isinstance(tables, dict):  # [scenario] written for [[scenario]]: one scenario
        tables = [tables]
    if not isinstance(tables, list):
        msg = f"{path}: scenario must be [[scenario]] tables, got {tables!r}"
        raise ParameterError(msg)
    scenarios = tuple(_scenario(t, i, path) for i, t in enumerate(tables))
    names = [s.name for s in scenarios]
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        msg = f"{path}: two scenarios are named {repeated!r}; give each its own name"
        raise ParameterError(msg)
    for key, default, low, high in (("draws", 1000, 2, 1_000_000), ("seed", 0, 0, (1 << 63) - 1)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            msg = f"{path}: {key} = {value!r}; write a whole number from {low} to {high:,}"
            raise ParameterError(msg)
    return ScenarioFile(
        path=path,
        scenarios=scenarios,
        baseline=_baseline(data.get("baseline", {}), path),
        draws=data.get("draws", 1000),
        seed=data.get("seed", 0),
    )
