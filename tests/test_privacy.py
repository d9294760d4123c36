"""Pseudonyms: keyed HMAC-SHA256, checked against the standard library and across frame kinds."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlens.errors import MissingColumnError, ParameterError
from flowlens.privacy import pseudonymize

from .conftest import as_kind, collected

KEY = bytes(range(32))


def as_polars(table: Any) -> pl.DataFrame:
    """Any kind of table as a polars DataFrame."""
    module = type(table).__module__.split(".")[0]
    if module == "pyarrow":
        return pl.DataFrame(pl.from_arrow(table))
    if module == "pandas":
        return pl.from_pandas(table)
    return collected(table)


def reference(value: str, key: bytes = KEY) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def test_pseudonyms_are_the_standard_hmac() -> None:
    flows = pl.DataFrame({"sender_id": ["S1", "é-ü", None], "org_id": [7, 7, 8]})
    out = pseudonymize(flows, key=KEY, id_columns=("sender_id", "org_id"))
    assert out["sender_id"].to_list() == [reference("S1"), reference("é-ü"), None]
    assert out["org_id"].to_list() == [reference("7"), reference("7"), reference("8")]
    # RFC 4231 test case 2 pins the construction itself
    assert reference("what do ya want for nothing?", b"Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


@pytest.mark.parametrize("kind", ["eager", "lazy", "arrow", "pandas"])
def test_every_input_kind_comes_back_as_itself(kind: str) -> None:
    flows = pl.DataFrame({"sender_id": ["S1", "S2", None], "amount": [1.0, 2.0, 3.0]})
    out = pseudonymize(as_kind(flows, kind), key=KEY)
    expected = {"eager": pl.DataFrame, "lazy": pl.LazyFrame}.get(kind)
    if expected is not None:
        assert isinstance(out, expected)
    else:
        assert type(out).__module__.split(".")[0] == ("pyarrow" if kind == "arrow" else "pandas")
    got = as_polars(out)
    assert got["sender_id"].to_list() == [reference("S1"), reference("S2"), None]
    assert got["amount"].to_list() == [1.0, 2.0, 3.0]


def test_lazy_in_lazy_out_and_the_same_pseudonyms() -> None:
    flows = pl.DataFrame({"sender_id": [f"S{i % 50}" for i in range(1000)]})
    eager = pseudonymize(flows, key=KEY)
    lazy = pseudonymize(flows.lazy(), key=KEY)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect(engine="streaming").equals(eager)
    categorical = pseudonymize(
        flows.with_columns(pl.col("sender_id").cast(pl.Categorical)), key=KEY
    )
    assert categorical.equals(eager)


def test_keys_are_required_and_long() -> None:
    flows = pl.DataFrame({"sender_id": ["S1"]})
    with pytest.raises(ParameterError, match="no default key"):
        pseudonymize(flows, key=None)  # type: ignore[call-overload]
    with pytest.raises(ParameterError, match="key is 31 bytes"):
        pseudonymize(flows, key=b"x" * 31)
    with pytest.raises(MissingColumnError, match="sender_id"):
        pseudonymize(pl.DataFrame({"amount": [1.0]}), key=KEY)
    with pytest.raises(ParameterError, match="id_columns must be a column name or a non-empty"):
        pseudonymize(flows, key=KEY, id_columns=[])
    one_name = pseudonymize(flows, key=KEY, id_columns="sender_id")  # a name, not its letters
    assert one_name.equals(pseudonymize(flows, key=KEY))
    other = pseudonymize(flows, key=KEY[::-1])
    assert other["sender_id"][0] != pseudonymize(flows, key=KEY)["sender_id"][0]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=40))
def test_equal_ids_equal_pseudonyms_and_nothing_else_changes(ids: list[str | None]) -> None:
    flows = pl.DataFrame(
        {"sender_id": ids, "row": range(len(ids))}, schema_overrides={"sender_id": pl.String}
    )
    out = pseudonymize(flows, key=KEY)
    assert out["row"].equals(flows["row"])
    assert out["sender_id"].to_list() == [None if v is None else reference(v) for v in ids]
