"""load_flows: every rule, every input kind, and the conservation of rows and totals."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import polars as pl
import polars.selectors as cs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import flowlens as fl
from flowlens.schema import CANONICAL_SCHEMA, COUNTRY_ENUM

from .conftest import INPUT_KINDS, as_kind, collected, raw_flows


def only_reject(report: fl.ValidationReport) -> dict[str, Any]:
    assert report.n_rejected == 1, report.rejects
    row: dict[str, Any] = report.rejects.row(0, named=True)
    return row


# --- one test per rule ------------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["", "nan", "NaN", "inf", "-inf", "0", "-5", "abc", "1,000", None]
)
def test_bad_amounts_are_rejected_naming_the_value(amount: str | None) -> None:
    report = fl.load_flows(raw_flows(amount=["100", amount]))
    row = only_reject(report)
    assert row["row"] == 1
    assert row["rule"] == "amount"
    shown = "<missing>" if amount is None else amount
    hint = " (thousands separators: write 1234.5)" if amount == "1,000" else ""
    assert row["reason"] == f"amount: '{shown}' is not a positive finite number{hint}"
    assert row["amount"] == amount


def test_numeric_amount_column_is_checked_too() -> None:
    frame = raw_flows(amount=[100.0, float("nan")]).with_columns(pl.col("amount").cast(pl.Float64))
    frame = pl.concat(
        [frame, raw_flows(amount=[0.0, -1.0]).with_columns(pl.col("amount").cast(pl.Float64))]
    )
    report = fl.load_flows(frame)
    assert report.rejects["row"].to_list() == [1, 2, 3]
    assert set(report.rejects["rule"]) == {"amount"}


@pytest.mark.parametrize(
    "date", ["2023-13-45", "2023-02-30", "yesterday", "15/01/2024", "", "2024-01-15X"]
)
def test_bad_dates_are_rejected(date: str) -> None:
    row = only_reject(fl.load_flows(raw_flows(date=["2024-01-15", date])))
    assert row["rule"] == "date"
    assert f"'{date}'" in row["reason"]


def test_iso_dates_and_datetimes_are_accepted_as_their_date() -> None:
    stamps = [
        "2024-01-15",
        "2024-01-15T10:30:00",
        "2024-01-15 10:30",
        "2024-01-15T10:30:00.123Z",
        "2024-01-15T23:59:59+05:30",
    ]
    report = fl.load_flows(raw_flows(date=stamps))
    assert report.n_rejected == 0
    assert collected(report.clean)["date"].to_list() == [dt.date(2024, 1, 15)] * 5


def test_datetime_input_keeps_its_dtype() -> None:
    frame = raw_flows().with_columns(
        date=pl.Series([dt.datetime(2024, 1, 15, 9), dt.datetime(2024, 1, 16, 18)])
    )
    clean = collected(fl.load_flows(frame).clean)
    assert clean.schema["date"] == pl.Datetime("us")
    assert clean["amount_usd"].to_list() == [100.0, 200.0]


@pytest.mark.parametrize("column", ["origin", "destination"])
def test_unknown_countries_are_rejected(column: str) -> None:
    report = fl.load_flows(raw_flows(**{column: ["CAN", "Atlantis"]}))
    row = only_reject(report)
    assert row["rule"] == column
    assert row["reason"].startswith(f"{column}: unknown country 'Atlantis'")


def test_country_spellings_map_to_iso3() -> None:
    report = fl.load_flows(
        raw_flows(
            origin=[" usa ", "United Kingdom", "UAE", "Korea, Rep.", "gb"],
            destination=["Pakistan", "Cote d'Ivoire", "IN", "PHL", "United States"],
        )
    )
    clean = collected(report.clean)
    assert clean["origin"].to_list() == ["USA", "GBR", "ARE", "KOR", "GBR"]
    assert clean["destination"].to_list() == ["PAK", "CIV", "IND", "PHL", "USA"]
    assert clean.schema["origin"] == COUNTRY_ENUM


def test_domestic_transfers_are_rejected() -> None:
    row = only_reject(
        fl.load_flows(raw_flows(origin=["USA", "PAK"], destination=["MEX", "Pakistan"]))
    )
    assert row["rule"] == "domestic"
    assert "('PAK')" in row["reason"]


def test_flow_type_is_case_insensitive_and_lists_allowed_values() -> None:
    report = fl.load_flows(
        raw_flows(flow_type=["Remittance", " PHILANTHROPY", "Trade_Investment", "gift"])
    )
    assert collected(report.clean)["flow_type"].to_list() == [
        "remittance",
        "philanthropy",
        "trade_investment",
    ]
    row = only_reject(report)
    assert (
        row["reason"]
        == "flow_type: 'gift' is not one of remittance, philanthropy, trade_investment"
    )


def test_channel_missing_means_unknown_and_bad_values_are_rejected() -> None:
    report = fl.load_flows(raw_flows(channel=["MTO", None, "", "hawala"]))
    assert collected(report.clean)["channel"].to_list() == ["mto", "unknown", "unknown"]
    row = only_reject(report)
    assert row["rule"] == "channel"
    assert (
        "'hawala' is not one of bank, mto, mobile_money, post, informal, cash_carry, unknown"
        in row["reason"]
    )


def test_absent_channel_column_means_unknown() -> None:
    clean = collected(fl.load_flows(raw_flows()).clean)
    assert clean["channel"].to_list() == ["unknown", "unknown"]


def test_unknown_currency_is_rejected_and_case_is_ignored() -> None:
    report = fl.load_flows(raw_flows(currency=["usd", "XYZ"]))
    row = only_reject(report)
    assert row["rule"] == "currency"
    assert row["reason"] == "currency: 'XYZ' is not an ISO 4217 currency code"


def test_known_currency_without_rate_is_rejected_with_the_date() -> None:
    report = fl.load_flows(raw_flows(currency=["USD", "KES"]))
    row = only_reject(report)
    assert row["rule"] == "fx"
    assert row["reason"].startswith("fx: no FX rate for KES on 2024-01-16")


def test_rate_before_the_fx_table_starts_is_missing() -> None:
    row = only_reject(
        fl.load_flows(raw_flows(date=["2024-01-15", "1998-06-01"], currency=["EUR", "EUR"]))
    )
    assert row["rule"] == "fx"


def test_amount_usd_uses_the_latest_rate_on_or_before_the_date() -> None:
    # 2024-01-13/14 is a weekend: the Friday 2024-01-12 ECB fixing applies (1 EUR = 1.0942 USD).
    report = fl.load_flows(
        raw_flows(
            date=["2024-01-12", "2024-01-14", "2024-01-15"],
            currency=["EUR"] * 3,
            amount=["100"] * 3,
        )
    )
    got = collected(report.clean)["amount_usd"].to_list()
    assert got == pytest.approx([109.42, 109.42, 109.45])


def test_user_fx_table_with_staleness() -> None:
    fx = pl.DataFrame({"date": ["2024-01-01"], "currency": ["KES"], "usd_per_unit": [0.0065]})
    ok = fl.load_flows(raw_flows(currency=["KES", "KES"]), fx=fx, max_fx_staleness_days=31)
    assert collected(ok.clean)["amount_usd"].to_list() == pytest.approx([0.65, 1.3])
    stale = fl.load_flows(raw_flows(currency=["KES", "KES"]), fx=fx, max_fx_staleness_days=7)
    assert stale.n_rejected == 2


def test_bad_user_fx_table_raises() -> None:
    with pytest.raises(fl.ReferenceDataError, match="usd_per_unit"):
        fl.load_flows(
            raw_flows(),
            fx=pl.DataFrame({"date": ["2024-01-01"], "currency": ["USD"], "usd_per_unit": [-1.0]}),
        )
    with pytest.raises(fl.ReferenceDataError, match="'ZZZ'"):
        fl.load_flows(
            raw_flows(),
            fx=pl.DataFrame({"date": ["2024-01-01"], "currency": ["ZZZ"], "usd_per_unit": [1.0]}),
        )
    with pytest.raises(fl.MissingColumnError, match="usd_per_unit"):
        fl.load_flows(
            raw_flows(),
            fx=pl.DataFrame({"date": ["2024-01-01"], "currency": ["USD"], "rate": [1.0]}),
        )


def test_negative_fee_is_rejected_missing_fee_is_fine() -> None:
    report = fl.load_flows(raw_flows(fee=["5", None, "-1"], amount=["100", "100", "100"]))
    row = only_reject(report)
    assert row["rule"] == "fee"
    assert row["reason"] == "fee: '-1' is not a finite number >= 0"
    clean = collected(report.clean)
    assert clean["fee"].to_list() == [5.0, None]
    assert clean["fee_usd"].to_list() == [5.0, None]


def test_numeric_fee_column_checks_like_text() -> None:
    fees = pl.Series([5.0, None, -1.0, float("nan"), float("inf")], dtype=pl.Float64)
    report = fl.load_flows(raw_flows(fee=fees.to_list(), amount=["100"] * 5))
    rejects = report.rejects
    assert rejects["row"].to_list() == [2, 3, 4]
    assert rejects["reason"].to_list() == [
        "fee: '-1.0' is not a finite number >= 0",
        "fee: 'NaN' is not a finite number >= 0",
        "fee: 'inf' is not a finite number >= 0",
    ]
    assert collected(report.clean)["fee"].to_list() == [5.0, None]


def test_duplicate_tx_ids_keep_the_first_occurrence() -> None:
    report = fl.load_flows(
        raw_flows(tx_id=["a", "b", "a", None, None], amount=["1", "2", "3", "4", "5"])
    )
    assert report.rejects["row"].to_list() == [2]
    assert report.rejects["rule"].to_list() == ["duplicate_tx_id"]
    assert collected(report.clean)["tx_id"].to_list() == ["a", "b", None, None]


def test_several_failures_are_all_named_and_rule_is_the_first() -> None:
    report = fl.load_flows(
        raw_flows(date=["2024-01-15", "bad"], amount=["1", "-1"], currency=["USD", "XYZ"])
    )
    row = only_reject(report)
    assert row["rule"] == "date"
    assert row["reason"].count(";") == 2
    assert "amount: '-1'" in row["reason"]
    assert "currency: 'XYZ'" in row["reason"]


# --- columns, errors, strict ---------------------------------------------------------


def test_missing_required_column_names_it_and_suggests_the_closest() -> None:
    frame = raw_flows().rename({"destination": "Destination_Country"})
    with pytest.raises(fl.MissingColumnError) as info:
        fl.load_flows(frame)
    message = str(info.value)
    assert "'destination' is missing" in message
    assert "Destination_Country" in message
    assert "columns={'Destination_Country': 'destination'}" in message


def test_columns_mapping_renames() -> None:
    frame = raw_flows().rename({"origin": "sender_country", "amount": "value"})
    report = fl.load_flows(frame, columns={"sender_country": "origin", "value": "amount"})
    assert report.n_clean == 2
    assert report.rejects.columns[:3] == ["row", "rule", "reason"]


def test_columns_mapping_errors() -> None:
    with pytest.raises(fl.MissingColumnError, match="'nope'"):
        fl.load_flows(raw_flows(), columns={"nope": "origin"})
    with pytest.raises(fl.ParameterError, match="did you mean 'origin'"):
        fl.load_flows(raw_flows(), columns={"origin": "orgin"})
    frame = raw_flows().with_columns(src=pl.col("origin"))
    with pytest.raises(fl.ParameterError, match="both"):
        fl.load_flows(frame, columns={"origin": "origin", "src": "origin"})


def test_strict_raises_with_counts_and_examples() -> None:
    with pytest.raises(fl.ValidationFailedError) as info:
        fl.load_flows(
            raw_flows(amount=["1", "-1", "x"], currency=["USD", "USD", "XYZ"]), strict=True
        )
    assert info.value.counts == {"amount": 2}
    assert [e["row"] for e in info.value.examples] == [1, 2]
    assert "row 1: amount: '-1'" in str(info.value)
    assert fl.load_flows(raw_flows(), strict=True).n_rejected == 0


def test_rejects_keep_raw_values_as_given_even_with_clashing_names() -> None:
    frame = raw_flows(amount=["1", "oops"]).with_columns(reason=pl.lit("user note"), row=pl.lit(7))
    report = fl.load_flows(frame)
    assert report.rejects.columns == [
        "row",
        "rule",
        "reason",
        "date",
        "origin",
        "destination",
        "flow_type",
        "amount",
        "currency",
        "reason_raw",
        "row_raw",
    ]
    assert report.rejects.row(0, named=True)["reason_raw"] == "user note"
    assert "reason" not in collected(report.clean).columns


def test_keep_carries_extra_columns() -> None:
    frame = raw_flows().with_columns(note=pl.Series(["x", "y"]))
    clean = collected(fl.load_flows(frame, keep=["note"]).clean)
    assert clean["note"].to_list() == ["x", "y"]
    with pytest.raises(fl.MissingColumnError):
        fl.load_flows(frame, keep=["nope"])


def test_wrong_dtype_raises_a_schema_error_naming_the_column() -> None:
    frame = raw_flows().with_columns(amount=pl.Series([True, False]))
    with pytest.raises(fl.SchemaError, match="'amount'"):
        fl.load_flows(frame)


def test_unknown_source_type_and_missing_file() -> None:
    with pytest.raises(fl.InputFormatError, match="cannot read a source of type 'list'"):
        fl.load_flows([1, 2, 3])
    with pytest.raises(fl.InputFormatError, match="no such file"):
        fl.load_flows("no/such/file.csv")


def test_empty_and_header_only_csv(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(fl.InputFormatError, match="empty"):
        fl.load_flows(empty)
    header = tmp_path / "header.csv"
    header.write_text("date,origin,destination,flow_type,amount,currency\n")
    report = fl.load_flows(header)
    assert (report.n_rows_in, report.n_clean, report.n_rejected) == (0, 0, 0)


# --- input kinds -------------------------------------------------------------------


def sample_raw() -> pl.DataFrame:
    return fl.load_sample("flows")


@pytest.mark.parametrize("kind", [*INPUT_KINDS, "pandas"])
def test_same_result_for_every_input_kind(kind: str) -> None:
    reference = fl.load_flows(sample_raw())
    report = fl.load_flows(as_kind(sample_raw(), kind))
    assert isinstance(report.clean, pl.LazyFrame) == (kind == "lazy")
    assert collected(report.clean).equals(collected(reference.clean))
    assert report.rejects.equals(reference.rejects)
    assert_frame_equal(report.summary, reference.summary, check_exact=False, rel_tol=1e-12)


def test_csv_and_parquet_paths_and_directories(tmp_path: Path) -> None:
    raw = sample_raw()
    reference = fl.load_flows(raw)
    raw.write_csv(tmp_path / "flows.csv")
    parts = tmp_path / "parts"
    parts.mkdir()
    raw.slice(0, 2000).write_parquet(parts / "a.parquet")
    raw.slice(2000).write_parquet(parts / "b.parquet")
    for source in (tmp_path / "flows.csv", parts, str(parts / "*.parquet")):
        report = fl.load_flows(source)
        assert isinstance(report.clean, pl.LazyFrame)
        assert collected(report.clean).equals(collected(reference.clean)), source
        assert report.rejects["row"].equals(reference.rejects["row"]), source


def test_enum_typed_input_is_mapped_through_its_categories() -> None:
    frame = raw_flows(
        origin=["usa", "Atlantis", "GB"], destination=["MEX", "MEX", "PAK"]
    ).with_columns(
        pl.col("origin").cast(pl.Enum(["usa", "Atlantis", "GB"])),
        pl.col("destination").cast(COUNTRY_ENUM),
    )
    report = fl.load_flows(frame)
    assert collected(report.clean)["origin"].to_list() == ["USA", "GBR"]
    assert report.rejects["row"].to_list() == [1]


def test_clean_follows_the_canonical_schema() -> None:
    clean = collected(fl.load_flows(sample_raw()).clean)
    for name, dtype in clean.schema.items():
        assert CANONICAL_SCHEMA[name] == dtype, name


# --- properties ---------------------------------------------------------------------

CELL = {
    "date": st.sampled_from(
        ["2024-01-15", "2023-06-30", "2024-02-30", "", "2024-01-15T08:00:00", "x"]
    ),
    "origin": st.sampled_from(["USA", "gbr", "United Kingdom", "Atlantis", "MEX", ""]),
    "destination": st.sampled_from(["MEX", "PAK", "Korea, Rep.", "Narnia", "USA"]),
    "flow_type": st.sampled_from(["remittance", "Philanthropy", "gift", "trade_investment"]),
    "amount": st.sampled_from(["100", "0.5", "-3", "0", "abc", "", "1e6", "nan"]),
    "currency": st.sampled_from(["USD", "eur", "GBP", "KES", "XYZ", "SAR"]),
    "tx_id": st.sampled_from(["a", "b", "c", None]),
}


@st.composite
def raw_tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 30))
    return pl.DataFrame(
        {name: [draw(cell) for _ in range(n)] for name, cell in CELL.items()},
        schema=dict.fromkeys(CELL, pl.String),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_tables())
def test_every_row_lands_in_exactly_one_place(raw: pl.DataFrame) -> None:
    report = fl.load_flows(raw)
    clean = collected(report.clean)
    assert report.n_rows_in == raw.height
    assert clean.height + report.rejects.height == raw.height
    assert report.summary["n_rows"].sum() == raw.height
    assert report.rejects["row"].is_unique().all()
    assert (report.rejects["reason"].str.len_chars() > 0).all()
    assert clean["amount_usd"].sum() == pytest.approx(report.clean_amount_usd)
    assert (clean["amount_usd"] > 0).all()


@settings(max_examples=30, deadline=None)
@given(raw_tables(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_what_is_clean(raw: pl.DataFrame, rnd: Any) -> None:
    raw = raw.drop("tx_id")  # with ids, which duplicate is "first" depends on order by design
    order = list(range(raw.height))
    rnd.shuffle(order)
    shuffled = raw[order]
    a = collected(fl.load_flows(raw).clean).sort(pl.all())
    b = collected(fl.load_flows(shuffled).clean).sort(pl.all())
    assert a.equals(b)


def test_row_by_row_mapping_agrees_with_the_distinct_value_mapping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Text code columns are mapped through their distinct values; above a limit, row by row."""
    from flowlens import _checks

    raw = fl.load_sample("flows")
    by_distinct = fl.load_flows(raw)
    monkeypatch.setattr(_checks, "_MAX_DISTINCT", 0)
    by_row = fl.load_flows(raw)
    assert collected(by_row.clean).equals(collected(by_distinct.clean))
    assert by_row.rejects.equals(by_distinct.rejects)


