"""Compile flowlens' numba kernels once, before the test workers start (see conftest.py).

    python tests/_warm_kernels.py surge     # the forecast and rolling kernels
    python tests/_warm_kernels.py others    # informal channels, suppression, senders

A fresh checkout has no numba cache: every test worker would compile each kernel it
meets on its own (the forecast kernel alone takes 15-20 s of processor time). Two
processes, one per group, compile each kernel once and write the cache the workers
then load. Each call is a small public call that reaches a kernel with the types the
tests use; an error here is not the tests' business (they report it themselves).
"""

from __future__ import annotations

import datetime as dt
import sys

import polars as pl


def surge() -> None:
    import flowlens as fl
    from flowlens.surge import level_shifts

    months = pl.date_range(dt.date(2015, 1, 1), dt.date(2019, 12, 1), "1mo", eager=True)
    level = [100.0 + (i % 3) + (i % 12) for i in range(36)] + [40.0 + (i % 3) for i in range(24)]
    panel = pl.DataFrame({"period": months, "destination": "MEX", "amount_usd": level})
    fl.detect_surges(panel, by=["destination"])
    level_shifts(fl.detect_surges(panel, by=["destination"], method="rolling"))


def others() -> None:
    import flowlens as fl
    from flowlens.informal import baseline_from_costs, estimate_informal

    quarters = pl.date_range(dt.date(2015, 1, 1), dt.date(2015, 10, 1), "1q", eager=True)
    flows = pl.DataFrame(
        {"period": quarters, "origin": "USA", "destination": "SOM", "amount_usd": 54e6}
    )
    costs = pl.DataFrame({"origin": ["USA"], "destination": ["SOM"], "cost_pct": [7.0]})
    estimate_informal(flows, baseline=baseline_from_costs(flows, costs), draws=50)
    panel = pl.DataFrame(
        {
            "period": [dt.date(2024, 1, 1)] * 4,
            "origin": ["USA", "USA", "CAN", "CAN"],
            "destination": ["MEX", "GTM", "MEX", "GTM"],
            "amount_usd": [900.0, 80.0, 500.0, 400.0],
            "n_senders": [40, 3, 25, 30],
        }
    )
    fl.suppress_small_cells(panel, dominance=None, p_rule=None)
    flows = fl.synth.generate(2_000, seed=1).flows.lazy()  # the spilled path: lazy input
    fl.corridor_panel(flows, stats=("sum", "count", "senders", "top_senders")).collect()


if __name__ == "__main__":
    {"surge": surge, "others": others}[sys.argv[1]]()
