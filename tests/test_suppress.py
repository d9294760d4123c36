"""Small-cell suppression: the rules by hand, and no withheld value recoverable (linear algebra)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import MissingColumnError, ParameterError, SchemaError
from flowlens.privacy import suppress_small_cells

from .conftest import as_kind

JAN = dt.date(2024, 1, 1)


def panel_of(rows: list[tuple[str, str, float, int, float, float]]) -> pl.DataFrame:
    """(origin, destination, amount, n_senders, top1, top2) -> a one-period panel."""
    return pl.DataFrame(
        {
            "period": [JAN] * len(rows),
            "origin": [r[0] for r in rows],
            "destination": [r[1] for r in rows],
            "amount_usd": [r[2] for r in rows],
            "n_senders": [r[3] for r in rows],
            "sender_top1_usd": [r[4] for r in rows],
            "sender_top2_usd": [r[5] for r in rows],
        }
    )


def recoverable(panel: pl.DataFrame, margins: pl.DataFrame, keys: list[str]) -> list[tuple]:
    """Withheld cells whose value the published cells and margins pin down exactly.

    A slow reference, independent of the library's graph argument: per slice, the
    equations "cells of a row sum to the row total", "of a column to the column
    total", "row totals and column totals each sum to the grand total", in the
    withheld values as unknowns; a value is pinned down iff its unit vector lies in
    the row space of the equations (adding it leaves the rank unchanged).
    """
    found = []
    for key, cells in panel.group_by(keys, maintain_order=True):
        slice_margins = margins.filter(**dict(zip(keys, key, strict=True)))
        origins = sorted(cells["origin"].unique().to_list())
        destinations = sorted(cells["destination"].unique().to_list())
        entries = [
            (o, d, s) for o, d, s in cells.select("origin", "destination", "suppressed").rows()
        ]
        for row in slice_margins.iter_rows(named=True):
            entries.append((row["origin"] or "*", row["destination"] or "*", row["suppressed"]))
        unknown = [(o, d) for o, d, s in entries if s]
        if not unknown:
            continue
        lines = [("r", o) for o in [*origins, "*"]] + [("c", d) for d in [*destinations, "*"]]
        equations = np.zeros((len(lines), len(unknown)))
        for j, (o, d) in enumerate(unknown):
            equations[lines.index(("r", o)), j] = 1.0
            equations[lines.index(("c", d)), j] = 1.0
        rank = np.linalg.matrix_rank(equations)
        for j, cell in enumerate(unknown):
            probe = np.vstack([equations, np.eye(len(unknown))[j]])
            if np.linalg.matrix_rank(probe) == rank:
                found.append((key, cell))
    return found


def test_the_rules_by_hand() -> None:
    panel = panel_of(
        [
            ("USA", "MEX", 1000.0, 25, 100.0, 90.0),  # published
            ("USA", "GTM", 800.0, 9, 200.0, 150.0),  # 9 senders < 10
            ("USA", "SLV", 700.0, 40, 500.0, 100.0),  # top two hold 600/700 = 86% > 85%
            ("CAN", "MEX", 600.0, 30, 300.0, 209.0),  # 509/600 = 84.8%: published
            ("CAN", "GTM", 900.0, 50, 10.0, 10.0),
            ("CAN", "SLV", 1200.0, 60, 10.0, 10.0),
        ]
    )
    safe = suppress_small_cells(panel)
    reasons = dict(
        zip(
            safe.cells.select(pl.concat_str("origin", "destination")).to_series(),
            safe.cells["reason"].cast(pl.String),
            strict=True,
        )
    )
    assert reasons["USAGTM"] == "senders"
    assert reasons["USASLV"] == "dominance"
    assert reasons["CANMEX"] != "dominance"
    # two sensitive cells in the USA row: their sum is the USA total minus MEX, so each
    # needs a partner in its column: the cheapest with at least its amount is in CAN
    assert reasons["CANGTM"] == "secondary" and reasons["CANSLV"] == "secondary"
    assert safe.panel.filter("suppressed")["amount_usd"].null_count() == 4
    published = safe.panel.filter(~pl.col("suppressed"))
    assert sorted(published["amount_usd"].to_list()) == [600.0, 1000.0]
    assert "sender_top1_usd" not in safe.panel.columns
    assert recoverable(safe.panel, safe.margins, ["period"]) == []
    summary = {(t, r): n for t, r, n in safe.summary.select("table", "reason", "n_cells").rows()}
    assert summary[("cells", "senders")] == 1 and summary[("cells", "secondary")] == 2


def test_a_lone_sensitive_cell_in_its_row_takes_the_totals() -> None:
    # USA sends only to MEX, and that cell is sensitive: the USA total equals it, so
    # the totals must be withheld too
    panel = panel_of(
        [
            ("USA", "MEX", 50.0, 2, 30.0, 20.0),
            ("CAN", "MEX", 500.0, 20, 10.0, 10.0),
            ("CAN", "GTM", 400.0, 20, 10.0, 10.0),
        ]
    )
    safe = suppress_small_cells(panel)
    withheld = safe.margins.filter("suppressed")
    assert withheld.height >= 2
    assert recoverable(safe.panel, safe.margins, ["period"]) == []
    # what is published still adds up to what is published of the totals
    usa = safe.margins.filter(pl.col("origin") == "USA", pl.col("destination").is_null())
    assert usa["suppressed"].item()


def test_nothing_sensitive_nothing_withheld() -> None:
    panel = panel_of([("USA", "MEX", 100.0, 12, 10.0, 10.0), ("CAN", "MEX", 90.0, 15, 5.0, 5.0)])
    safe = suppress_small_cells(panel)
    assert safe.n_suppressed == 0
    assert safe.panel["amount_usd"].to_list() == [100.0, 90.0]
    assert safe.margins["amount_usd"].null_count() == 0
    totals = safe.margins.filter(pl.col("origin").is_null(), pl.col("destination").is_null())
    assert totals["amount_usd"].item() == 190.0


def test_errors_name_the_fix() -> None:
    panel = panel_of([("USA", "MEX", 100.0, 12, 10.0, 10.0)])
    with pytest.raises(MissingColumnError, match="'senders'"):
        suppress_small_cells(panel.drop("n_senders"))
    with pytest.raises(MissingColumnError, match="dominance=None"):
        suppress_small_cells(panel.drop("sender_top2_usd"))
    one_top = panel.drop("sender_top2_usd")
    assert suppress_small_cells(one_top, dominance=(1, 0.9), p_rule=None).n_suppressed == 0
    with pytest.raises(ParameterError, match="not a percentage"):
        suppress_small_cells(panel, dominance=(2, 85))
    with pytest.raises(ParameterError, match="min_senders"):
        suppress_small_cells(panel, min_senders=0)
    with pytest.raises(SchemaError, match="more than one row"):
        suppress_small_cells(pl.concat([panel, panel]))
    with pytest.raises(SchemaError, match="negative"):
        suppress_small_cells(panel.with_columns(amount_usd=pl.lit(-1.0)))


def test_the_sample_panel_end_to_end() -> None:
    flows = fl.load_flows(fl.load_sample("flows")).clean
    panel = fl.corridor_panel(
        flows, freq="quarter", stats=("sum", "count", "senders", "top_senders")
    )
    safe = fl.suppress_small_cells(panel, min_senders=3)
    # the rules, recomputed from the transactions themselves
    per_sender = flows.group_by(
        pl.col("date").dt.truncate("1q").alias("period"),
        "origin",
        "destination",
        "flow_type",
        "sender_id",
    ).agg(pl.col("amount_usd").sum())  # fmt: skip
    truth = per_sender.group_by("period", "origin", "destination", "flow_type").agg(
        n=pl.len(),
        share=pl.col("amount_usd").sort(descending=True).head(2).sum() / pl.col("amount_usd").sum(),
    )
    keys = ["period", "origin", "destination", "flow_type"]
    both = panel.join(truth, on=keys)
    assert (both["n"] == both["n_senders"]).all()
    top_two = (both["sender_top1_usd"] + both["sender_top2_usd"]) / both["amount_usd"]
    assert np.allclose(top_two, both["share"], rtol=1e-12)
    sensitive = truth.filter((pl.col("n") < 3) | (pl.col("share") > 0.85)).height
    primary = safe.cells.filter(pl.col("reason").is_in(["senders", "dominance"])).height
    assert primary == sensitive
    assert recoverable(safe.panel, safe.margins, ["period", "flow_type"]) == []
    published = safe.panel.filter(~pl.col("suppressed"))
    original = panel.join(published.select("period", "origin", "destination", "flow_type"),
                          on=["period", "origin", "destination", "flow_type"])  # fmt: skip
    assert published["amount_usd"].sum() == pytest.approx(original["amount_usd"].sum())
    withheld = safe.summary.filter(pl.col("table") == "cells")["amount_usd"].sum()
    assert withheld == pytest.approx(panel["amount_usd"].sum())


cell = st.tuples(
    st.integers(1, 30),  # senders
    st.floats(1.0, 1000.0),  # amount
    st.floats(0.0, 1.0),  # top-two share
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(0, 1), st.sampled_from("ABCDE"), st.sampled_from("VWXYZ")),
        cell,
        min_size=1,
        max_size=30,
    )
)
def test_no_withheld_value_can_be_worked_out(cells: dict) -> None:
    rows = [
        {
            "period": JAN.replace(month=1 + s),
            "origin": o,
            "destination": d,
            "amount_usd": a,
            "n_senders": n,
            "sender_top1_usd": a * share / 2,
            "sender_top2_usd": a * share / 2,
        }
        for (s, o, d), (n, a, share) in cells.items()
    ]
    panel = pl.DataFrame(rows)
    safe = suppress_small_cells(panel)
    assert recoverable(safe.panel, safe.margins, ["period"]) == []
    sensitive = panel.filter(
        (pl.col("n_senders") < 10)
        | (pl.col("sender_top1_usd") + pl.col("sender_top2_usd") > 0.85 * pl.col("amount_usd"))
    )
    hidden = safe.panel.filter("suppressed")
    assert sensitive.join(hidden, on=["period", "origin", "destination"], how="anti").is_empty()
    shown = safe.panel.filter(~pl.col("suppressed")).join(
        panel, on=["period", "origin", "destination"], suffix="_in"
    )
    assert (shown["amount_usd"] == shown["amount_usd_in"]).all()


def test_an_empty_panel_and_a_lone_cell() -> None:
    lone = panel_of([("USA", "MEX", 5.0, 2, 3.0, 2.0)])
    safe = suppress_small_cells(lone)
    # one cell equals its row, column and grand totals: all four are withheld
    assert safe.panel["suppressed"].to_list() == [True]
    assert safe.margins["suppressed"].to_list() == [True, True, True]
    empty = suppress_small_cells(lone.clear())
    assert empty.panel.is_empty() and empty.margins.is_empty()
    assert empty.summary["share_of_amount"].null_count() == empty.summary.height


@pytest.mark.parametrize("kind", ["eager", "lazy", "arrow", "pandas"])
def test_every_input_kind_gives_the_same_suppression(kind: str) -> None:
    panel = panel_of(
        [
            ("USA", "MEX", 1000.0, 40, 50.0, 40.0),
            ("USA", "GTM", 300.0, 3, 100.0, 90.0),
            ("GBR", "MEX", 900.0, 30, 60.0, 50.0),
            ("GBR", "GTM", 800.0, 25, 70.0, 60.0),
        ]
    )
    expected = suppress_small_cells(panel)
    got = suppress_small_cells(as_kind(panel, kind))
    assert got.panel.equals(expected.panel)
    assert got.summary.equals(expected.summary)
