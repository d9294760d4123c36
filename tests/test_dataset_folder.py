"""The generator's output folder is a dataset: load_flows reads it, its folder and its globs,
skipping entries named with _ or . (as Hive and Spark do); files that do not belong are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import flowlens as fl
from flowlens.errors import InputFormatError
from flowlens.synth import SynthConfig, generate_to_parquet

_SMALL = SynthConfig(n_corridors=12, start="2022-01-01", end="2022-12-31", n_random_crises=0)


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "flows"
    generate_to_parquet(out, 3_000, seed=3, config=_SMALL, chunk_rows=1_000)
    return out


def test_the_generators_folder_reads_as_flows(synth_dir: Path) -> None:
    assert (synth_dir / "_truth" / "panel.parquet").is_file()  # the truth sits inside
    report = fl.load_flows(synth_dir)
    assert report.n_rows_in == 3_000
    assert report.n_clean + report.n_rejected == 3_000
    truth = pl.read_parquet(synth_dir / "_truth" / "panel.parquet")
    assert truth["n_transfers"].sum() == 3_000  # the truth counts the same transfers


@pytest.mark.parametrize("pattern", ["*.parquet", "**/*.parquet", "part-*.parquet"])
def test_globs_skip_the_truth_folder(synth_dir: Path, pattern: str) -> None:
    assert fl.load_flows(str(synth_dir / pattern)).n_rows_in == 3_000


def test_a_pattern_that_names_the_skipped_folder_reads_it(synth_dir: Path) -> None:
    frame = fl.io.as_lazy(str(synth_dir / "_truth" / "panel.parquet")).frame.collect()
    assert frame["n_transfers"].sum() == 3_000
    lazy = fl.io.as_lazy(str(synth_dir / "_*" / "panel.parquet")).frame.collect()
    assert lazy.equals(frame)


def test_a_foreign_table_in_the_folder_is_named(synth_dir: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(synth_dir / "part-00000.parquet", mixed / "part-00000.parquet")
    shutil.copy(synth_dir / "_truth" / "events.parquet", mixed / "events.parquet")
    with pytest.raises(InputFormatError, match="do not share their columns") as caught:
        fl.load_flows(mixed)
    said = str(caught.value)
    assert "events.parquet" in said and "part-00000.parquet" in said
    assert "starts with _ or ." in said  # the fix
    (mixed / "events.parquet").rename(mixed / "_events.parquet")  # the fix, applied
    assert fl.load_flows(mixed).n_rows_in == 1_000


def test_a_file_that_is_not_parquet_is_named_not_called_damaged_data(
    synth_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    shutil.copy(synth_dir / "part-00000.parquet", folder / "part-00000.parquet")
    (folder / "part-00001.parquet").write_text("not parquet")
    with pytest.raises(InputFormatError, match=r"part-00001\.parquet.*not a Parquet file"):
        fl.load_flows(folder)


def test_only_skipped_entries_say_so(synth_dir: Path) -> None:
    with pytest.raises(InputFormatError, match=r"\(1 skipped: their names start with _ or \.\)"):
        fl.io.as_lazy(str(synth_dir / "**" / "panel.parquet"))
