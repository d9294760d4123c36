"""The publication record: linked tables of the same flows (a monthly and a quarterly
panel) are recognised by their content and warned about."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import polars as pl

from flowlens._atomic import write_atomic

__all__ = ["flows_fingerprint", "note_publication", "publication_log"]

_PUBLISHED_LOG = ".flowlens-published.json"


def flows_fingerprint(panel: pl.DataFrame) -> str:
    """What identifies the flows behind a panel whatever its frequency, breakdown or file:
    the transfers counted, their USD total to the cent, and the corridors.

    A monthly panel of flows.csv, a quarterly one of its gzip copy and a yearly one of
    ``flowlens validate``'s clean file share it; so may two unrelated extracts by chance,
    which costs a needless warning, not a missed one.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from flowlens.cli import flows_fingerprint
    >>> p = pl.DataFrame({"period": [dt.date(2024, 1, 1)], "origin": ["USA"],
    ...                   "destination": ["MEX"], "amount_usd": [10.0], "n_transfers": [2]})
    >>> flows_fingerprint(p)
    'flows:2:1000:1'
    """
    counted = int(panel["n_transfers"].sum()) if "n_transfers" in panel.columns else panel.height
    cents = round(float(panel["amount_usd"].sum()) * 100) if "amount_usd" in panel.columns else 0
    corridors = panel.select("origin", "destination").n_unique()
    return f"flows:{counted}:{cents}:{corridors}"


def publication_log(out: Path) -> list[Path]:
    """Where published panels are recorded: the output folder's log, and the user's own
    (``$FLOWLENS_STATE_DIR``, else ``$XDG_STATE_HOME/flowlens``, else
    ``~/.local/state/flowlens``), so that outputs in different folders are seen together.

    Examples
    --------
    >>> from pathlib import Path
    >>> from flowlens.cli import publication_log
    >>> publication_log(Path("out/p.csv"))[0].name
    '.flowlens-published.json'
    """
    state = os.environ.get("FLOWLENS_STATE_DIR")
    if state is None:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        state = str(Path(base) / "flowlens")
    return [out.parent / _PUBLISHED_LOG, Path(state) / "published.json"]


def note_publication(panel: pl.DataFrame, *, freq: str, by: tuple[str, ...], out: Path) -> None:
    """Record a suppressed panel in the publication logs; warn on a second frequency.

    A monthly and a quarterly panel of the same flows are linked tables: cells
    withheld in one can be worked out from the other by differencing. The flows are
    recognised by their content (:func:`flows_fingerprint`), not by their file.
    """
    key = flows_fingerprint(panel)
    earlier = []
    for log_path in publication_log(out):
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            earlier += _note_in(log_path, key, freq=freq, by=by, out=out)
        except OSError:  # a read-only home must not stop a publication; the folder log stays
            continue
    if earlier:
        first = earlier[0]
        sys.stderr.write(
            f"flowlens: warning: these flows were already published as {first.get('output')} "
            f"(freq {first.get('freq')}, by {first.get('by')}); a second frequency or breakdown "
            "of the same flows can reveal withheld cells by differencing: publish one, or "
            "check them together\n"
        )


def _note_in(
    log_path: Path, key: str, *, freq: str, by: tuple[str, ...], out: Path
) -> list[dict[str, Any]]:
    """Add this publication to one log; return the earlier ones of the same flows in
    another layout."""
    try:
        entries: list[dict[str, Any]] = json.loads(log_path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            entries = []
    except (OSError, ValueError):
        entries = []
    layout = {"freq": freq, "by": sorted(by)}
    here = os.path.realpath(out)
    others = [
        e for e in entries
        if isinstance(e, dict) and e.get("input") == key and e.get("output") != here
        and {"freq": e.get("freq"), "by": e.get("by")} != layout
    ]  # fmt: skip
    entries = [e for e in entries if not (isinstance(e, dict) and e.get("output") == here)]
    entries.append(
        {"input": key, **layout, "output": here, "written": dt.datetime.now(dt.UTC).isoformat()}
    )
    text = json.dumps(entries, indent=1)

    def write_log(target: str) -> None:
        Path(target).write_text(text, encoding="utf-8")

    write_atomic(log_path, write_log, overwrite=True)
    return others
