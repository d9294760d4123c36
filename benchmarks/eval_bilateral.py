"""Bilateral allocation rules against the World Bank's matrices and Banco de Mexico's records.

    python benchmarks/eval_bilateral.py [--data DIR] [--out FILE]

Real data (``--data``, default ``../shared/data/real/`` beside the checkout, else
``data/samples/real/``): the World Bank/KNOMAD bilateral remittance matrices of 2017
and 2021 and migrant-stock matrices of 2017 and 2021, WDI GNI per capita (bundled
with flowlens), Banco de Mexico's quarterly inflows by sending country, and KNOMAD's
annual outflows.

1. Reproducing a published matrix: each vintage's own column totals (receipts per
   receiving country) allocated with that vintage's migrant stocks and incomes of
   the year (2021: the latest GNI within 5 years, 2020 or 2019), by each rule;
   per receiving country the mean absolute share error over the matrix's top-10
   senders and the total variation distance (half the sum of absolute share gaps).
2. Mexico 2017 against Banco de Mexico: each rule on the recorded total, the World
   Bank matrix, and last year's recorded shares, through ``compare_bilateral``
   (the ``No Identificado`` bucket declared): mean absolute share error over the
   top-10 recorded senders and the share placed on senders Banco de Mexico does not
   name.
3. Both margins: the 2017 default allocation fitted by RAS to KNOMAD's 2017 outflows.

Writes ``benchmarks/results/bilateral_eval.md`` and, per receiving country,
``benchmarks/results/bilateral_eval_receivers.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

import flowlens as fl
from flowlens.bilateral import BilateralComparison, compare_bilateral, estimate_bilateral

ROOT = Path(__file__).resolve().parents[1]
RULES = ("stock", "stock_host_income", "stock_income")
VINTAGES = {
    2017: ("wb_bilateral_remittance_2017.xlsx", "wb_bilateral_migrant_stock_2017.xlsx"),
    2021: (
        "knomad_bilateral_remittance_2021_dec2022.xlsx",
        "knomad_bilateral_migrant_stock_2021_dec2022.xlsx",
    ),
}
BANXICO = "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv"


def data_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    shared = ROOT.parent / "shared" / "data" / "real"
    return shared if shared.exists() else ROOT / "data" / "samples" / "real"


def reproduce(data: Path, year: int) -> tuple[pl.DataFrame, dict[str, int]]:
    """Per receiver and rule: top-10 mean absolute share error and total variation."""
    matrix_file, stock_file = VINTAGES[year]
    matrix = fl.read_wb_bilateral_matrix(data / matrix_file).panel.select(
        pl.col("origin", "destination").cast(pl.String), "amount_usd"
    )
    stock = fl.read_wb_migrant_stock(data / stock_file).panel
    totals = matrix.group_by("destination").agg(pl.col("amount_usd").sum())
    totals = totals.filter(pl.col("amount_usd") > 0)
    published = matrix.with_columns(
        wb=pl.col("amount_usd") / pl.col("amount_usd").sum().over("destination")
    ).select("origin", "destination", "wb")
    rows, unweighted = [], {}
    for rule in RULES:
        est = estimate_bilateral(totals, stock, rule=rule, year=year)
        unweighted[rule] = est.unweighted.height
        flows = est.flows.filter(pl.col("origin").is_not_null()).select(
            "origin", "destination", est_share="share"
        )
        joined = (
            published.join(flows, on=["origin", "destination"], how="full", coalesce=True)
            .fill_null(0.0)
            .join(totals, on="destination", how="semi")
            .with_columns(gap=(pl.col("est_share") - pl.col("wb")).abs())
        )
        rows.append(
            joined.group_by("destination").agg(
                rule=pl.lit(rule),
                top10=pl.col("gap").sort_by("wb", descending=True).head(10).mean(),
                tv=pl.col("gap").sum() / 2,
            )
        )
    per = pl.concat(rows).join(totals, on="destination").with_columns(year=pl.lit(year))
    return per, unweighted


def mexico(data: Path) -> list[tuple[str, BilateralComparison]]:
    banxico = fl.read_banxico_quarterly_by_country(data / BANXICO)
    stock = fl.read_wb_migrant_stock(data / VINTAGES[2017][1]).panel
    recorded_2017 = compare_bilateral(
        pl.DataFrame({"origin": ["USA"], "destination": ["MEX"], "amount_usd": [1.0]}),
        banxico,
        year=2017,
    ).summary
    named = recorded_2017["recorded_named_usd"].item()
    total = pl.DataFrame({"destination": ["MEX"], "amount_usd": [named]})
    out = []
    for rule in RULES:
        est = estimate_bilateral(total, stock, rule=rule, year=2017)
        out.append((f"rule `{rule}`", compare_bilateral(est.flows, banxico, year=2017)))
    matrix = fl.read_wb_bilateral_matrix(data / VINTAGES[2017][0]).panel
    out.append(("World Bank matrix 2017", compare_bilateral(matrix, banxico, year=2017)))
    last = (
        banxico.panel.filter(pl.col("period").dt.year() == 2016, pl.col("destination") == "MEX")
        .group_by("origin", "destination")
        .agg(weight=pl.col("amount_usd").sum())
    )
    est = estimate_bilateral(total, rule="weights", weights=last, year=2017)
    out.append(("Banco de Mexico's 2016 shares", compare_bilateral(est.flows, banxico, year=2017)))
    return out


def both_margins(data: Path) -> fl.bilateral.BilateralEstimate:
    matrix = fl.read_wb_bilateral_matrix(data / VINTAGES[2017][0]).panel
    totals = matrix.group_by("destination").agg(pl.col("amount_usd").sum())
    stock = fl.read_wb_migrant_stock(data / VINTAGES[2017][1]).panel
    outflows = fl.read_knomad_annual(data / "knomad_remittance_outflows_2000_2022_june2023.xlsx")
    out = outflows.panel.select("period", "origin", "amount_usd").filter(pl.col("amount_usd") > 0)
    return estimate_bilateral(totals, stock, outflows=out, year=2017)


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def report(data: Path) -> tuple[str, pl.DataFrame]:  # long: the report's three sections
    lines = [
        "## Bilateral allocation: rules against published matrices and recorded flows",
        "",
        "`python benchmarks/eval_bilateral.py` (data: "
        f"`{data.relative_to(ROOT.parent) if data.is_relative_to(ROOT.parent) else data}`).",
        "Incomes: WDI GNI per capita, Atlas method (bundled, vintage 2021-12-16); a gap "
        "is filled from the latest earlier year within 5 years. `stock_income` (the default): "
        "migrants x (max(host, origin income) / origin income) ** 0.2; `stock_host_income`: "
        "migrants x host income (Ratha and Shaw's rule 2); `stock`: migrants (rule 1).",
        "",
        "### 1. Reproducing each vintage's matrix from its own totals, stocks and incomes",
        "",
        "Share error per receiving country (percentage points): mean absolute error over the "
        "matrix's top-10 senders; TV = total variation distance (share of the receiver's "
        "total placed differently). Receivers with a positive total only.",
        "",
        "| vintage | rule | receivers | top-10 error, median | top-10 error, mean | "
        "TV median | TV mean | TV, weighted by receipts | corridors without an income (left out or by stock alone) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    tables = []
    for year in VINTAGES:
        per, unweighted = reproduce(data, year)
        tables.append(per)
        for rule in RULES:
            r = per.filter(rule=rule)
            weighted = (r["tv"] * r["amount_usd"]).sum() / r["amount_usd"].sum()
            lines.append(
                f"| {year} | `{rule}` | {r.height} | {pct(r['top10'].median())} | "
                f"{pct(r['top10'].mean())} | {pct(r['tv'].median())} | {pct(r['tv'].mean())} | "
                f"{pct(weighted)} | {unweighted[rule]} |"
            )
    per_receiver = pl.concat(tables)
    big = (
        per_receiver.filter(rule="stock_income")
        .sort("amount_usd", descending=True)
        .group_by("year", maintain_order=True)
        .head(10)
    )
    lines += [
        "",
        "Largest ten receivers of each vintage, default rule (all receivers and rules: "
        "`bilateral_eval_receivers.csv`):",
        "",
        "| vintage | receiver | receipts (US$ bn) | top-10 error (pts) | TV (%) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['year']} | {r['destination']} | {r['amount_usd'] / 1e9:.1f} | "
        f"{pct(r['top10'])} | {pct(r['tv'])} |"
        for r in big.iter_rows(named=True)
    ]
    lines += [
        "",
        "### 2. Mexico 2017 against Banco de Mexico's records by sending country",
        "",
        "`compare_bilateral(estimate, fl.read_banxico_quarterly_by_country(...), year=2017)`: "
        "recorded shares are of the senders Banco de Mexico names; its `No Identificado` "
        "bucket is declared apart. Each rule allocates the recorded named total.",
        "",
        "| estimate | top-10 error (pts) | USA share gap (pts) | placed outside named senders (%) "
        "| recorded unidentified (%) | largest over | largest under |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, check in mexico(data):
        s = check.summary.row(0, named=True)
        usa = check.corridors.filter(origin="USA")["share_gap"].item()
        lines.append(
            f"| {name} | {pct(s['mae_top'])} | {pct(usa)} | {pct(s['share_outside_named'])} | "
            f"{pct(s['residual_share'])} | {s['largest_over']} ({pct(s['largest_over_gap'])}) | "
            f"{s['largest_under']} ({pct(s['largest_under_gap'])}) |"
        )
    est = both_margins(data)
    assert est.ras is not None
    fit = est.ras.fit.row(0, named=True)
    lines += [
        "",
        "### 3. Both margins: the 2017 default allocation fitted to KNOMAD's 2017 outflows",
        "",
        f"RAS (`estimate_bilateral(..., outflows=...)`): {fit['iterations']} sweeps, converged: "
        f"{fit['converged']}; largest relative gap of a fitted margin: rows "
        f"{fit['max_row_gap']:.1e}, columns {fit['max_column_gap']:.1e}; margins that cannot be "
        f"met: {est.ras.unmet.height}. Cells that moved most (US$ million):",
        "",
        "| sender | receiver | prior | fitted | change | ratio |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['origin']} | {r['destination']} | {r['prior'] / 1e6:,.0f} | "
        f"{r['amount_usd'] / 1e6:,.0f} | {r['change'] / 1e6:+,.0f} | {r['ratio']:.2f} |"
        for r in est.ras.moved.head(10).iter_rows(named=True)
    ]
    lines += [
        "",
        "### Reading these numbers",
        "",
        "- The elasticity 0.2 of `stock_income` was fitted on the 2017 matrix (log of matrix "
        "share over stock share on log host/origin income, within receivers: 0.20 where the host "
        "is richer, 0.02 where poorer); 2017 is in sample, 2021 out of sample (there the same "
        "fit gives 0.17 and -0.02).",
        "- Ratha and Shaw's rule 2 (`stock_host_income`) is far from every published matrix: "
        "the matrices weight income much less than one for one.",
        "- On Mexico the stock rule alone is closer to the records than the default (0.15 against "
        "0.19 points); both beat the World Bank matrix (0.23). Last year's records beat every "
        "rule: where records exist, `estimate_bilateral(records=...)` uses them.",
        "- KNOMAD's outflows and inflows do not describe the same money (sums differ, many "
        "senders have no outflow figure, some outflow totals are far from what the stocks "
        "imply): fitting to both margins converges, but moves cells by large factors. Read the "
        "moved cells as a conflict between the two published margins, not as a correction.",
    ]
    return "\n".join(lines) + "\n", per_receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/bilateral_eval.md")
    args = parser.parse_args()
    text, per_receiver = report(data_dir(args.data))
    args.out.write_text(text, encoding="utf-8")
    per_receiver.select("year", "destination", "rule", "amount_usd", "top10", "tv").sort(
        "year", "destination", "rule"
    ).write_csv(args.out.with_name("bilateral_eval_receivers.csv"), float_precision=6)
    print(text)


if __name__ == "__main__":
    main()
