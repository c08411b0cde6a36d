"""Reference-free diagnostics: cheap checks that explain a bad score.

Each one scores every segment with a number a user can sort by, and the corpus score is
the mean over segments (a rate for the 0/1 flags). None needs a reference, so all of them
reach documents that have none.
"""

from evalkit.metrics.diagnostics.language import OffTarget
from evalkit.metrics.diagnostics.length import LengthOutlier
from evalkit.metrics.diagnostics.numbers import NumberMismatch
from evalkit.metrics.diagnostics.repetition import Repetition
from evalkit.metrics.diagnostics.scripts import Untranslated

__all__ = ["LengthOutlier", "NumberMismatch", "OffTarget", "Repetition", "Untranslated"]
