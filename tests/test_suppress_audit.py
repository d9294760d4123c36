"""What a reader can work out from a suppressed panel: an independent LP oracle, and bad inputs.

The oracle below is written from the published frames alone (``safe.panel``,
``safe.margins``), as an attacker would: per slice, every row and column of
published cells adds up to its published total, withheld values are unknowns >= 0
(counts >= 1: a listed cell had a transfer), and ``scipy.optimize.linprog`` gives
the smallest and largest value of each withheld one. It shares no code with
``flowlens.privacy._audit``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import flowlens as fl
from flowlens.errors import FlowlensError, SchemaError
from flowlens.privacy import audit_suppression, pseudonymize, suppress_small_cells

JAN = dt.date(2024, 1, 1)
KEYS = ["period", "origin", "destination"]


def attacker_intervals(
    panel: pl.DataFrame, margins: pl.DataFrame, value: str = "amount_usd", floor: float = 0.0
) -> dict[tuple[Any, str, str], tuple[float, float]]:
    """(period, origin, destination) of every withheld cell -> (min, max) a reader can prove."""
    found: dict[tuple[Any, str, str], tuple[float, float]] = {}
    for (period,), cells in panel.group_by("period", maintain_order=True):
        totals = margins.filter(pl.col("period") == period)
        entries = [
            (o, d, v, 1.0) for o, d, v in cells.select("origin", "destination", value).rows()
        ]
        entries += [
            (o or "*", d or "*", v, 1.0 if (o is None) == (d is None) else -1.0)
            for o, d, v in totals.select("origin", "destination", value).rows()
        ]
        unknown = [(o, d, sign) for o, d, v, sign in entries if v is None]
        if not unknown:
            continue
        lines = sorted({("r", o) for o, _, _ in unknown} | {("c", d) for _, d, _ in unknown})
        a = np.zeros((len(lines), len(unknown)))
        b = np.zeros(len(lines))
        for j, (o, d, sign) in enumerate(unknown):
            a[lines.index(("r", o)), j] = sign
            a[lines.index(("c", d)), j] = sign
        for o, d, v, sign in entries:
            if v is not None:
                for line in (("r", o), ("c", d)):
                    if line in lines:
                        b[lines.index(line)] -= sign * v
        # a cell's lower bound is `floor`; a total's is 0
        bounds = [(floor if "*" not in (o, d) else 0.0, None) for o, d, _ in unknown]
        for j, (o, d, _) in enumerate(unknown):
            if "*" in (o, d):
                continue
            c = np.zeros(len(unknown))
            c[j] = 1.0
            low = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            high = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            assert low.status == 0, low.message
            upper = np.inf if high.status == 3 else -high.fun
            found[(period, o, d)] = (low.fun, upper)
    return found


def assert_protected(panel: pl.DataFrame, safe: Any, level: float = 0.10) -> int:
    """Every sensitive cell's interval reaches `level` beyond its value both ways; returns their number."""
    intervals = attacker_intervals(safe.panel, safe.margins)
    sensitive = safe.cells.filter(pl.col("reason").is_in(["senders", "dominance", "p_rule"]))
    for period, o, d, x in sensitive.select(*KEYS, "amount_usd").rows():
        low, high = intervals[(period, o, d)]
        assert low <= x * (1 - level) + 1e-6 * x + 1e-9, (period, o, d, x, low, high)
        assert high >= x * (1 + level) - 1e-6 * x - 1e-9, (period, o, d, x, low, high)
    return sensitive.height


