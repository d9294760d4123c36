"""Nothing destroyed without consent: no overwrite unless asked, no write onto an input,
every write atomic (killed midway, a write leaves the old file or none), validate's two
outputs as one unit, and the CLI's one-line errors.

Each test name carries the id of its row in docs/bad_inputs.md (section "Writes").
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import flowlens as fl
from flowlens import _atomic
from flowlens._atomic import write_unit
from flowlens.cli import main, output_stem
from flowlens.errors import FlowlensError, OutputError, OutputExistsError, ParameterError
from flowlens.export import write_frame
from flowlens.synth import SynthConfig, generate, generate_to_parquet

FLOWLENS = [sys.executable, "-m", "flowlens"]
SMALL = SynthConfig(n_corridors=20, end="2015-06-30")


def leftovers(folder: Path) -> list[str]:
    """Temporary files or folders flowlens may have left behind (hidden names)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def half_then_fail(real: Callable[..., Any]) -> Callable[..., Any]:
    """A writer that writes half of the real file's bytes, then fails as a full disk would."""

    def writer(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        buffer = io.BytesIO()
        real(self, buffer, *args, **kwargs)
        data = buffer.getvalue()
        Path(target).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    return writer


# --- write_frame -------------------------------------------------------------------


def test_w1_existing_path_is_refused_unless_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    write_frame(pl.DataFrame({"a": [1]}), out)
    with pytest.raises(OutputExistsError, match=r"exists already.*overwrite=True") as caught:
        write_frame(pl.DataFrame({"a": [2]}), out)
    assert isinstance(caught.value, FileExistsError) and isinstance(caught.value, FlowlensError)
    assert pl.read_csv(out)["a"].to_list() == [1]  # untouched
    write_frame(pl.DataFrame({"a": [3]}), out, overwrite=True)
    assert pl.read_csv(out)["a"].to_list() == [3]
    assert leftovers(tmp_path) == []


def test_w2_missing_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"the folder '.*nope' does not exist"):
        write_frame(pl.DataFrame({"a": [1]}), tmp_path / "nope" / "x.parquet")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        write_frame(pl.DataFrame({"a": [1]}), tmp_path / "file" / "x.parquet")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_frame(pl.DataFrame({"a": [1]}), tmp_path / "d.csv")


def test_w3_unknown_suffix_refused_before_any_work(tmp_path: Path) -> None:
    never = pl.LazyFrame({"a": [1]}).select(pl.col("a").map_batches(lambda s: 1 / 0))
    with pytest.raises(ParameterError, match=r"use a \.csv"):
        write_frame(never, tmp_path / "x.json")  # the frame is not collected


@pytest.mark.parametrize("linkat", ["unnamed", "named"])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_w4_write_killed_midway_leaves_old_file_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, linkat: str
) -> None:
    if linkat == "named":  # the portable path: a hidden named temporary file
        monkeypatch.setattr(_atomic, "_linkat", lambda: None)
    method = "write_parquet" if suffix == ".parquet" else "write_csv"
    fresh, old = tmp_path / f"fresh{suffix}", tmp_path / f"old{suffix}"
    write_frame(pl.DataFrame({"a": [1, 2]}), old)
    before = old.read_bytes()
    monkeypatch.setattr(pl.DataFrame, method, half_then_fail(getattr(pl.DataFrame, method)))
    big = pl.DataFrame({"a": range(10_000)})
    with pytest.raises(OSError, match="No space left"):
        write_frame(big, fresh)
    with pytest.raises(OSError, match="No space left"):
        write_frame(big, old, overwrite=True)
    assert not fresh.exists()
    assert old.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_w5_a_unit_stands_or_falls_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"

    def fail(path: str) -> None:
        Path(path).write_text("half")
        raise RuntimeError("disk full")

    def text(value: str) -> Callable[[str], None]:
        def write(path: str) -> None:
            Path(path).write_text(value)

        return write

    with pytest.raises(RuntimeError):
        write_unit([(a, text("new a")), (b, fail)])
    assert not a.exists() and not b.exists()
    write_unit([(a, text("old a")), (b, text("old b"))])
    with pytest.raises(RuntimeError):
        write_unit([(a, text("new a")), (b, fail)], overwrite=True)
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    with pytest.raises(OutputError, match="same file"):
        write_unit([(a, text("1")), (tmp_path / "." / "a.txt", text("2"))], overwrite=True)
    assert leftovers(tmp_path) == []


