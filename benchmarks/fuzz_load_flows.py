"""Coverage-guided fuzzing of load_flows with atheris (libFuzzer), for runs longer than CI's.

The property is the one of tests/test_fuzz.py: for any bytes written as a CSV file,
load_flows raises a FlowlensError or every row it read ends in exactly one of clean
and rejects. Anything else is a crash, and libFuzzer saves the input that caused it.

    .venv/bin/pip install atheris
    .venv/bin/python benchmarks/fuzz_load_flows.py -max_total_time=600 corpus/

atheris is not a dependency of flowlens: it is only needed here.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import polars as pl  # not instrumented: atheris' rewriting of polars' own Python breaks it

with atheris.instrument_imports(include=["flowlens"]):
    import flowlens as fl
    from flowlens.errors import FlowlensError

SEED = (
    b"date,origin,destination,flow_type,amount,currency,fee,tx_id\n"
    b"2024-01-15,USA,MEX,remittance,100,USD,1,a\n"
    b'2024-01-16,"Korea, Rep.",PAK,philanthropy,2.5,eur,,b\n'
)
WORKDIR = Path(tempfile.mkdtemp(prefix="flowlens-fuzz-"))


def one_input(data: bytes) -> None:
    path = WORKDIR / "input.csv"
    path.write_bytes(data or SEED)
    try:
        report = fl.load_flows(path)
        if isinstance(report.clean, pl.LazyFrame):
            clean, report = report.collect(report.clean)
        else:
            clean = report.clean
        rejects = report.rejects
        n_in = report.n_rows_in
    except FlowlensError:
        return
    if clean.height + rejects.height != n_in:
        msg = f"rows lost: {clean.height} clean + {rejects.height} rejected != {n_in} read"
        raise AssertionError(msg)


def main() -> None:
    corpora = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for corpus in corpora:  # start from a valid extract, not from nothing
        corpus.mkdir(parents=True, exist_ok=True)
        if not any(corpus.iterdir()):
            (corpus / "seed.csv").write_bytes(SEED)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
