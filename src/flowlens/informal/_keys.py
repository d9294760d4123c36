"""Stable 64-bit keys of corridors and corridor-periods: what the random streams are keyed by.

A corridor's own noise and a cell's sampling noise are drawn by
``flowlens.informal._kernel.hashed_normal`` from (seed, key, draw). The key is a
hash of what the stream belongs to, never a position: adding, removing or
reordering corridors of the baseline or rows of the panel leaves every other
corridor's and cell's draws bit-identical.

- corridor key: FNV-1a (64 bit) over the UTF-8 bytes of ``origin``, a unit
  separator (0x1F) and ``destination``, finished by the splitmix64 mixer;
- cell key: the corridor key and the period's first day (days since 1970),
  mixed the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEPARATOR = "\x1f"


def _mix(x: U64) -> U64:
    """splitmix64's finaliser: every input bit moves about half of the output bits."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        mixed: U64 = x ^ (x >> np.uint64(31))
    return mixed


def corridor_keys(origin: pl.Series, destination: pl.Series) -> U64:
    """One stable 64-bit key per (origin, destination), from the codes alone.

    Vectorised over the corridors: the names are encoded once into a byte matrix
    (one row per corridor, zero-padded), then hashed column by column (a handful
    of byte positions, not one step per corridor). Padding bytes leave the hash
    unchanged, so a key does not depend on the longest name beside it.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.informal._keys import corridor_keys
    >>> a = corridor_keys(pl.Series(["USA", "GBR"]), pl.Series(["SOM", "SOM"]))
    >>> b = corridor_keys(pl.Series(["GBR"]), pl.Series(["SOM"]))
    >>> bool(a[1] == b[0]), bool(a[0] != a[1])
    (True, True)
    """
    names = pl.select(
        pl.concat_str(
            origin.cast(pl.String), pl.lit(_SEPARATOR), destination.cast(pl.String)
        ).alias("name")
    ).to_series()
    encoded = np.strings.encode(names.to_numpy().astype(np.str_), "utf-8")
    width = max(encoded.dtype.itemsize, 1)
    matrix = np.frombuffer(encoded.tobytes(), dtype=np.uint8).reshape(len(names), width)
    key = np.full(len(names), _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(width):  # byte positions of the longest name, not corridors
            byte = matrix[:, position].astype(np.uint64)
            key = np.where(byte > 0, (key ^ byte) * _FNV_PRIME, key)
    return _mix(key)


def cell_keys(corridor_key: U64, period_start: I64) -> U64:
    """One stable 64-bit key per corridor-period: its corridor's key and its first day.

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.informal._keys import cell_keys
    >>> keys = cell_keys(np.array([7, 7], dtype=np.uint64), np.array([16436, 16467]))
    >>> bool(keys[0] != keys[1])
    True
    """
    day = np.asarray(period_start, dtype=np.int64).astype(np.uint64)  # two's complement
    with np.errstate(over="ignore"):
        return _mix(corridor_key.astype(np.uint64) ^ _mix(day * _GOLDEN + _GOLDEN))