def test_w5_a_unit_restores_old_files_when_naming_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    real = _atomic._Staged.name_it

    def name_it(self: Any, *, overwrite: bool) -> None:
        if self.target == b:
            raise OSError(errno.EIO, "I/O error")
        real(self, overwrite=overwrite)

    monkeypatch.setattr(_atomic._Staged, "name_it", name_it)
    with pytest.raises(OSError, match="I/O error"):
        write_unit(
            [(a, lambda p: None), (b, lambda p: None)],
            overwrite=True,
        )
    assert a.read_text() == "old a" and not b.exists()
    assert leftovers(tmp_path) == []


def sender_panel() -> pl.DataFrame:
    flows = fl.load_flows(fl.load_sample("flows")).clean
    panel = fl.corridor_panel(flows, freq="year", stats=("sum", "senders", "top_senders"))
    assert isinstance(panel, pl.DataFrame)
    return panel


def test_w6_a_suppressed_column_does_not_bypass_suppression(tmp_path: Path) -> None:
    panel = sender_panel()
    forged = panel.with_columns(suppressed=pl.lit(False))
    with pytest.warns(fl.errors.SuppressionNotice, match="withheld"):
        written = pl.read_parquet(write_frame(forged, tmp_path / "p.parquet"))
    assert written.equals(fl.suppress_small_cells(panel).panel)
    assert not {"sender_top1_usd", "sender_top2_usd", "sender_top3_usd"} & set(written.columns)
    # a suppressed panel's .panel passed as a frame is checked again, and says what to do
    safe = fl.suppress_small_cells(panel, min_senders=3, dominance=None)
    with pytest.raises(fl.MissingColumnError, match=r"pass safe itself \(not safe.panel\)"):
        write_frame(safe.panel, tmp_path / "q.parquet")


def test_w7_a_suppressed_panel_object_is_written_as_it_is(tmp_path: Path) -> None:
    safe = fl.suppress_small_cells(sender_panel(), min_senders=3, dominance=None)
    written = pl.read_parquet(write_frame(safe, tmp_path / "p.parquet"))
    assert written.equals(safe.panel)


def test_w8_graph_write_refuses_overwrite_and_is_atomic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowlens.graph._graph import _example

    graph = _example()
    out = graph.write(tmp_path / "g.json")
    before = out.read_bytes()
    with pytest.raises(OutputExistsError):
        graph.write(out)
    with pytest.raises(OutputError, match="does not exist"):
        graph.write(tmp_path / "missing" / "g.json")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("serialiser failed")

    monkeypatch.setattr("json.dumps", broken)
    with pytest.raises(RuntimeError):
        graph.write(out, overwrite=True)
    assert out.read_bytes() == before and leftovers(tmp_path) == []


# --- the generator's directory -------------------------------------------------------


