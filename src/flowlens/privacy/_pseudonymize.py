"""Keyed pseudonyms for identifiers.

Pseudonymisation is not anonymisation: whoever holds the key can link a pseudonym
back to a known identifier by recomputing it, and the same sender keeps the same
pseudonym across tables, which is the point (counting distinct senders, following
one over time). Keep the key apart from the data, and publish aggregates through
small-cell suppression, not pseudonymised rows.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, TypeVar, overload

import polars as pl

from flowlens import schema as fs
from flowlens._frames import from_any
from flowlens.errors import MissingColumnError, ParameterError, SchemaError

__all__ = ["MIN_KEY_BYTES", "pseudonymize"]

MIN_KEY_BYTES = 32
"""Shortest key accepted: 32 bytes (256 bits), the output length of SHA-256. RFC 2104
(HMAC) advises keys no shorter than the hash output; NIST SP 800-107 Rev. 1 asks for
a key of at least the security strength wanted."""

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


@overload
def pseudonymize(flows: Frame, *, key: bytes | str, id_columns: Sequence[str] = ...) -> Frame: ...


@overload
def pseudonymize(flows: Any, *, key: bytes | str, id_columns: Sequence[str] = ...) -> Any: ...


def pseudonymize(
    flows: Any, *, key: bytes | str, id_columns: Sequence[str] = (fs.SENDER_ID,)
) -> Any:
    """Replace identifiers by keyed HMAC-SHA256 pseudonyms (64 hexadecimal characters).

    Parameters
    ----------
    flows
        A polars DataFrame or LazyFrame (lazy in, lazy out: the hashing streams), a
        pandas DataFrame, a pyarrow Table or an Arrow PyCapsule object.
    key
        The secret, at least ``MIN_KEY_BYTES`` (32) bytes; text is encoded as UTF-8.
        There is no default: generate one with ``secrets.token_bytes(32)`` and keep
        it out of the data. The same key gives the same pseudonyms, in any table.
    id_columns
        Identifier columns to replace (default ``sender_id``): a list of names.
        Values are hashed as text; nulls stay null.

    Returns
    -------
    The same kind of frame (an Arrow stream comes back as a polars DataFrame), with
    each of ``id_columns`` a String of pseudonyms.

    Raises
    ------
    ParameterError
        For a key shorter than ``MIN_KEY_BYTES`` or missing, and for ``id_columns``
        that is not a non-empty list of names.
    SchemaError
        For an identifier column of lists, structs, objects or bytes.

    Examples
    --------
    >>> import polars as pl
    >>> from flowlens.privacy import pseudonymize
    >>> flows = pl.DataFrame({"sender_id": ["S1", "S2", "S1", None], "amount": [1, 2, 3, 4]})
    >>> key = b"a secret of at least thirty-two bytes"
    >>> out = pseudonymize(flows, key=key)
    >>> out["sender_id"].n_unique(), out["sender_id"][0] == out["sender_id"][2], out["sender_id"][3]
    (3, True, None)
    >>> len(out["sender_id"][0])
    64
    >>> pseudonymize(flows, key="short")
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: key is 5 bytes: a pseudonymisation key needs at least 32 (256 bits); generate one with secrets.token_bytes(32) and store it apart from the data
    """
    secret = _checked_key(key)
    if isinstance(id_columns, str):
        id_columns = (id_columns,)
    if not id_columns or not all(isinstance(c, str) for c in id_columns):
        msg = f"id_columns must be a column name or a non-empty list of them, got {id_columns!r}"
        raise ParameterError(msg)
    table = from_any(flows, what="pseudonymize")
    schema = table.frame.collect_schema()
    MissingColumnError.require(schema.names(), *id_columns)
    for column in id_columns:
        if isinstance(schema[column], pl.List | pl.Array | pl.Struct | pl.Object | pl.Binary):
            msg = (
                f"column {column!r} has dtype {schema[column]}; identifiers are text or whole "
                "numbers: convert it first, e.g. pl.col(...).cast(pl.String)"
            )
            raise SchemaError(msg)

    def hashed(values: pl.Series) -> pl.Series:
        # each distinct identifier is hashed once per batch, then mapped back
        distinct = values.drop_nulls().unique()
        digests = [
            hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()
            for value in distinct.to_list()
        ]
        return values.replace_strict(distinct, digests, default=None, return_dtype=pl.String)

    hashed_columns = [
        pl.col(column)
        .cast(pl.String)
        .map_batches(hashed, return_dtype=pl.String, is_elementwise=True)
        for column in id_columns
    ]
    return table.back(table.frame.with_columns(hashed_columns))


def _checked_key(key: bytes | str) -> bytes:
    if key is None or isinstance(key, bool) or not isinstance(key, bytes | str):
        msg = (
            "pseudonymize needs key=bytes or text of at least 32 bytes; there is no default key: "
            "generate one with secrets.token_bytes(32) and store it apart from the data"
        )
        raise ParameterError(msg)
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(secret) < MIN_KEY_BYTES:
        msg = (
            f"key is {len(secret)} bytes: a pseudonymisation key needs at least {MIN_KEY_BYTES} "
            "(256 bits); generate one with secrets.token_bytes(32) and store it apart from the data"
        )
        raise ParameterError(msg)
    return secret
