"""The compiled secondary suppression: its cycles checked by brute force, bridges against networkx."""

from __future__ import annotations

import datetime as dt
import itertools

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from flowlens.errors import SchemaError
from flowlens.privacy import _suppress, suppress_small_cells
from flowlens.privacy._kernel import bridges, protect

JAN = dt.date(2024, 1, 1)
TOTAL = -1


def augmented(cells: dict[tuple[int, int], float]) -> tuple[list[tuple[int, int]], list[float]]:
    """One slice's entries: its cells, then the row, column and grand totals (by hand)."""
    keys = sorted(cells)
    rows = sorted({r for r, _ in keys})
    columns = sorted({c for _, c in keys})
    entries = [*keys]
    values = [cells[k] for k in keys]
    for r in rows:
        entries.append((r, TOTAL))
        values.append(sum(v for (i, _), v in cells.items() if i == r))
    for c in columns:
        entries.append((TOTAL, c))
        values.append(sum(v for (_, j), v in cells.items() if j == c))
    entries.append((TOTAL, TOTAL))
    values.append(sum(cells.values()))
    return entries, values


def protecting_cycle(
    target: tuple[int, int],
    x: float,
    held: dict[tuple[int, int], float],
    levels: tuple[float, float],
) -> bool:
    """Is the target on a cycle of four withheld entries that leaves it its interval?

    Brute force over every row partner and column partner, with the rules written out:
    moving ``t`` around the cycle puts ``+t`` on the target and the corner and ``-t``
    on the partners, in the augmented table's signs (a total enters its line negated).
    """
    lower, upper = levels
    tr, tc = target

    def margin(r: int, c: int) -> bool:
        return (r == TOTAL) != (c == TOTAL)

    def can_give(key: tuple[int, int], amount: float) -> bool:  # its signed value falls
        return margin(*key) or held[key] >= amount

    def can_take(key: tuple[int, int], amount: float) -> bool:  # its signed value grows
        return not margin(*key) or held[key] >= amount

    row_partners = [(r, c) for r, c in held if r == tr and c != tc]
    column_partners = [(r, c) for r, c in held if c == tc and r != tr]
    for (_, pc), (pr, _) in itertools.product(row_partners, column_partners):
        corner = (pr, pc)
        if corner not in held:
            continue
        partners_ok = all(
            can_give(p, x * upper) and can_take(p, x * lower) for p in ((tr, pc), (pr, tc))
        )
        if partners_ok and can_take(corner, x * upper) and can_give(corner, x * lower):
            return True
    return False


table = st.dictionaries(
    st.tuples(st.integers(0, 4), st.integers(0, 5)),
    st.tuples(st.floats(0.0, 1e6), st.booleans()),
    min_size=1,
    max_size=24,
)


@settings(max_examples=80, deadline=None)
@given(table, st.sampled_from([(0.10, 0.10), (0.25, 0.10), (0.10, 1.0), (1.0, 0.5)]))
def test_every_sensitive_entry_gets_a_protecting_cycle(
    cells: dict[tuple[int, int], tuple[float, bool]], levels: tuple[float, float]
) -> None:
    entries, values = augmented({k: v for k, (v, _) in cells.items()})
    sensitive = [k in cells and cells[k][1] for k in entries]
    # the kernel's order: sensitive first, largest first
    order = sorted(range(len(entries)), key=lambda i: (not sensitive[i], -values[i], entries[i]))
    rows = np.array([entries[i][0] for i in order], dtype=np.int64)
    columns = np.array([entries[i][1] for i in order], dtype=np.int64)
    value = np.array([values[i] for i in order])
    primary = np.array([sensitive[i] for i in order])
    withheld, found = protect(np.array([0, len(order)]), rows, columns, value, primary, levels)
    assert bool(found.all())
    assert bool(withheld[primary].all())
    held = {
        (int(r), int(c)): float(v)
        for r, c, v, w in zip(rows, columns, value, withheld, strict=True)
        if w
    }
    for r, c, v, p in zip(rows, columns, value, primary, strict=True):
        if p:
            assert protecting_cycle((int(r), int(c)), float(v), held, levels), (r, c, v, held)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=30))
def test_bridges_are_networkx_bridges(edges: set[tuple[int, int]]) -> None:
    simple = sorted({(min(a, b), max(a, b)) for a, b in edges if a != b})
    tail = np.array([a for a, _ in simple], dtype=np.int64)
    head = np.array([b for _, b in simple], dtype=np.int64)
    found = bridges(10, tail, head)
    graph = nx.Graph()
    graph.add_nodes_from(range(10))
    graph.add_edges_from(simple)
    expected = {tuple(sorted(e)) for e in nx.bridges(graph)}
    assert {e for e, b in zip(simple, found, strict=True) if b} == expected