def test_w9_synth_directory_refused_when_not_empty_and_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "flows"
    result = generate_to_parquet(out, 3_000, seed=4, config=SMALL, chunk_rows=1_000)
    assert result.truth_path == out / "_truth"
    assert pl.read_parquet(sorted(out.glob("part-*.parquet"))).height == 3_000
    with pytest.raises(OutputExistsError, match="not empty"):
        generate_to_parquet(out, 100, seed=1, config=SMALL)
    again = generate_to_parquet(out, 2_000, seed=4, config=SMALL, overwrite=True, chunk_rows=500)
    assert again.n_rows_written == 2_000
    assert len(list(out.glob("part-*.parquet"))) == 4  # none left over from the first run
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not make"):
        generate_to_parquet(out, 100, seed=1, config=SMALL, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    # a run that fails midway leaves the earlier output as it was, and no staging folder
    (out / "notes.txt").unlink()
    before = sorted(p.name for p in out.rglob("*"))
    from flowlens import synth

    def fail(*args: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(synth, "_write_chunk", fail)
    with pytest.raises(OSError, match="No space"):
        generate_to_parquet(out, 2_000, seed=9, config=SMALL, overwrite=True, chunk_rows=500)
    with pytest.raises(OSError, match="No space"):
        generate_to_parquet(tmp_path / "new", 2_000, seed=9, config=SMALL, chunk_rows=500)
    assert sorted(p.name for p in out.rglob("*")) == before
    assert not (tmp_path / "new").exists() and leftovers(tmp_path) == []


def test_w9_synth_rows_for_a_seed_are_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "flows"
    generate_to_parquet(out, 2_500, seed=11, config=SMALL, chunk_rows=1_000)
    written = pl.read_parquet(sorted(out.glob("part-*.parquet")))
    memory = generate(2_500, seed=11, config=SMALL).flows
    assert memory is not None
    assert written.equals(memory.select(written.columns))


def test_w10_panel_reads_the_generators_folder(tmp_path: Path) -> None:
    out = tmp_path / "flows"
    generate_to_parquet(out, 2_000, seed=3, config=SMALL)
    assert (out / "_truth").is_dir()  # beside the flows, skipped by the reader
    assert fl.load_flows(out).n_rows_in == 2_000
    panel = tmp_path / "panel.parquet"
    assert main(["panel", str(out), "--out", str(panel), "--unsafe"]) == 0  # totals, unsuppressed
    assert pl.read_parquet(panel)["n_transfers"].sum() == fl.load_flows(out).n_clean


# --- the command line ----------------------------------------------------------------


def flows_csv(path: Path, n: int = 40) -> Path:
    rows = [
        f"2024-01-{1 + i % 28:02d},USA,MEX,remittance,{100 + i},USD,S{i % 20}" for i in range(n)
    ]
    path.write_text(
        "date,origin,destination,flow_type,amount,currency,sender_id\n" + "\n".join(rows) + "\n"
    )
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], fragment: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("flowlens") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert fragment in err, err


def test_c1_panel_refuses_to_write_onto_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    before = source.read_bytes()
    assert main(["panel", str(source), "--out", str(source), "--force"]) == 2
    one_line_error(capsys, "it is an input of this run")
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    assert main(["panel", str(source), "--out", str(link), "--force", "--unsafe"]) == 2
    hard = tmp_path / "hard.csv"
    os.link(source, hard)
    assert main(["panel", str(source), "--out", str(hard), "--force", "--unsafe"]) == 2
    assert main(["panel", str(source), "--out", "x.csv", "--margins", str(source)]) == 2
    assert source.read_bytes() == before


def test_c2_validate_refuses_to_write_onto_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    before = source.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "flows.rejects.csv").symlink_to(source)  # the rejects would land on the input
    assert main(["validate", str(source), "--out-dir", str(out), "--force"]) == 2
    one_line_error(capsys, "it is an input of this run")
    assert source.read_bytes() == before
    # its own rejects file as input: outputs named from the whole name, the input kept
    assert main(["validate", str(source), "--out-dir", str(tmp_path)]) == 0
    rejects = tmp_path / "flows.rejects.csv"
    kept = rejects.read_bytes()
    main(["validate", str(rejects), "--out-dir", str(tmp_path)])
    assert rejects.read_bytes() == kept
    assert (tmp_path / "flows.rejects.clean.parquet").exists()
    assert output_stem(str(rejects)) == "flows.rejects"


def test_c3_out_and_margins_the_same_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    p = tmp_path / "p.csv"
    assert main(["panel", str(source), "--out", str(p), "--margins", str(p)]) == 2
    one_line_error(capsys, "--out and --margins are the same file")
    assert not p.exists()


