"""Sender privacy: keyed pseudonyms for identifiers, and safe publication of panels.

- :func:`pseudonymize` replaces identifiers by keyed HMAC-SHA256 pseudonyms.
- :func:`suppress_small_cells` withholds the corridor-panel cells that would reveal
  a sender (too few senders, or dominated by one or two), and enough further cells
  that the withheld values cannot be worked out from the totals.
"""

from flowlens.privacy._pseudonymize import MIN_KEY_BYTES, pseudonymize
from flowlens.privacy._suppress import (
    DEFAULT_DOMINANCE,
    DEFAULT_MIN_SENDERS,
    SuppressedPanel,
    suppress_small_cells,
)

__all__ = [
    "DEFAULT_DOMINANCE",
    "DEFAULT_MIN_SENDERS",
    "MIN_KEY_BYTES",
    "SuppressedPanel",
    "pseudonymize",
    "suppress_small_cells",
]