def panel_of(rows: list[tuple[str, str, float, int]]) -> pl.DataFrame:
    """(origin, destination, amount, n_senders) -> a one-period panel."""
    return pl.DataFrame(
        {
            "period": [JAN] * len(rows),
            "origin": [r[0] for r in rows],
            "destination": [r[1] for r in rows],
            "amount_usd": [r[2] for r in rows],
            "n_senders": [r[3] for r in rows],
        }
    )


def test_a_partner_withheld_for_one_cell_protects_the_next_for_free() -> None:
    # USA->GTM (100) and USA->MEX (100) are sensitive. The first protected takes the
    # other as its row partner (free) and CAN's two cells (1,000 + 1,000, the cheapest
    # cycle: the GTM and MEX totals would cost 2,200); the second then has a cycle of
    # withheld cells only, so nothing more is withheld and SLV stays published
    panel = panel_of(
        [
            ("USA", "MEX", 100.0, 2),
            ("USA", "GTM", 100.0, 2),
            ("USA", "SLV", 5000.0, 40),
            ("CAN", "MEX", 1000.0, 30),
            ("CAN", "GTM", 1000.0, 30),
            ("CAN", "SLV", 4000.0, 30),
        ]
    )
    safe = suppress_small_cells(panel, dominance=None, p_rule=None, audit=True)
    withheld = safe.panel.filter("suppressed").select("origin", "destination").rows()
    assert sorted(withheld) == [("CAN", "GTM"), ("CAN", "MEX"), ("USA", "GTM"), ("USA", "MEX")]
    assert not safe.margins["suppressed"].any()
    assert safe.audit is not None and bool(safe.audit["ok"].all())


cell = st.tuples(st.integers(1, 30), st.floats(1.0, 1e6))


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(0, 1), st.sampled_from("ABCDE"), st.sampled_from("VWXYZ")),
        cell,
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_row_order_does_not_matter(cells: dict, random: object) -> None:
    rows = [(s, o, d, a, n) for (s, o, d), (n, a) in cells.items()]
    shuffled = list(rows)
    random.shuffle(shuffled)  # type: ignore[attr-defined]

    def frame(items: list[tuple]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "period": [JAN.replace(month=1 + r[0]) for r in items],
                "origin": [r[1] for r in items],
                "destination": [r[2] for r in items],
                "amount_usd": [r[3] for r in items],
                "n_senders": [r[4] for r in items],
            }
        )

    keys = ["period", "origin", "destination"]
    one = suppress_small_cells(frame(rows), dominance=None, p_rule=None)
    other = suppress_small_cells(frame(shuffled), dominance=None, p_rule=None)
    assert one.panel.sort(keys).equals(other.panel.sort(keys))
    # the totals are sums in another order: equal to the last bits, the same withheld
    margins = [m.sort(keys, nulls_last=True) for m in (one.margins, other.margins)]
    assert_frame_equal(*margins, check_exact=False, rel_tol=1e-12)


def test_a_slice_too_large_for_a_dense_table_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = panel_of([("USA", "MEX", 10.0, 2), ("CAN", "MEX", 20.0, 30), ("CAN", "GTM", 5.0, 30)])
    monkeypatch.setattr(_suppress, "DENSE_LIMIT", 8)  # 3 x 3 with the totals
    with pytest.raises(SchemaError, match=r"2 origins and 2 destinations.*split the panel"):
        suppress_small_cells(panel, dominance=None, p_rule=None)


@pytest.mark.slow
def test_large_synthetic_slices_pass_the_audit() -> None:
    # slices of a month x corridor x flow-type panel as large as the benchmark's (about
    # 1,400 cells, 35 origins): every sensitive cell keeps its interval under the LP audit
    import flowlens as fl

    flows = fl.load_flows(fl.synth.generate(300_000, seed=5).flows).clean
    panel = fl.corridor_panel(flows, stats=("sum", "count", "senders", "top_senders"))
    largest = panel.group_by("period", "flow_type").len().sort("len", "period").tail(1)
    one = panel.join(largest.drop("len"), on=["period", "flow_type"])
    assert one.height > 500
    for kwargs in ({}, {"min_senders": 3, "protection": (0.10, 1.0)}):
        safe = suppress_small_cells(one, audit=True, **kwargs)
        assert safe.audit is not None and bool(safe.audit["ok"].all())
        assert safe.audit["required_lower"].is_not_null().sum() > 100
