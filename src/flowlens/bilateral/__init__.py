"""Bilateral estimation: allocate each country's recorded inflows across sending countries.

Most countries publish their remittance inflows as one total; who sends them is
estimated. Ratha and Shaw (2007) allocate the total by the stock of emigrants in
each host country (rule 1), by that stock times the host country's income (rule 2),
or with host and origin incomes together (the World Bank's matrices). Records by
sender, where a central bank publishes them, beat every rule: :func:`estimate_bilateral`
uses them first, :func:`compare_bilateral` judges an estimate against them, and
:func:`ras` fits an allocation to sending countries' outflow totals as well.

References
----------
.. [1] D. Ratha and W. Shaw, "South-South Migration and Remittances", World Bank
   Working Paper 102, 2007.
"""

from flowlens.bilateral._compare import BilateralComparison, compare_bilateral
from flowlens.bilateral._estimate import (
    INCOME_ELASTICITY,
    INCOME_WINDOW,
    RULES,
    BilateralEstimate,
    estimate_bilateral,
)
from flowlens.bilateral._ras import RasResult, ras
from flowlens.bilateral._records import RESIDUAL_LABELS

__all__ = [
    "INCOME_ELASTICITY",
    "INCOME_WINDOW",
    "RESIDUAL_LABELS",
    "RULES",
    "BilateralComparison",
    "BilateralEstimate",
    "RasResult",
    "compare_bilateral",
    "estimate_bilateral",
    "ras",
]
