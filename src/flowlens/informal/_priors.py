"""Prior distributions for scenario parameters: a value known exactly, or a range with a shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from flowlens.errors import ParameterError

F64 = npt.NDArray[np.float64]


@runtime_checkable
class Prior(Protocol):
    """What a scenario parameter can be: anything that draws ``n`` values and knows its mean.

    :class:`Fixed`, :class:`Uniform` and :class:`Triangular` are priors; so is any object
    of yours with these four members (a lognormal, draws from a posterior).

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.informal import Prior, Triangular
    >>> prior = Triangular(0.1, 0.3, 0.6)
    >>> isinstance(prior, Prior)
    True
    >>> draws = prior.sample(np.random.default_rng(0), 10_000)
    >>> bool(prior.low <= np.median(draws) <= prior.high), round(prior.mean, 3)
    (True, 0.333)
    """

    def sample(self, rng: np.random.Generator, n: int) -> F64:
        """``n`` independent draws."""
        ...

    @property
    def mean(self) -> float:
        """The expected value."""
        ...

    @property
    def low(self) -> float:
        """A low value (the 5th percentile, or the minimum) for sensitivity tables."""
        ...

    @property
    def high(self) -> float:
        """A high value (the 95th percentile, or the maximum) for sensitivity tables."""
        ...


@dataclass(frozen=True)
class Fixed:
    """A parameter known exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.informal import Fixed
    >>> Fixed(0.6).sample(np.random.default_rng(0), 3).tolist()
    [0.6, 0.6, 0.6]
    """

    value: float

    def __post_init__(self) -> None:
        if not _finite(self.value):
            msg = f"Fixed needs a finite number, got {self.value!r}"
            raise ParameterError(msg)

    def sample(self, rng: np.random.Generator, n: int) -> F64:
        """``n`` copies of the value."""
        return np.full(n, float(self.value))

    @property
    def mean(self) -> float:
        """The value."""
        return float(self.value)

    @property
    def low(self) -> float:
        """The value."""
        return float(self.value)

    @property
    def high(self) -> float:
        """The value."""
        return float(self.value)


@dataclass(frozen=True)
class Uniform:
    """Every value between ``lower`` and ``upper`` equally likely.

    Examples
    --------
    >>> from flowlens.informal import Uniform
    >>> Uniform(0.35, 0.75).mean
    0.55
    """

    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not (_finite(self.lower, self.upper) and self.lower <= self.upper):
            msg = f"Uniform needs lower <= upper, got {self.lower} and {self.upper}"
            raise ParameterError(msg)

    def sample(self, rng: np.random.Generator, n: int) -> F64:
        """``n`` draws."""
        return rng.uniform(self.lower, self.upper, n)

    @property
    def mean(self) -> float:
        """The midpoint."""
        return round((self.lower + self.upper) / 2.0, 12)

    @property
    def low(self) -> float:
        """The 5th percentile."""
        return self.lower + 0.05 * (self.upper - self.lower)

    @property
    def high(self) -> float:
        """The 95th percentile."""
        return self.lower + 0.95 * (self.upper - self.lower)


@dataclass(frozen=True)
class Triangular:
    """A most likely value ``mode`` between ``lower`` and ``upper``: how ranges from the
    literature ("60-80%, most often cited 70%") are written down.

    Examples
    --------
    >>> from flowlens.informal import Triangular
    >>> round(Triangular(0.6, 0.7, 0.8).mean, 3)
    0.7
    """

    lower: float
    mode: float
    upper: float

    def __post_init__(self) -> None:
        if not (
            _finite(self.lower, self.mode, self.upper) and self.lower <= self.mode <= self.upper
        ):
            msg = (
                f"Triangular needs lower <= mode <= upper, got "
                f"{self.lower}, {self.mode}, {self.upper}"
            )
            raise ParameterError(msg)

    def sample(self, rng: np.random.Generator, n: int) -> F64:
        """``n`` draws."""
        if self.lower == self.upper:
            return np.full(n, float(self.lower))
        return rng.triangular(self.lower, self.mode, self.upper, n)

    @property
    def mean(self) -> float:
        """``(lower + mode + upper) / 3``."""
        return (self.lower + self.mode + self.upper) / 3.0

    def _quantile(self, q: float) -> float:
        a, c, b = self.lower, self.mode, self.upper
        if a == b:
            return a
        split = (c - a) / (b - a)
        if q <= split:
            return a + math.sqrt(q * (b - a) * (c - a))
        return b - math.sqrt((1 - q) * (b - a) * (b - c))

    @property
    def low(self) -> float:
        """The 5th percentile."""
        return self._quantile(0.05)

    @property
    def high(self) -> float:
        """The 95th percentile."""
        return self._quantile(0.95)


@dataclass(frozen=True)
class Split:
    """How a displaced flow divides: to informal channels, to other formal providers, or
    not sent at all; a Dirichlet draw with these means and a ``concentration`` (higher
    is more certain: 20 gives each share a standard deviation of about 0.1 at 0.5).

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.informal import Split
    >>> shares = Split(0.5, 0.3).sample(np.random.default_rng(0), 4)
    >>> shares.shape, bool(np.allclose(shares.sum(axis=1), 1.0))
    ((4, 3), True)
    >>> Split(0.5, 0.3).lost
    0.2
    """

    informal: float = 0.5
    other_formal: float = 0.3
    concentration: float | None = 20.0

    def __post_init__(self) -> None:
        shares = (self.informal, self.other_formal)
        if not (_finite(*shares) and min(shares) >= 0 and sum(shares) <= 1):
            msg = (
                "Split needs informal >= 0, other_formal >= 0 and informal + other_formal <= 1, "
                f"got {self.informal} and {self.other_formal}"
            )
            raise ParameterError(msg)
        if self.concentration is not None and not (
            _finite(self.concentration) and self.concentration > 0
        ):
            msg = f"Split.concentration must be positive (or None: fixed), got {self.concentration}"
            raise ParameterError(msg)

    @property
    def lost(self) -> float:
        """The share not sent at all."""
        return round(1.0 - self.informal - self.other_formal, 12)

    @property
    def means(self) -> tuple[float, float, float]:
        """(informal, other formal, lost)."""
        return (self.informal, self.other_formal, self.lost)

    def sample(self, rng: np.random.Generator, n: int) -> F64:
        """``(n, 3)`` draws of (informal, other formal, lost), each row summing to 1."""
        means = np.array(self.means)
        if self.concentration is None:
            return np.tile(means, (n, 1))
        positive = means > 0
        draws = np.zeros((n, 3))
        if positive.sum() == 1:
            draws[:, positive] = 1.0
            return draws
        draws[:, positive] = rng.dirichlet(means[positive] * self.concentration, n)
        return draws


def _finite(*values: object) -> bool:
    """Whether every value is a real number that is not NaN or infinite (bools are not numbers)."""
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def as_prior(value: float | Prior, what: str) -> Prior:
    """A number becomes :class:`Fixed`; a prior is checked to be one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            msg = f"{what} must be a finite number or a prior, got {value!r}"
            raise ParameterError(msg)
        return Fixed(float(value))
    if not isinstance(value, Prior):
        msg = f"{what} must be a number or a prior (Fixed, Uniform, Triangular), got {value!r}"
        raise ParameterError(msg)
    return value