def panel_of(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    """(origin, destination, amount, n_senders) -> a one-period panel with its top senders."""
    frame = pl.DataFrame(
        {
            "period": [JAN] * len(rows),
            "origin": [r[0] for r in rows],
            "destination": [r[1] for r in rows],
            "amount_usd": [r[2] for r in rows],
            "n_transfers": [max(r[3], 1) for r in rows],
            "n_senders": [r[3] for r in rows],
        }
    )
    single = pl.col("n_senders") == 1
    return frame.with_columns(
        sender_top1_usd=pl.when(single).then("amount_usd").otherwise(pl.col("amount_usd") / 20),
        sender_top2_usd=pl.when(single).then(0.0).otherwise(pl.col("amount_usd") / 20),
    )


MILLION = panel_of(
    [
        ("USA", "MEX", 1_000_000.0, 1),  # one sender: sensitive
        ("USA", "GTM", 5.0, 1),  # three tiny sensitive cells close a free 4-cycle
        ("CAN", "MEX", 5.0, 1),
        ("CAN", "GTM", 5.0, 1),
        ("USA", "SLV", 2_000_000.0, 50),
        ("CAN", "SLV", 3_000_000.0, 60),
        ("GBR", "MEX", 1_500_000.0, 40),
        ("GBR", "GTM", 1_000_000.0, 30),
        ("GBR", "SLV", 1_000_000.0, 30),
    ]
)


def test_the_million_is_not_pinned_by_tiny_partners() -> None:
    # before: the cheapest cycle was the three free 5-dollar cells, and a reader could
    # pin USA->MEX to [999,995, 1,000,005]
    safe = suppress_small_cells(MILLION, audit=True)
    low, high = attacker_intervals(safe.panel, safe.margins)[(JAN, "USA", "MEX")]
    assert low <= 900_000.0 and high >= 1_100_000.0
    assert_protected(MILLION, safe)
    assert safe.audit is not None and bool(safe.audit["ok"].all())
    row = safe.audit.filter(pl.col("origin") == "USA", pl.col("destination") == "MEX")
    assert row["lower"].item() == pytest.approx(low, abs=1e-3)
    assert row["upper"].item() == pytest.approx(high, rel=1e-9)
    twice = suppress_small_cells(MILLION, protection=(0.10, 1.0), audit=True)
    _, high = attacker_intervals(twice.panel, twice.margins)[(JAN, "USA", "MEX")]
    assert high >= 2_000_000.0 - 1e-3


def test_withheld_counts_cannot_be_worked_out() -> None:
    # two single-transfer cells in a row of three: with the count total published,
    # the two withheld counts (each >= 1, summing to 2) would be 1 and 1
    panel = panel_of(
        [
            ("USA", "MEX", 100.0, 1),
            ("USA", "GTM", 100.0, 1),
            ("USA", "SLV", 5000.0, 40),
            ("CAN", "MEX", 4000.0, 30),
            ("CAN", "GTM", 4000.0, 30),
            ("CAN", "SLV", 4000.0, 30),
        ]
    )
    safe = suppress_small_cells(panel)
    withheld = safe.panel.filter("suppressed")
    assert withheld["n_transfers"].null_count() == withheld.height > 0
    counts = attacker_intervals(safe.panel, safe.margins, value="n_transfers", floor=1.0)
    for _, o, d in withheld.select(*KEYS).rows():
        low, high = counts[(JAN, o, d)]
        assert low == pytest.approx(1.0) and high == np.inf
    # a line without a withheld cell keeps its count total
    assert withheld.filter(pl.col("destination") == "SLV").is_empty()
    slv = safe.margins.filter(pl.col("origin").is_null(), pl.col("destination") == "SLV")
    assert slv["n_transfers"].item() == 40 + 30


cell = st.tuples(st.integers(1, 30), st.floats(1.0, 1e6), st.floats(0.0, 1.0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.tuples(st.integers(0, 1), st.sampled_from("ABCDE"), st.sampled_from("VWXYZ")),
        cell,
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([0.10, 0.25]),
)
def test_random_panels_leave_every_sensitive_cell_its_interval(cells: dict, level: float) -> None:
    panel = pl.DataFrame(
        [
            {
                "period": JAN.replace(month=1 + s),
                "origin": o,
                "destination": d,
                "amount_usd": a,
                "n_senders": n,
                "sender_top1_usd": a * share * 0.6,
                "sender_top2_usd": a * share * 0.4,
            }
            for (s, o, d), (n, a, share) in cells.items()
        ]
    )
    safe = suppress_small_cells(panel, protection=level)
    assert_protected(panel, safe, level)
    audit = audit_suppression(safe)
    assert bool(audit["ok"].all())


# in the slow set: each seed takes about 5 s (an LP per withheld cell); the sample and
# random panels keep the audit in the default run
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_panels_leave_every_sensitive_cell_its_interval(seed: int) -> None:
    flows = fl.load_flows(fl.synth.generate(400, seed=seed).flows).clean
    panel = fl.corridor_panel(
        flows, freq="quarter", stats=("sum", "count", "senders", "top_senders")
    )
    # one flow type, so the oracle's slices (periods) are the library's
    panel = panel.filter(pl.col("flow_type") == "remittance").drop("flow_type")
    safe = suppress_small_cells(panel, audit=True, min_senders=3)
    assert safe.audit is not None and bool(safe.audit["ok"].all())
    assert assert_protected(panel, safe) > 0


def test_the_sample_is_protected_and_not_much_more_withheld() -> None:
    flows = fl.load_flows(fl.load_sample("flows")).clean
    panel = fl.corridor_panel(flows, freq="year", stats=("sum", "count", "senders", "top_senders"))
    safe = suppress_small_cells(panel, audit=True)
    assert safe.audit is not None and bool(safe.audit["ok"].all())
    cells = safe.cells
    withheld = cells.filter(pl.col("reason") != "published")["amount_usd"].sum()
    assert withheld / cells["amount_usd"].sum() < 0.95


def test_the_p_rule_by_hand() -> None:
    # 1000 = 900 + 95 + 5: the rest (5) is under 10% of the largest (90): the second
    # sender could estimate the first within 10%
    panel = panel_of([("USA", "MEX", 1000.0, 30), ("CAN", "MEX", 1000.0, 30)]).with_columns(
        sender_top1_usd=pl.Series([900.0, 500.0]), sender_top2_usd=pl.Series([95.0, 100.0])
    )
    safe = suppress_small_cells(panel, dominance=None)
    assert safe.cells["reason"].cast(pl.String).to_list() == ["p_rule", "secondary"]
    assert suppress_small_cells(panel, dominance=None, p_rule=None).n_suppressed == 0


BAD_PANELS = [
    pytest.param(
        pl.concat(
            [
                MILLION,
                MILLION.group_by("period", "origin").agg(pl.exclude("destination").sum()),
            ],
            how="diagonal_relaxed",
        ),
        "null key",
        id="suppress-totals-row",
    ),
    pytest.param(
        MILLION.with_columns(pl.col("period").cast(pl.String)),
        "not a date",
        id="suppress-text-period",
    ),
    pytest.param(
        MILLION.with_columns(pl.col("period").dt.year()), "not a date", id="suppress-number-period"
    ),
    pytest.param(
        MILLION.with_columns(amount_usd=pl.col("amount_usd").cast(pl.String)),
        "amount_usd",
        id="suppress-text-amount",
    ),
    pytest.param(
        MILLION.with_columns(amount_usd=pl.lit(float("inf"))), "infinite", id="suppress-inf-amount"
    ),
    pytest.param(
        MILLION.with_columns(sender_top1_usd=pl.lit(float("nan"))), "NaN", id="suppress-nan-top"
    ),
    pytest.param(
        MILLION.with_columns(n_senders=pl.lit(-1)), "negative", id="suppress-negative-senders"
    ),
    pytest.param(
        MILLION.with_columns(origin=pl.lit(840)), "ISO3 text", id="suppress-numeric-origin"
    ),
    pytest.param(
        MILLION.with_columns(suppressed=pl.lit(False)), "already", id="suppress-already-suppressed"
    ),
    pytest.param(MILLION.with_columns(tags=pl.lit([1, 2])), "dtype List", id="suppress-nested-key"),
]


@pytest.mark.parametrize(("panel", "message"), BAD_PANELS)
def test_bad_panels_say_what_is_wrong(panel: pl.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        suppress_small_cells(panel)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"protection": 10}, id="suppress-protection-percent"),
        pytest.param({"protection": (0.1,)}, id="suppress-protection-shape"),
        pytest.param({"p_rule": 10}, id="suppress-p-rule-percent"),
        pytest.param({"dominance": (2,)}, id="suppress-dominance-shape"),
        pytest.param({"dominance": (2.0, 0.85)}, id="suppress-dominance-float-n"),
    ],
)
def test_bad_parameters_are_parameter_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(fl.errors.ParameterError):
        suppress_small_cells(MILLION, **kwargs)


