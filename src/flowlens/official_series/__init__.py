"""Any central bank's monthly table, and OCHA FTS humanitarian funding, as official panels.

:func:`read_series` turns a national series as central banks publish it (a date or
a year and a month, a value, a unit such as ``US$ million``) into the corridor
panel of an :class:`~flowlens.OfficialTable`, with its provenance: one documented
call instead of one reader per bank. :func:`read_ocha_fts` reads the humanitarian
requirements and funding that OCHA's Financial Tracking Service publishes per
country, plan and year (the HDX CSV) into a country x year table.
"""

from __future__ import annotations

from flowlens.official_series._dates import MONTH_WORDS
from flowlens.official_series._fts import HumanitarianFunding, read_ocha_fts
from flowlens.official_series._series import read_series

__all__ = ["MONTH_WORDS", "HumanitarianFunding", "read_ocha_fts", "read_series"]
