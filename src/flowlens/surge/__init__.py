"""Crisis surge detection across thousands of series at once.

A series is one combination of the ``by`` keys (default: every key column of the
panel, so each corridor and flow type; ``by=["destination"]`` for each receiving
country's total). The period length is read from the panel's ``period`` column
(:func:`flowlens.panel_spec`): a quarterly panel is scored by quarters, and a
``freq`` that contradicts it raises. Every series is laid on one dense
series x period array; the baselines are exact rolling medians and median
absolute deviations computed by one sort per window over numpy's
``sliding_window_view``, with no Python loop per series. By default a baseline
uses only data before the period it scores (no look-ahead), so results stay valid
for real-time monitoring.

Methods
-------
``forecast`` (default)
    A one-step forecast of each period from the ``window`` periods before it (six
    years): season-category levels, a common drift and one effect per moving holiday,
    fitted on the logs, plus the mean of the last residuals; scored by the series' own
    past one-step errors. Outliers enter later fits as their forecast; three periods
    beyond 2.5 on a plateau are a level shift, re-anchored at once (``kind``).
``rolling``
    The trailing ``window`` periods' median and MAD of the level;
    ``score = (x - median) / (1.4826 * MAD)``.
``seasonal``
    The change from the same period one year earlier, ``r = log(x_t / x_{t-L})``
    (L = 12 months, 4 quarters, 52 weeks or 365 days), scored against the trailing
    ``window`` values of ``r``; the baseline is ``x_{t-L} * exp(median r)``. A
    yearly peak (December, Mother's Day in Mexico) recurs in ``x_{t-L}`` and is not a
    surge.
``calendar``
    ``seasonal``, with moving holidays taken out: ``h`` is the share of a period's
    days that fall in the window before a holiday of the receiving country (Eid for
    Muslim-majority countries, which moves about 11 days a year, so its month
    changes); the change in ``h`` from a year earlier explains part of ``r``, with a
    slope fitted per series by least squares over the trailing ``window``. At daily
    frequency ``h`` is 0 or 1; weekly and monthly, the share of the days.

Any other method is passed as a :class:`SurgeMethod` (``method=SurgeMethod(...)``);
there is no registry and no state in the process.

References
----------
.. [1] B. Iglewicz and D. C. Hoaglin, *How to Detect and Handle Outliers*, ASQC
   Quality Press, 1993: the modified z-score 0.6745 (x - median) / MAD, with
   |z| > 3.5 as the outlier rule (1 / 0.6745 = 1.4826, the MAD's consistency
   factor for normal data).
"""

from flowlens.surge._baselines import (
    AMOUNT_CV,
    DEFAULT_THRESHOLD,
    MAD_FLOOR_LOG,
    MAD_FLOOR_RELATIVE,
    MAD_SCALE,
    SUM_CV,
    rolling_median_mad,
)
from flowlens.surge._common import SurgeResult
from flowlens.surge._detect import detect_surges
from flowlens.surge._events import (
    attribute_surges,
    evaluate_surges,
    event_study,
    read_crisis_events,
    score_events,
    surge_episodes,
)
from flowlens.surge._forecast import (
    CLEAN_AT,
    FORECAST_FLOOR_LOG,
    FORECAST_THRESHOLD,
    HOLIDAY_RIDGE,
    SHIFT_AT,
    SHIFT_CONFIRM,
)
from flowlens.surge._methods import (
    BUILT_IN,
    Scores,
    SeriesArrays,
    SurgeMethod,
)
from flowlens.surge._shifts import CUSUM_DRIFT, CUSUM_THRESHOLD, level_shifts

__all__ = [
    "AMOUNT_CV",
    "BUILT_IN",
    "CLEAN_AT",
    "CUSUM_DRIFT",
    "CUSUM_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "FORECAST_FLOOR_LOG",
    "FORECAST_THRESHOLD",
    "HOLIDAY_RIDGE",
    "MAD_FLOOR_LOG",
    "MAD_FLOOR_RELATIVE",
    "MAD_SCALE",
    "SHIFT_AT",
    "SHIFT_CONFIRM",
    "SUM_CV",
    "Scores",
    "SeriesArrays",
    "SurgeMethod",
    "SurgeResult",
    "attribute_surges",
    "detect_surges",
    "evaluate_surges",
    "event_study",
    "level_shifts",
    "read_crisis_events",
    "rolling_median_mad",
    "score_events",
    "surge_episodes",
]
