"""Exceptions raised by flowlens.

Every exception derives from :class:`FlowlensError`, itself a ``ValueError``, so a
service can catch one base class. Messages name the column, the value and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DisclosureWarning",
    "FlowlensError",
    "InputFormatError",
    "MissingColumnError",
    "OutputError",
    "OutputExistsError",
    "ParameterError",
    "ReferenceDataError",
    "SchemaError",
    "ValidationFailedError",
]


class FlowlensError(ValueError):
    """Base class of every error flowlens raises on purpose.

    Examples
    --------
    >>> import flowlens
    >>> issubclass(flowlens.MissingColumnError, flowlens.FlowlensError)
    True
    """


class ParameterError(FlowlensError):
    """An argument is out of its range or contradicts the data (a negative elasticity, a
    ``freq`` that is not the panel's, an unknown method name).

    Nothing is clipped or ignored: a bad argument raises this, with the value and the
    range or the choices.

    Examples
    --------
    >>> import flowlens as fl
    >>> from flowlens.errors import ParameterError
    >>> issubclass(ParameterError, fl.FlowlensError) and issubclass(ParameterError, ValueError)
    True
    """


class SchemaError(FlowlensError):
    """A column exists but has a type or content flowlens cannot use.

    Examples
    --------
    >>> from flowlens.errors import SchemaError
    >>> str(SchemaError("column 'amount' has dtype Boolean"))
    "column 'amount' has dtype Boolean"
    """


class InputFormatError(FlowlensError):
    """The source itself cannot be read (unknown file type, unreadable file, empty input).

    Examples
    --------
    >>> from flowlens.errors import InputFormatError
    >>> isinstance(InputFormatError("x"), ValueError)
    True
    """


class ReferenceDataError(FlowlensError):
    """A reference table (FX rates, aliases) passed by the user is malformed.

    Examples
    --------
    >>> from flowlens.errors import ReferenceDataError
    >>> isinstance(ReferenceDataError("x"), ValueError)
    True
    """


class MissingColumnError(SchemaError):
    """A required column is missing; the message lists the columns present and the closest match.

    Examples
    --------
    >>> from flowlens.errors import MissingColumnError
    >>> err = MissingColumnError.for_column("origin", ["orign", "amount"])
    >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
    required column 'origin' is missing; columns present: ['orign', 'amount'].
    Did you mean 'orign'? Rename it, or pass columns={'orign': 'origin'}.
    """

    def __init__(self, message: str, *, column: str, present: list[str]) -> None:
        super().__init__(message)
        self.column = column
        self.present = present

    @classmethod
    def require(cls, present: Iterable[str], *columns: str, what: str | None = None) -> None:
        """Raise for the first of ``columns`` that is not among ``present``.

        ``what`` names the table in the message (``"migrant_stock"``), for functions
        that take several.

        Examples
        --------
        >>> from flowlens.errors import MissingColumnError
        >>> MissingColumnError.require(["origin", "amount_usd"], "origin", "amount_usd")
        >>> MissingColumnError.require(["orign"], "origin")
        Traceback (most recent call last):
        ...
        flowlens.errors.MissingColumnError: required column 'origin' is missing; columns present: ['orign']. Did you mean 'orign'? Rename it, or pass columns={'orign': 'origin'}.
        >>> MissingColumnError.require(["iso"], "origin", what="migrant_stock")
        Traceback (most recent call last):
        ...
        flowlens.errors.MissingColumnError: migrant_stock: required column 'origin' is missing; ...
        """
        present = list(present)
        for column in columns:
            if column not in present:
                error = cls.for_column(column, present)
                if what is None:
                    raise error
                raise cls(f"{what}: {error}", column=column, present=present)

    @classmethod
    def for_column(cls, column: str, present: Iterable[str]) -> MissingColumnError:
        """Build the error for a missing ``column`` given the ``present`` columns.

        Examples
        --------
        >>> from flowlens.errors import MissingColumnError
        >>> MissingColumnError.for_column("date", ["amount"]).column
        'date'
        """
        present = list(present)
        message = f"required column {column!r} is missing; columns present: {present}."
        match = closest(column, present)
        if match is not None:
            message += (
                f" Did you mean {match!r}? Rename it, or pass columns={{{match!r}: {column!r}}}."
            )
        else:
            message += f" Pass columns={{'<your column>': {column!r}}} to map it."
        return cls(message, column=column, present=present)


class FileColumnError(MissingColumnError, InputFormatError):
    """A file lacks a column its reader needs: the wrong file for that reader.

    Both a :class:`MissingColumnError` (which column, which are present) and an
    :class:`InputFormatError` (the file is not the table the reader expects), so
    either ``except`` catches it.

    Examples
    --------
    >>> from flowlens.errors import FileColumnError, InputFormatError, MissingColumnError
    >>> err = FileColumnError("x.csv: required column 'PERIODO' is missing", column="PERIODO",
    ...                       present=["date"])
    >>> isinstance(err, InputFormatError), isinstance(err, MissingColumnError)
    (True, True)
    """


class OutputError(FlowlensError):
    """flowlens cannot or may not write there (a missing folder, a directory in the way,
    an input of the run).

    Examples
    --------
    >>> from flowlens.errors import FlowlensError, OutputError
    >>> issubclass(OutputError, FlowlensError)
    True
    """


class OutputExistsError(OutputError, FileExistsError):
    """The output exists already and ``overwrite=True`` (``--force``) was not given.

    Both a :class:`~flowlens.errors.FlowlensError` and a :class:`FileExistsError`.

    Examples
    --------
    >>> from flowlens.errors import OutputExistsError
    >>> issubclass(OutputExistsError, FileExistsError)
    True
    """


class ValidationFailedError(FlowlensError):
    """Raised by ``load_flows(..., strict=True)`` when any row is rejected.

    ``counts`` maps each rule to its number of rejected rows; ``examples`` holds the
    first rejected rows.

    Examples
    --------
    >>> from flowlens.errors import ValidationFailedError
    >>> ValidationFailedError("2 rows rejected", counts={"amount": 2}).counts
    {'amount': 2}
    """

    def __init__(
        self,
        message: str,
        *,
        counts: dict[str, int],
        examples: list[dict[str, object]] | None = None,
    ) -> None:
        super().__init__(message)
        self.counts = counts
        self.examples = examples or []


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``name`` (case-insensitive), or None.

    Examples
    --------
    >>> from flowlens.errors import closest
    >>> closest("destination", ["dest", "Destination_country", "amount"])
    'Destination_country'
    """
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    if hits:
        return lowered[hits[0]]
    contains = [c for c in candidates if name.lower() in c.lower() or c.lower() in name.lower()]
    return contains[0] if contains else None


class SuppressionNotice(UserWarning):
    """A writer applied small-cell suppression by default: what it withheld, in one line.

    Published files are suppressed by default; for analysis, keep the panel in
    memory (``corridor_panel`` is never suppressed) or write with ``unsafe=True``.

    Examples
    --------
    >>> from flowlens.errors import SuppressionNotice
    >>> issubclass(SuppressionNotice, UserWarning)
    True
    """


class DisclosureWarning(UserWarning):
    """Output written without small-cell suppression (``unsafe=True``).

    Examples
    --------
    >>> from flowlens.errors import DisclosureWarning
    >>> issubclass(DisclosureWarning, UserWarning)
    True
    """
