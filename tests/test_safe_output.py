"""Safe output: formula escaping in CSV and Excel, and small-cell suppression by default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl
from flowlens.cli import main
from flowlens.errors import (
    DisclosureWarning,
    MissingColumnError,
    ParameterError,
    SuppressionNotice,
)
from flowlens.export import FORMULA_PREFIXES, write_frame

from .conftest import as_kind

DANGEROUS = [f"{p}cmd|' /C calc'!A0" for p in FORMULA_PREFIXES]


def test_csv_and_excel_escape_formulas(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "text": [*DANGEROUS, "a=b", "plain"],
            "code": pl.Series([*DANGEROUS, "a=b", "plain"]).cast(pl.Categorical),
            "amount": [-1.5] * (len(DANGEROUS) + 2),
        }
    )
    expected = [f"'{v}" for v in DANGEROUS] + ["a=b", "plain"]
    csv = pl.read_csv(write_frame(frame, tmp_path / "out.csv"))
    assert csv["text"].to_list() == expected
    assert csv["code"].to_list() == expected
    assert csv["amount"].to_list() == frame["amount"].to_list()  # numbers stay numbers
    tsv = pl.read_csv(write_frame(frame, tmp_path / "out.tsv"), separator="\t")
    assert tsv["text"].to_list() == expected
    excel = pl.read_excel(write_frame(frame, tmp_path / "out.xlsx"))
    assert excel["text"].to_list() == expected
    parquet = pl.read_parquet(write_frame(frame, tmp_path / "out.parquet"))
    assert parquet["text"].to_list() == frame["text"].to_list()  # Parquet keeps values
    with pytest.raises(ParameterError, match=r"\.xlsx"):
        write_frame(frame, tmp_path / "out.json")


def sender_panel() -> pl.DataFrame:
    flows = fl.load_flows(fl.load_sample("flows")).clean
    panel = fl.corridor_panel(flows, freq="year", stats=("sum", "senders", "top_senders"))
    assert isinstance(panel, pl.DataFrame)
    return panel


def test_writers_suppress_sender_level_panels_by_default(tmp_path: Path) -> None:
    panel = sender_panel()
    expected_safe = fl.suppress_small_cells(panel)
    # the writer says in one line what it withheld, and where to see why
    with pytest.warns(SuppressionNotice, match=r"withheld \d+ of \d+ cells .*% of the amount"):
        written = pl.read_parquet(write_frame(panel, tmp_path / "panel.parquet"))
    expected = expected_safe.panel
    assert written.equals(expected)
    assert not {"sender_top1_usd", "sender_top2_usd"} & set(written.columns)
    published = written.filter(~pl.col("suppressed"))
    assert published.height == 0 or published["n_senders"].min() >= 10  # type: ignore[operator]
    with pytest.raises(MissingColumnError, match="unsafe=True"):
        write_frame(panel.drop("sender_top1_usd", "sender_top2_usd", "sender_top3_usd"),
                    tmp_path / "x.csv")  # fmt: skip
    with pytest.warns(DisclosureWarning, match="do not publish"):
        raw = pl.read_parquet(write_frame(panel, tmp_path / "raw.parquet", unsafe=True))
    assert raw.equals(panel)
    # a frame without sender-level columns is written as it is, without a warning
    plain = panel.drop("n_senders", "sender_top1_usd", "sender_top2_usd", "sender_top3_usd")
    assert pl.read_parquet(write_frame(plain, tmp_path / "plain.parquet")).equals(plain)


def flows_with_senders(tmp_path: Path) -> Path:
    rows = [
        {
            "date": dt.date(2024, 1, 1 + i % 28),
            "origin": "USA",
            "destination": "MEX" if i < 60 else "GTM",
            "flow_type": "remittance",
            "amount": 100.0 + i,
            "currency": "USD",
            "sender_id": f"S{i % (30 if i < 60 else 3)}",
        }
        for i in range(66)
    ]
    path = tmp_path / "flows.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def test_cli_panel_suppresses_when_sender_ids_are_present(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_with_senders(tmp_path)
    out, margins = tmp_path / "panel.csv", tmp_path / "margins.csv"
    assert main(["panel", str(source), "--out", str(out), "--margins", str(margins)]) == 0
    said = capsys.readouterr().out
    assert "small-cell suppression" in said and "cells withheld" in said
    panel = pl.read_csv(out)
    # GTM has 3 senders: withheld; MEX alone in the row would then equal the USA total
    # minus nothing published, so the totals it would reveal GTM through are withheld
    gtm = panel.filter(pl.col("destination") == "GTM")
    assert gtm["suppressed"].item() and gtm["amount_usd"].is_null().item()
    totals = pl.read_csv(margins)
    assert totals.filter("suppressed").height >= 1
    assert main(["panel", str(source), "--out", str(out), "--unsafe", "--force"]) == 0
    captured = capsys.readouterr()
    assert "--unsafe" in captured.err and "do not publish" in captured.err
    assert pl.read_csv(out)["amount_usd"].null_count() == 0
    assert main(["panel", str(source), "--out", str(out), "--dominance", "2;0.85"]) == 2
    assert "--dominance takes N,K" in capsys.readouterr().err


def test_cli_rejects_file_escapes_formulas(tmp_path: Path) -> None:
    source = tmp_path / "evil.csv"
    source.write_text(
        "date,origin,destination,flow_type,amount,currency\n"
        "2024-01-02,USA,MEX,remittance,10,USD\n"
        '2024-01-02,"=HYPERLINK(""http://x"")",MEX,remittance,10,USD\n',
        encoding="utf-8",
    )
    assert main(["validate", str(source), "--out-dir", str(tmp_path)]) == 0
    rejects = pl.read_csv(tmp_path / "evil.rejects.csv")
    assert rejects["origin"].to_list() == ['\'=HYPERLINK("http://x")']


@pytest.mark.parametrize("kind", ["eager", "lazy", "arrow", "pandas"])
def test_any_table_kind_is_written(tmp_path: Path, kind: str) -> None:
    frame = pl.DataFrame({"note": ["=1+1", "ok"], "n": [1, 2]})
    written = pl.read_csv(write_frame(as_kind(frame, kind), tmp_path / "out.csv"))
    assert written.rows() == [("'=1+1", 1), ("ok", 2)]


def test_sender_level_columns_in_another_case_are_still_suppressed(tmp_path: Path) -> None:
    """Renaming n_senders to N_Senders must not smuggle a panel past suppression."""
    report = fl.load_flows(fl.load_sample("flows"))
    panel = fl.corridor_panel(report, freq="year", stats=("sum", "count", "senders", "top_senders"))
    upper = panel.rename({c: c.upper() for c in ("n_senders", *fl.schema.TOP_SENDER_COLUMNS)})
    with pytest.warns(SuppressionNotice):
        path = fl.write_frame(upper, tmp_path / "x.csv")
    written = pl.read_csv(path)
    expected = fl.suppress_small_cells(panel).panel
    assert written["amount_usd"].null_count() == expected["amount_usd"].null_count() > 0
    assert not any(c.lower().startswith("sender_top") for c in written.columns)