def test_c4_glob_inputs_are_named_from_the_matched_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    generate_to_parquet(data, 2_000, seed=1, config=SMALL, chunk_rows=1_000)
    out = tmp_path / "out"
    out.mkdir()
    pattern = str(data / "part-*.parquet")
    assert main(["validate", pattern, "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["part.clean.parquet", "part.rejects.csv"]
    assert pl.read_parquet(out / "part.clean.parquet").height == 2_000
    assert main(["validate", str(data / "*.parquet"), "--out-dir", str(data)]) == 2
    one_line_error(capsys, "would join the input dataset")
    assert main(["panel", str(data), "--out", str(data / "p.parquet")]) == 2  # inside the dir
    one_line_error(capsys, "would join the input dataset")


def test_c5_existing_output_refused_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    out = tmp_path / "p.parquet"
    out.write_bytes(b"precious")
    assert main(["panel", str(source), "--out", str(out), "--unsafe"]) == 2
    one_line_error(
        capsys, "exists already; flowlens does not overwrite without consent: pass --force"
    )
    assert out.read_bytes() == b"precious"
    assert main(["panel", str(source), "--out", str(out), "--unsafe", "--force"]) == 0
    assert pl.read_parquet(out)["n_transfers"].sum() == 40
    clean = tmp_path / "flows.clean.parquet"
    clean.write_bytes(b"precious")
    assert main(["validate", str(source), "--out-dir", str(tmp_path)]) == 2
    assert clean.read_bytes() == b"precious" and not (tmp_path / "flows.rejects.csv").exists()


def test_c6_output_names_keep_the_whole_input_name(tmp_path: Path) -> None:
    for month in ("01", "02"):
        flows_csv(tmp_path / f"flows.2024-{month}.csv", n=10 + int(month))
        assert main(["validate", str(tmp_path / f"flows.2024-{month}.csv"),
                     "--out-dir", str(tmp_path)]) == 0  # fmt: skip
    assert pl.read_parquet(tmp_path / "flows.2024-01.clean.parquet").height == 11
    assert pl.read_parquet(tmp_path / "flows.2024-02.clean.parquet").height == 12
    assert output_stem("a/flows.2024-01.csv.gz") == "flows.2024-01"


def test_c7_output_format_checked_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the input does not exist: the suffix is refused first, so no run was started
    assert main(["panel", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x.json")]) == 2
    one_line_error(capsys, "x.json': use a .csv")
    assert main(["panel", str(tmp_path / "none.csv"), "--out", "p.csv", "--margins", "m.doc"]) == 2
    one_line_error(capsys, "m.doc")
    assert main(["panel", "none.csv", "--out", str(tmp_path / "missing" / "p.csv")]) == 2
    one_line_error(capsys, "does not exist; create it first")
    assert main(["validate", "none.csv", "--out-dir", str(tmp_path / "missing")]) == 2
    one_line_error(capsys, "--out-dir")


def test_c8_validate_writes_clean_and_rejects_as_one_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    monkeypatch.setattr(pl.DataFrame, "write_csv", half_then_fail(pl.DataFrame.write_csv))
    assert main(["validate", str(source), "--out-dir", str(tmp_path)]) == 2
    one_line_error(capsys, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flows.csv"]  # neither, no temp


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["synth", "--rows", "nan", "--out", "x"], "'nan' is not a row count", id="c9-rows-nan"),
        pytest.param(["synth", "--rows", "inf", "--out", "x"], "'inf' is not a row count", id="c9-rows-inf"),
        pytest.param(["synth", "--rows", "-5", "--out", "x"], "is not a row count", id="c9-rows-negative"),
        pytest.param(["panel", "{src}", "--freq", "0d", "--out", "{tmp}/p.csv"], "freq '0d'", id="c9-freq-0d"),
        pytest.param(["validate", "{ragged}", "--out-dir", "{tmp}"], "cannot read", id="c9-ragged-csv"),
        pytest.param(["validate", "{tmp}/none.csv", "--out-dir", "{tmp}"], "no such file", id="c9-missing-file"),
        pytest.param(["panel", "{src}", "--map", "oops", "--out", "{tmp}/p.csv"], "--map takes", id="c9-bad-map"),
        pytest.param(["panel", "{src}"], "required: --out", id="c9-argparse"),
        pytest.param(["panel", "{src}", "--out", "{tmp}/p.csv", "--margins", "{tmp}/m.csv", "--unsafe"], "--margins writes the totals", id="c9-margins-unsafe"),
    ],
)  # fmt: skip
def test_c9_bad_input_exits_2_with_one_line(tmp_path: Path, argv: list[str], fragment: str) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(
        "date,origin,destination,flow_type,amount,currency\n"
        "2024-01-01,USA,MEX,remittance,10,USD,extra\n"
    )
    src = flows_csv(tmp_path / "flows.csv")
    args = [a.format(src=src, tmp=tmp_path, ragged=ragged) for a in argv]
    done = subprocess.run(
        [*FLOWLENS, *args], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert fragment in done.stderr


def test_c10_a_bug_exits_1_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import flowlens.validate

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("unsupported operand")

    monkeypatch.setattr(flowlens.validate, "load_flows", broken)
    source = flows_csv(tmp_path / "flows.csv")
    assert main(["validate", str(source), "--out-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("flowlens: internal error (a bug in flowlens")
    assert "Traceback" in err and "TypeError: unsupported operand" in err


def test_c11_second_frequency_of_published_flows_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = flows_csv(tmp_path / "flows.csv")
    out = tmp_path / "pub"
    out.mkdir()
    assert main(["panel", str(source), "--out", str(out / "m.csv"), "--min-senders", "2"]) == 0
    assert "already published" not in capsys.readouterr().err
    assert main(["panel", str(source), "--out", str(out / "m.csv"), "--force"]) == 0  # same freq
    assert "already published" not in capsys.readouterr().err
    assert main(["panel", str(source), "--freq", "quarter", "--out", str(out / "q.csv")]) == 0
    err = capsys.readouterr().err
    assert "flowlens: warning: these flows were already published as" in err
    assert "m.csv" in err and "differencing" in err and err.count("\n") == 1
    assert (out / ".flowlens-published.json").exists()


def test_c11_linked_tables_are_recognised_by_their_flows_not_their_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same flows by another path (validate's clean file, a gzip copy) into another
    folder: still the same flows, still warned about."""
    source = flows_csv(tmp_path / "flows.csv")
    first, second = tmp_path / "pub1", tmp_path / "pub2"
    first.mkdir()
    second.mkdir()
    gz = tmp_path / "copy.csv.gz"
    gz.write_bytes(gzip.compress(source.read_bytes()))
    assert main(["panel", str(source), "--out", str(first / "m.csv"), "--min-senders", "2"]) == 0
    assert "already published" not in capsys.readouterr().err
    (tmp_path / "clean").mkdir()
    assert main(["validate", str(source), "--out-dir", str(tmp_path / "clean")]) == 0
    capsys.readouterr()
    clean = tmp_path / "clean" / "flows.clean.parquet"
    for again, freq in ((clean, "quarter"), (gz, "year")):
        out = second / f"{freq}.csv"
        assert main(["panel", str(again), "--freq", freq, "--out", str(out)]) == 0
        err = capsys.readouterr().err
        assert "these flows were already published as" in err, (again, err)
        assert ("m.csv" in err) if freq == "quarter" else ("m.csv" in err or "quarter" in err)


def test_c12_synth_refuses_a_non_empty_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "synth"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    assert main(["synth", "--rows", "100", "--out", str(out)]) == 2
    one_line_error(capsys, "is not empty")
    assert main(["synth", "--rows", "100", "--out", str(out), "--force"]) == 2
    one_line_error(capsys, "did not make")
    assert (out / "mine.txt").read_text() == "x"


# --- killed midway -------------------------------------------------------------------


@pytest.mark.slow  # five kills of a 600k-row validation: about 5 s
def test_c13_validate_killed_at_a_random_moment_leaves_nothing_partial(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate_to_parquet(data, 600_000, seed=2, config=SMALL, chunk_rows=600_000)
    source = str(data / "part-00000.parquet")
    reference = tmp_path / "reference"
    reference.mkdir()
    started = time.perf_counter()
    subprocess.run([*FLOWLENS, "validate", source, "--out-dir", str(reference)], check=True,
                   capture_output=True)  # fmt: skip
    duration = time.perf_counter() - started
    n_clean = pl.read_parquet(reference / "part-00000.clean.parquet").height
    n_rejects = pl.read_csv(reference / "part-00000.rejects.csv").height
    rng = random.Random(18)
    outcomes = []
    for attempt in range(5):
        out = tmp_path / f"out{attempt}"
        out.mkdir()
        run = subprocess.Popen(
            [*FLOWLENS, "validate", source, "--out-dir", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        run.send_signal(signal.SIGKILL)
        run.wait()
        names = sorted(p.name for p in out.iterdir())
        assert names in ([], ["part-00000.clean.parquet", "part-00000.rejects.csv"]), names
        if names:
            assert pl.read_parquet(out / names[0]).height == n_clean
            assert pl.read_csv(out / names[1]).height == n_rejects
        outcomes.append(bool(names))
    assert leftovers(tmp_path) == []
    assert outcomes  # some runs were killed before the end, some (maybe) after