def test_audit_takes_a_suppressed_panel_only() -> None:
    with pytest.raises(fl.errors.ParameterError, match="SuppressedPanel"):
        audit_suppression(MILLION)  # type: ignore[arg-type]


column_values = st.sampled_from(
    [
        [1.0, 2.0],
        [1, None],
        ["USA", "MEX"],
        [None, None],
        [float("nan"), 1.0],
        [-1.0, 3.0],
        [float("inf"), 0.0],
        [JAN, None],
        [True, False],
        [[1], [2]],
        [b"x", b"y"],
        [dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)],
    ]
)
names = st.sampled_from(
    [
        "period",
        "origin",
        "destination",
        "amount_usd",
        "n_senders",
        "n_transfers",
        "sender_top1_usd",
        "sender_top2_usd",
        "sender_id",
        "flow_type",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, column_values, max_size=8), st.booleans())
def test_malformed_frames_raise_flowlens_errors_only(columns: dict, start_valid: bool) -> None:
    frame_columns: dict[str, pl.Series] = {}
    if start_valid:
        frame_columns = {c: MILLION[c][:2] for c in MILLION.columns}
    for name, values in columns.items():
        try:
            frame_columns[name] = pl.Series(name, values, strict=False)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            return  # not a frame polars can build
    frame = pl.DataFrame(list(frame_columns.values())) if frame_columns else pl.DataFrame()
    for call in (
        lambda: suppress_small_cells(frame),
        lambda: pseudonymize(frame, key=b"k" * 32),
        lambda: pseudonymize(frame.lazy(), key=b"k" * 32).collect(),
    ):
        with contextlib.suppress(FlowlensError):
            call()


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([[1], [2]], id="pseudonymize-list-id"),
        pytest.param([{"a": 1}, {"a": 2}], id="pseudonymize-struct-id"),
        pytest.param([b"x", b"y"], id="pseudonymize-bytes-id"),
    ],
)
def test_pseudonymize_refuses_ids_that_are_not_text(values: list[Any]) -> None:
    flows = pl.DataFrame({"sender_id": values})
    with pytest.raises(SchemaError, match="identifiers are text"):
        pseudonymize(flows, key=b"k" * 32)
    with pytest.raises(SchemaError, match="identifiers are text"):
        pseudonymize(flows.lazy(), key=b"k" * 32)