def support(prior: Prior) -> tuple[float, float]:
    """The smallest and largest values ``prior`` draws.

    :class:`Fixed`, :class:`Uniform` and :class:`Triangular` know theirs; a prior of
    another class is read by its ``lower`` and ``upper`` attributes when it has them,
    else by its ``low`` and ``high`` percentiles (its draws are checked too, see
    :func:`checked_sample`).

    Examples
    --------
    >>> from flowlens.informal._priors import Triangular, support
    >>> support(Triangular(0.2, 0.8, 1.6))
    (0.2, 1.6)
    """
    if isinstance(prior, Fixed):
        return (float(prior.value), float(prior.value))
    lower, upper = getattr(prior, "lower", None), getattr(prior, "upper", None)
    if _finite(lower, upper):
        return (float(lower), float(upper))  # type: ignore[arg-type]
    return (float(prior.low), float(prior.high))


def _range_text(lower: float, upper: float) -> str:
    return f"lie in [{lower:g}, {upper:g}]" if math.isfinite(upper) else f"be >= {lower:g}"


def in_range(prior: Prior, what: str, lower: float, upper: float = math.inf) -> Prior:
    """``prior`` itself when every value it draws lies in ``[lower, upper]``.

    Raises
    ------
    ParameterError
        Naming the parameter, the prior and the allowed range: nothing is clipped.

    Examples
    --------
    >>> from flowlens.informal._priors import Uniform, in_range
    >>> in_range(Uniform(-3.0, 0.0), "cost_increase_pp", 0.0)
    Traceback (most recent call last):
    ...
    flowlens.errors.ParameterError: cost_increase_pp must be >= 0, got Uniform(lower=-3.0, upper=0.0) (from -3 to 0)
    """
    low, high = support(prior)
    if not (lower <= low and high <= upper):  # NaN fails both
        msg = f"{what} must {_range_text(lower, upper)}, got {prior!r} (from {low:g} to {high:g})"
        raise ParameterError(msg)
    return prior


def checked_sample(
    prior: Prior,
    rng: np.random.Generator,
    n: int,
    what: str,
    *,
    lower: float,
    upper: float = math.inf,
) -> F64:
    """``n`` draws of ``prior``, checked to be finite and within ``[lower, upper]`` (never clipped).

    Examples
    --------
    >>> import numpy as np
    >>> from flowlens.informal._priors import Uniform, checked_sample
    >>> checked_sample(Uniform(0.2, 0.4), np.random.default_rng(0), 3, "withdrawn", lower=0.0, upper=1.0).round(2).tolist()
    [0.33, 0.25, 0.2]
    """
    values = np.asarray(prior.sample(rng, n), dtype=np.float64)
    bad = ~(np.isfinite(values) & (values >= lower) & (values <= upper))
    if bad.any():
        msg = (
            f"{what}: the prior {prior!r} drew {float(values[bad][0])!r}; its draws must "
            f"{_range_text(lower, upper)}"
        )
        raise ParameterError(msg)
    return values