def test_reports_are_immutable_and_collect_returns_a_new_one(tmp_path: Path) -> None:
    import dataclasses

    path = tmp_path / "flows.parquet"
    fl.load_sample("flows").write_parquet(path)
    report = fl.load_flows(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.clean = pl.LazyFrame()  # type: ignore[misc]
    panel, computed = report.collect(fl.corridor_panel(report, freq="year"))
    assert not report.is_computed  # the original is untouched
    assert computed.is_computed and computed is not report
    assert computed.n_rejected == 12
    assert_frame_equal(report.summary, computed.summary)  # computing it later: the same
    assert int(panel["n_transfers"].sum()) == computed.n_clean
    again, same = computed.collect(fl.corridor_panel(computed, freq="year"))
    assert same is computed
    assert_frame_equal(again, panel)


# --- one pass: the rejects taken from the clean rows' pass --------------------------


def _sample_parquet(tmp_path: Path) -> Path:
    """The bundled sample flows written as a Parquet file (read lazily by load_flows)."""
    path = tmp_path / "flows.parquet"
    sample_raw().write_parquet(path)
    return path


def _plans_collected(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many plans each run of the validation module collected side by side."""
    from flowlens._checks import collect_side_by_side as real

    runs: list[int] = []

    def recording(frames: list[pl.LazyFrame]) -> list[pl.DataFrame]:
        runs.append(len(frames))
        return real(frames)

    monkeypatch.setattr("flowlens.validate.collect_side_by_side", recording)
    return runs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_tables())
def test_rejects_seen_on_the_clean_pass_equal_the_in_memory_ones(raw: pl.DataFrame) -> None:
    reference = fl.load_flows(raw)  # in memory: every check run once, no tap
    report = fl.load_flows(raw.lazy())
    counted, computed = report.collect(report.clean.lazy().select(pl.len()))
    assert computed.rejects.equals(reference.rejects)
    assert_frame_equal(computed.summary, reference.summary)
    assert counted.item() == reference.n_clean


def test_a_panel_and_its_rejects_take_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sample_parquet(tmp_path)
    expected = fl.load_flows(sample_raw()).rejects
    runs = _plans_collected(monkeypatch)
    report = fl.load_flows(path)
    for stats in [("sum", "count"), ("sum", "median"), ("count", "senders", "top_senders")]:
        runs.clear()
        _, computed = report.collect(fl.corridor_panel(report, freq="year", stats=stats))
        assert computed.rejects.equals(expected)
        assert computed.n_rejected == 12
        # the panel and the row count side by side; no rejects plan after them
        assert runs[-1:] == [2], (stats, runs)


def test_rejects_asked_for_before_any_pass_run_the_rejects_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sample_parquet(tmp_path)
    expected = fl.load_flows(sample_raw()).rejects
    runs = _plans_collected(monkeypatch)
    report = fl.load_flows(path)
    assert report.rejects.equals(expected)
    assert runs == [1, 1]  # the count, then the rejects plan: no pass had seen the rows


def _seen(tap: Any, rows: range, rejected: set[int]) -> None:
    """Hand ``tap`` a batch holding row positions ``rows``, ``rejected`` failing rule 6."""
    from flowlens._checks import _P, _ROW

    batch = pl.DataFrame(
        {
            **{name: [None] * len(rows) for name in tap._columns},
            _ROW: pl.Series(list(rows), dtype=pl.UInt32),
            _P + "rule": pl.Series([6 if r in rejected else None for r in rows], dtype=pl.UInt8),
        },
        schema=tap._none_rejected.schema,
    )
    tap.see(batch.to_struct())


def test_the_tap_answers_only_for_every_row_seen_once(tmp_path: Path) -> None:
    from flowlens._checks import RejectsTap

    report = fl.load_flows(pl.LazyFrame(raw_flows()))
    tap = RejectsTap(report._plan, pl.LazyFrame(raw_flows()))
    _seen(tap, range(0, 4), {1})
    _seen(tap, range(8, 10), set())
    assert tap.rejects(10) is None  # rows 4-7 not seen
    _seen(tap, range(4, 8), {5, 7})
    assert tap.rejects(12) is None  # the source has two rows more
    assert tap.rejects(10)["row"].to_list() == [1, 5, 7]  # type: ignore[index]
    _seen(tap, range(2, 6), set())  # a new pass, in other batches: the old one is forgotten
    assert tap.rejects(10) is None
    _seen(tap, range(0, 2), {1})
    _seen(tap, range(6, 10), set())
    assert tap.rejects(10)["row"].to_list() == [1]  # type: ignore[index]
    _seen(tap, range(0, 3), set())  # overlaps: a new pass again
    assert tap.rejects(10) is None
    tap.close()
    _seen(tap, range(0, 10), {3})
    assert tap.rejects(10) is None  # closed: keeps nothing
    tap.open()
    assert tap.rejects(0) is not None and tap.rejects(1) is None


def test_rejects_after_clean_was_read_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sample_parquet(tmp_path)
    expected = fl.load_flows(sample_raw())
    report = fl.load_flows(path)
    first = report.clean.lazy().collect(engine="streaming")
    second = report.clean.lazy().collect(engine="in-memory")
    assert first.equals(second)
    runs = _plans_collected(monkeypatch)
    assert report.rejects.equals(expected.rejects)
    assert report.n_clean == first.height == expected.n_clean
    assert runs[0] == 1  # the count; the rejects came from the passes already made


def test_categorical_code_columns_map_like_text(tmp_path: Path) -> None:
    raw = sample_raw()
    codes = ["origin", "destination", "flow_type", "channel", "currency"]
    as_text = fl.load_flows(raw.lazy())
    as_categories = fl.load_flows(raw.lazy().with_columns(pl.col(codes).cast(pl.Categorical)))
    assert collected(as_categories.clean).equals(collected(as_text.clean))
    assert as_categories.rejects.equals(as_text.rejects)


def test_a_csv_spill_keeps_code_text_as_written(tmp_path: Path) -> None:
    raw = raw_flows(origin=["United States", " Atlantis  "], currency=["usd ", "USD"])
    path = tmp_path / "flows.csv"
    raw.write_csv(path)
    report = fl.load_flows(path)
    row = only_reject(report)
    assert row["origin"] == " Atlantis  "
    assert row["currency"] == "USD"
    assert row["rule"] == "origin"
    assert collected(report.clean)["origin"].to_list() == ["USA"]


def test_a_frame_concatenated_from_parts_validates_like_one_part() -> None:
    """AN-74."""
    part = sample_raw().drop("tx_id")
    parts = pl.concat([part, part], rechunk=False)  # columns in 2 chunks
    whole = fl.load_flows(parts.rechunk())
    report = fl.load_flows(parts)  # polars panicked here before the checked rows were rechunked
    assert report.rejects.equals(whole.rejects)
    assert report.n_rejected == 2 * fl.load_flows(part).n_rejected
    assert collected(report.clean).equals(collected(whole.clean))


@pytest.mark.slow  # a 240,780-row file / a 171 MB pickle: seconds
def test_a_filtered_pass_then_a_full_one_need_no_rejects_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = pl.concat([sample_raw()] * 60).drop("tx_id")  # 240,780 rows, several batches
    path = tmp_path / "flows.parquet"
    raw.write_parquet(path, row_group_size=20_000)
    expected = fl.load_flows(raw).rejects
    report = fl.load_flows(path)
    report.clean.lazy().filter(pl.col("origin") == "USA").collect(engine="streaming")
    report.clean.lazy().sink_parquet(tmp_path / "clean.parquet")
    runs = _plans_collected(monkeypatch)
    assert report.rejects.equals(expected)
    assert runs == [1]  # the count: the sink's pass gave the rejects


@pytest.mark.slow  # a 240,780-row file / a 171 MB pickle: seconds
def test_clean_and_the_report_pickle(tmp_path: Path) -> None:
    import pickle

    path = _sample_parquet(tmp_path)
    report = fl.load_flows(path)
    again = pickle.loads(pickle.dumps(report))  # noqa: S301 (our own bytes)
    assert again.clean.lazy().collect().equals(report.clean.lazy().collect())
    assert again.n_rejected == 12
    assert again.rejects.equals(report.rejects)


def test_a_clean_query_reads_only_the_columns_it_and_the_checks_need(tmp_path: Path) -> None:
    wide = sample_raw().with_columns([pl.lit("x" * 20).alias(f"extra_{i}") for i in range(30)])
    path = tmp_path / "wide.parquet"
    wide.write_parquet(path)
    report = fl.load_flows(path)
    plan = report.clean.lazy().select(pl.len()).explain()
    assert "extra_" not in plan  # the rejects read them later, for the rejected rows alone
    rejected = report.rejects
    assert rejected["extra_0"].to_list() == ["x" * 20] * 12
    assert rejected.drop(cs.starts_with("extra_")).equals(fl.load_flows(sample_raw()).rejects)


def _csv_with_origin(path: Path, origin: str) -> Path:
    sample_raw().drop("tx_id").with_columns(origin=pl.lit(origin)).write_csv(path)
    return path


def test_csvs_loaded_at_once_in_threads_each_read_their_own_file(tmp_path: Path) -> None:
    """AN-75."""
    import threading

    paths = {code: _csv_with_origin(tmp_path / f"{code}.csv", code) for code in ("USA", "GBR")}
    seen: dict[str, object] = {}

    def load(code: str) -> None:
        try:
            clean = fl.load_flows(paths[code]).clean.lazy()
            seen[code] = clean.select(pl.col("origin").cast(pl.String).unique()).collect().rows()
        except Exception as exc:
            seen[code] = exc

    threads = [threading.Thread(target=load, args=(code,)) for code in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"USA": [("USA",)], "GBR": [("GBR",)]}


def test_a_deleted_csv_spill_is_made_again_under_a_name_of_its_own(tmp_path: Path) -> None:
    """AN-76."""
    from flowlens import io

    a = _csv_with_origin(tmp_path / "a.csv", "USA")
    b = _csv_with_origin(tmp_path / "b.csv", "GBR")
    fl.load_flows(a)
    spilled = next(path for key, path in io._SPILLS.items() if key[0] == str(a.resolve()))
    spilled.unlink()  # a cleaner of temporary files
    again = fl.load_flows(a)
    other = fl.load_flows(b)
    assert again.rejects.equals(fl.load_flows(pl.read_csv(a, infer_schema=False)).rejects)
    assert (
        again.clean.lazy().select(pl.col("origin").cast(pl.String).unique()).collect().item()
        == "USA"
    )
    assert (
        other.clean.lazy().select(pl.col("origin").cast(pl.String).unique()).collect().item()
        == "GBR"
    )


def test_a_csv_replaced_by_a_copy_keeping_size_and_time_is_parsed_anew(tmp_path: Path) -> None:
    """AN-77."""
    import shutil

    path = _csv_with_origin(tmp_path / "flows.csv", "USA")
    first = fl.load_flows(path).clean.lazy().select(pl.col("origin").cast(pl.String).unique())
    assert first.collect().item() == "USA"
    corrected = _csv_with_origin(tmp_path / "corrected.csv", "GBR")  # same size, other text
    os.utime(corrected, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    shutil.copy2(corrected, path)
    again = fl.load_flows(path).clean.lazy().select(pl.col("origin").cast(pl.String).unique())
    assert again.collect().item() == "GBR"


def test_a_query_source_keeps_every_column_in_the_pass(tmp_path: Path) -> None:
    """A query (a unique, a join) may give its rows in another order on the next read:
    its rejects take every column from the pass, none read again by position."""
    from flowlens._checks import RejectsTap, _reads_in_a_fixed_order

    path = tmp_path / "flows.parquet"
    raw = sample_raw().drop("tx_id")  # which repeat is first would follow the order
    raw.write_parquet(path)
    assert _reads_in_a_fixed_order(pl.scan_parquet(path))
    assert _reads_in_a_fixed_order(raw.lazy())
    assert not _reads_in_a_fixed_order(pl.scan_parquet(path).unique())
    report = fl.load_flows(pl.scan_parquet(path).unique())
    assert isinstance(report._tap, RejectsTap) and report._tap._extra == []
    _, computed = report.collect(fl.corridor_panel(report, freq="year"))
    expected = fl.load_flows(raw).rejects.drop("row")
    assert computed.rejects.drop("row").sort(pl.all()).equals(expected.sort(pl.all()))


def test_a_file_changed_after_the_pass_gives_the_rejects_of_one_version(tmp_path: Path) -> None:
    path = tmp_path / "flows.arrow"
    old = sample_raw().drop("tx_id").with_columns(sender_id=pl.lit("OLD"))
    new = old.reverse().with_columns(sender_id=pl.lit("NEW"))  # the same size, rows moved
    old.write_ipc(path)
    report = fl.load_flows(pl.scan_ipc(path))
    report.clean.lazy().sink_parquet(tmp_path / "clean.parquet")
    new.write_ipc(tmp_path / "new.arrow")
    (tmp_path / "new.arrow").replace(path)
    # the pass saw the old rows; at the rejected positions the file now holds others: the
    # new ids are never joined to the old rows (polars may refuse the changed file)
    try:
        rejects = report.rejects
    except fl.errors.InputFormatError:
        return
    assert rejects.equals(fl.load_flows(new).rejects)


def test_the_other_columns_are_not_joined_to_rows_that_changed() -> None:
    raw = sample_raw().drop("tx_id")
    report = fl.load_flows(raw.lazy())
    tap = report._tap
    assert tap is not None and tap._extra  # the ids are read again by position
    report.clean.lazy().collect()
    rows = pl.concat([f for _, (_, _, f) in sorted(tap._batches.items()) if f is not None])
    assert tap._extra_of(rows) is not None
    changed = rows.with_columns(pl.col("amount").reverse())  # as if the source had moved
    assert tap._extra_of(changed) is None
