"""evalkit: translate test sets with several systems, score them, store and compare runs."""

__version__ = "0.1.0"
