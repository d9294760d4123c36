"""Crisis briefs: what diaspora money to expect after a crisis, from whom, through which channels.

:func:`crisis_brief` assembles flowlens' official tables, the corridor graph, the
bilateral estimates, surge detection, costs, de-risking and informal estimates into
one frozen :class:`CrisisBrief` with the provenance of every number; it shows itself
in a notebook and writes one self-contained HTML file (``to_html``) or Markdown.
"""

from flowlens.brief._brief import PRIOR_WARNING, CrisisBrief, crisis_brief
from flowlens.brief._response import LITERATURE
from flowlens.brief._sources import SOURCE_KEYS

__all__ = ["LITERATURE", "PRIOR_WARNING", "SOURCE_KEYS", "CrisisBrief", "crisis_brief"]
