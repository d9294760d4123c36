"""Sender privacy: keyed pseudonyms for identifiers, and safe publication of panels.

- :func:`pseudonymize` replaces identifiers by keyed HMAC-SHA256 pseudonyms.
- :func:`suppress_small_cells` withholds the corridor-panel cells that would reveal
  a sender (too few senders, dominated by one or two, or open to the p% rule), and
  enough further cells that no withheld value can be bounded from the totals more
  tightly than the protection levels.
- :func:`audit_suppression` solves a reader's linear programs for every withheld
  value and checks those levels.
"""

from flowlens.privacy._pseudonymize import MIN_KEY_BYTES, pseudonymize
from flowlens.privacy._suppress import (
    DEFAULT_DOMINANCE,
    DEFAULT_MIN_SENDERS,
    DEFAULT_P_RULE,
    DEFAULT_PROTECTION,
    SuppressedPanel,
    audit_suppression,
    suppress_small_cells,
)

__all__ = [
    "DEFAULT_DOMINANCE",
    "DEFAULT_MIN_SENDERS",
    "DEFAULT_PROTECTION",
    "DEFAULT_P_RULE",
    "MIN_KEY_BYTES",
    "SuppressedPanel",
    "audit_suppression",
    "pseudonymize",
    "suppress_small_cells",
]
