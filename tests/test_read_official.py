"""read_official recognises every published table in data/samples/real from its content, and
every reader refuses the others' files, truncated files and random bytes with an
InputFormatError (never a raw polars, Excel-engine or Python error)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowlens as fl
from flowlens.errors import FileColumnError, InputFormatError, MissingColumnError, ParameterError

REAL = Path(__file__).resolve().parents[1] / "data" / "samples" / "real"

RECOGNISED = {
    "banxico_mexico_remittances_by_country_quarterly_2013_2026.csv": "read_banxico_quarterly_by_country",
    "banxico_mexico_remittances_monthly_1995_2026.csv": "read_banxico_monthly",
    "knomad_bilateral_migrant_stock_2021_dec2022.xlsx": "read_wb_migrant_stock",
    "knomad_bilateral_remittance_2021_dec2022.xlsx": "read_wb_bilateral_matrix",
    "knomad_remittance_inflows_2000_2022_june2023.xlsx": "read_knomad_annual",
    "knomad_remittance_outflows_2000_2022_june2023.xlsx": "read_knomad_annual",
    "ocha_fts_requirements_funding_by_country_1999_2031.csv": "read_ocha_fts",
    "wb_bilateral_migrant_stock_2013.xlsx": "read_wb_migrant_stock",
    "wb_bilateral_migrant_stock_2017.xlsx": "read_wb_migrant_stock",
    "wb_bilateral_remittance_2016_nov2017.xlsx": "read_wb_bilateral_matrix",
    "wb_bilateral_remittance_2017.xlsx": "read_wb_bilateral_matrix",
    "wb_rpw_corridors_2011_2020.csv": "read_rpw_corridors",
    "wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv": "read_wdi",
    "wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv": "read_wdi",
}
"""Each published table in the repository and the reader that must take it."""

NOT_OFFICIAL = [
    "banguat_guatemala_remittances_monthly_2002_2024.xlsx",  # a central bank's own layout
    "banrep_colombia_workers_remittances_monthly_2000_2020.xlsx",
    "crisis_events.csv",
    "derisking_events.csv",
    "wb_wdi_country_metadata_income_groups_fy2022.csv",
]

READERS: dict[str, Callable[[Path], Any]] = {
    "read_banxico_monthly": fl.read_banxico_monthly,
    "read_banxico_quarterly_by_country": fl.read_banxico_quarterly_by_country,
    "read_knomad_annual": fl.read_knomad_annual,
    "read_rpw_corridors": fl.read_rpw_corridors,
    "read_wb_bilateral_matrix": fl.read_wb_bilateral_matrix,
    "read_wb_migrant_stock": fl.read_wb_migrant_stock,
    "read_wdi": fl.read_wdi,
    "read_ocha_fts": fl.read_ocha_fts,
    "read_official": fl.read_official,
}

# a quick cross-check in the default run; every pair with the slow tests
SMALL = [
    "banxico_mexico_remittances_monthly_1995_2026.csv",
    "knomad_remittance_inflows_2000_2022_june2023.xlsx",
    "ocha_fts_requirements_funding_by_country_1999_2031.csv",
    "wb_bilateral_remittance_2017.xlsx",
    "wb_rpw_corridors_2011_2020.csv",
    "wb_wdi_gni_per_capita_atlas_NY.GNP.PCAP.CD_1960_2020.csv",
    "banguat_guatemala_remittances_monthly_2002_2024.xlsx",
    "crisis_events.csv",
]


@pytest.mark.parametrize("name", sorted(RECOGNISED))
def test_read_official_recognises_each_published_table(name: str, tmp_path: Path) -> None:
    # under a name that says nothing: the content decides
    anonymous = tmp_path / ("table" + Path(name).suffix.replace(".csv", ".txt"))
    shutil.copyfile(REAL / name, anonymous)
    table = fl.read_official(anonymous)
    assert table.notes[-1] == f"flowlens: read by {RECOGNISED[name]} (recognised by read_official)"
    direct = READERS[RECOGNISED[name]](REAL / name)
    assert table.panel.equals(direct.panel)
    assert (table.source, table.vintage) == (direct.source, direct.vintage)


@pytest.mark.parametrize("name", NOT_OFFICIAL)
def test_read_official_lists_every_reader_it_tried(name: str) -> None:
    with pytest.raises(InputFormatError) as caught:
        fl.read_official(REAL / name)
    message = str(caught.value)
    kind_readers = (
        ["read_wb_bilateral_matrix", "read_wb_migrant_stock", "read_knomad_annual", "read_wdi"]
        if name.endswith(".xlsx")
        else ["read_banxico_monthly", "read_rpw_corridors", "read_ocha_fts", "read_wdi"]
    )
    for reader in kind_readers:
        assert f"\n  {reader}: " in message
    assert "fl.read_series(" in message


def _pairs(names: list[str]) -> list[Any]:
    pairs = []
    for reader in READERS:
        for name in names:
            if RECOGNISED.get(name) == reader or (reader == "read_official" and name in RECOGNISED):
                continue  # its own file
            pairs.append(pytest.param(reader, name, id=f"{reader}-{name[:30]}"))
    return pairs


def _refuses(reader: str, path: Path) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        READERS[reader](path)
    assert str(path.name) in str(caught.value) or str(path) in str(caught.value)
    return caught.value


@pytest.mark.parametrize(("reader", "name"), _pairs(SMALL))
def test_each_reader_refuses_the_others_files(reader: str, name: str) -> None:
    _refuses(reader, REAL / name)


@pytest.mark.slow
@pytest.mark.parametrize(("reader", "name"), _pairs(sorted([*RECOGNISED, *NOT_OFFICIAL])))
def test_each_reader_refuses_every_other_file(reader: str, name: str) -> None:
    _refuses(reader, REAL / name)


def test_a_missing_column_is_both_a_format_and_a_column_error() -> None:
    error = _refuses("read_banxico_monthly", REAL / "crisis_events.csv")
    assert isinstance(error, FileColumnError)
    assert isinstance(error, MissingColumnError)
    assert error.column == "PERIODO"


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(min_size=0, max_size=2048), suffix=st.sampled_from([".csv", ".xlsx", ""]))
def test_random_bytes_are_refused_cleanly(
    reader: str, data: bytes, suffix: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("bytes") / f"random{suffix}"
    path.write_bytes(data)
    try:
        READERS[reader](path)
    except InputFormatError:
        return
    # random text can be a valid (tiny) CSV of nothing: never a table that claims rows
    pytest.fail(f"{reader} read {len(data)} random bytes as a table")


@pytest.mark.parametrize("name", [n for n in SMALL if n in RECOGNISED])
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fraction=st.floats(min_value=0.0, max_value=0.98))
def test_truncated_files_read_or_are_refused_cleanly(
    name: str, fraction: float, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = (REAL / name).read_bytes()
    path = tmp_path_factory.mktemp("cut") / name
    path.write_bytes(data[: int(len(data) * fraction)])
    try:
        table = READERS[RECOGNISED[name]](path)
    except InputFormatError:
        return
    # a CSV cut between rows is still a (shorter) table of the same kind
    assert name.endswith(".csv")
    assert table.panel.height <= READERS[RECOGNISED[name]](REAL / name).panel.height


# ---------------------------------------------------------------- what is not a path


NOT_PATHS = [
    pytest.param(
        pl.DataFrame({"a": [1]}), r"got a DataFrame \(polars\).*fl\.read_series\(", id="frame"
    ),
    pytest.param(
        pl.LazyFrame({"a": [1]}), r"got a LazyFrame \(polars\).*fl\.read_series\(", id="lazy"
    ),
    pytest.param(None, r"got None: pass the path as a str or pathlib\.Path", id="none"),
    pytest.param(b"table.csv", r"got bytes \(b'table\.csv'\).*decode", id="bytes"),
    pytest.param(42, r"got int \(42\)", id="int"),
]


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(("value", "match"), NOT_PATHS)
def test_what_is_not_a_path_is_a_parameter_error(reader: str, value: object, match: str) -> None:
    # not TypeError, not OSError, not "cannot read 'shape: (1, 1)┌─…'"
    with pytest.raises(ParameterError, match=rf"^{reader} reads a file path; {match}") as caught:
        READERS[reader](value)  # type: ignore[arg-type]
    assert "shape:" not in str(caught.value)


def test_a_path_given_by_keyword_is_checked_too() -> None:
    with pytest.raises(ParameterError, match=r"read_wdi reads a file path; got None"):
        fl.read_wdi(path=None)  # type: ignore[arg-type]


def _utf16_without_bom(tmp_path: Path) -> Path:
    path = tmp_path / "table.csv"
    text = (REAL / "wb_rpw_corridors_2011_2020.csv").read_text(encoding="utf-8-sig")[:3000]
    path.write_bytes(text.encode("utf-16-le"))  # no byte-order mark
    return path


def test_utf16_without_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = _utf16_without_bom(tmp_path)
    with pytest.raises(
        InputFormatError, match="looks like UTF-16 without a byte-order mark"
    ) as caught:
        fl.read_official(path)
    assert "re-save it as UTF-8" in str(caught.value)
    assert "binary data" not in str(caught.value)
    # each reader's "found" says so too (read_wdi was "binary data (NUL bytes)")
    for name in ("read_wdi", "read_wb_bilateral_matrix", "read_rpw_corridors"):
        with pytest.raises(InputFormatError) as refused:
            READERS[name](path)
        message = str(refused.value)
        assert "UTF-16 without a byte-order mark" in message, (name, message)
        assert "re-save it as UTF-8" in message, (name, message)
        assert "binary data" not in message, (name, message)


def test_big_endian_utf16_without_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes("Country Name,Country Code\nMexico,MEX\n".encode("utf-16-be"))
    with pytest.raises(InputFormatError, match="looks like UTF-16 without a byte-order mark"):
        fl.read_official(path)


@pytest.mark.parametrize("name", NOT_OFFICIAL)
def test_not_tried_lists_only_readers_not_tried(name: str) -> None:
    with pytest.raises(InputFormatError) as caught:
        fl.read_official(REAL / name)
    message = str(caught.value)
    tried, _, rest = message.partition("\n(readers of the other kind of file, not tried: ")
    not_tried = rest.split(")", 1)[0].split(", ")
    assert not_tried, message
    for reader in not_tried:  # read_wdi reads both kinds: tried, so never "not tried"
        assert f"\n  {reader}: " not in tried, (reader, message)
    assert "read_wdi" not in not_tried
    kind_readers = {
        ".xlsx": {
            "read_banxico_monthly",
            "read_banxico_quarterly_by_country",
            "read_rpw_corridors",
            "read_ocha_fts",
        },
        ".csv": {"read_wb_bilateral_matrix", "read_wb_migrant_stock", "read_knomad_annual"},
    }
    assert set(not_tried) == kind_readers[Path(name).suffix]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_file_of_a_byte_order_mark_alone(reader: str, tmp_path: Path) -> None:
    # describing it for the message raised IndexError (no first line after the mark)
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    _refuses(reader, path)
