"""publisher: turn a blog's markdown posts into feeds, cards and announcements.

The pipeline, one module per stage::

    config/ -> posts/ -> (feeds | cards | announce) -> output.py + state

``build.build_site`` runs it; ``cli`` only parses arguments and calls it.
"""

__version__ = "0.1.0"
