"""``read_official``: which published table a file is, from its content, and its reader.

The file's first bytes say whether it is a workbook (.xlsx is a ZIP archive, .xls an
OLE2 compound file) or text; then each reader of that kind of file is tried, in an
order where a stricter reader comes before a looser one (the Banco de Mexico and
Remittance Prices Worldwide exports before the generic WDI reader), and the first
that reads it wins. Each reader checks the file's content (titles, header names,
sheet layouts), never its name. When none does, the error lists every reader and why
it refused.

A central bank's own series (Banco de Guatemala, Banco de la Republica, ...) has no
fixed layout: :func:`flowlens.read_series` reads it, with the date and value columns
named by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowlens.errors import FlowlensError, InputFormatError
from flowlens.official import (
    OfficialTable,
    _path_arg,
    _utf16_without_bom,
    read_banxico_monthly,
    read_banxico_quarterly_by_country,
    read_knomad_annual,
    read_rpw_corridors,
    read_wb_bilateral_matrix,
    read_wb_migrant_stock,
)
from flowlens.official_series import read_ocha_fts
from flowlens.wdi import read_wdi

__all__ = ["read_official"]

_WORKBOOK_READERS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("read_wb_bilateral_matrix", read_wb_bilateral_matrix),
    ("read_wb_migrant_stock", read_wb_migrant_stock),
    ("read_knomad_annual", read_knomad_annual),
    ("read_wdi", read_wdi),
)
_TEXT_READERS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("read_banxico_monthly", read_banxico_monthly),
    ("read_banxico_quarterly_by_country", read_banxico_quarterly_by_country),
    ("read_rpw_corridors", read_rpw_corridors),
    ("read_ocha_fts", read_ocha_fts),
    ("read_wdi", read_wdi),
)


def _kind(path: Path) -> str:
    """``workbook``, ``text`` or a refusal: from the first bytes, not the name."""
    if not path.exists():
        msg = f"no such file: {str(path)!r}"
        raise InputFormatError(msg)
    if path.is_dir():
        msg = f"{str(path)!r} is a directory: read_official reads one published table (a file)"
        raise InputFormatError(msg)
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        msg = f"{str(path)!r} is empty (0 bytes): expected a published table (CSV or workbook)"
        raise InputFormatError(msg)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "workbook"
    if _utf16_without_bom(head):
        msg = (
            f"{str(path)!r} looks like UTF-16 without a byte-order mark (a NUL in every other "
            "byte): re-save it as UTF-8 (in a spreadsheet: 'CSV UTF-8'), or convert it: "
            "iconv -f UTF-16LE -t UTF-8 in.csv > out.csv"
        )
        raise InputFormatError(msg)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = (
            f"{str(path)!r} is binary data, neither text nor an Excel workbook: expected a "
            "published table (CSV, .xlsx or .xls)"
        )
        raise InputFormatError(msg)
    return "text"


def read_official(path: str | Path) -> OfficialTable:
    """Read any published table flowlens knows, recognised from the file's content.

    Recognises the World Bank/KNOMAD bilateral remittance matrices (2016, 2017, 2021)
    and migrant-stock matrices (2013, 2017, 2021), KNOMAD annual inflows and outflows,
    any World Development Indicators download (bulk CSV, .xls/.xlsx, DataBank export),
    Banco de Mexico's monthly and by-country quarterly exports, Remittance Prices
    Worldwide and OCHA FTS humanitarian funding. The file's name plays no part.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    OfficialTable
        What the matching reader returns (a :class:`~flowlens.wdi.WdiTable` or
        :class:`~flowlens.official_series.HumanitarianFunding` where those apply); its
        ``notes`` end with which reader read it.

    Raises
    ------
    InputFormatError
        No reader recognised the file: the message lists each reader tried and why
        it refused (and points to :func:`flowlens.read_series` for a central bank's
        own series); or the file is empty, a directory, binary, or UTF-16 text
        without a byte-order mark.
    ParameterError
        ``path`` is not a path (a DataFrame, bytes, None).

    Examples
    --------
    >>> import flowlens as fl
    >>> t = fl.read_official("data/samples/real/wb_bilateral_remittance_2016_nov2017.xlsx")
    >>> t.source, t.notes[-1]
    ('World Bank/KNOMAD Bilateral Remittance Matrix 2016', 'flowlens: read by read_wb_bilateral_matrix (recognised by read_official)')
    >>> fl.read_official("data/samples/real/wb_wdi_official_exchange_rate_PA.NUS.FCRF_1960_2022.csv").notes[-1]
    'flowlens: read by read_wdi (recognised by read_official)'
    """
    source = _path_arg(path, "read_official")
    kind = _kind(source)
    readers = _WORKBOOK_READERS if kind == "workbook" else _TEXT_READERS
    refusals = []
    for name, reader in readers:
        try:
            table = reader(source)
        except FlowlensError as exc:
            refusals.append(f"  {name}: {str(exc).splitlines()[0][:300]}")
            continue
        return _noted(table, name)
    tried = {name for name, _ in readers}
    others = ", ".join(
        name
        for name, _ in (_TEXT_READERS if kind == "workbook" else _WORKBOOK_READERS)
        if name not in tried  # read_wdi reads both kinds: tried already
    )
    msg = (
        f"read_official: no reader recognised {str(source)!r} ({kind}); tried:\n"
        + "\n".join(refusals)
        + f"\n(readers of the other kind of file, not tried: {others}). A central bank's own "
        "series: fl.read_series(path, date=..., value=..., destination=..., unit=..., "
        "source=...); transfers: fl.load_flows(path)"
    )
    raise InputFormatError(msg)


def _noted(table: OfficialTable, name: str) -> OfficialTable:
    import dataclasses

    note = f"flowlens: read by {name} (recognised by read_official)"
    return dataclasses.replace(table, notes=(*table.notes, note))
