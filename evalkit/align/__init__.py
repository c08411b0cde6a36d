"""Alignment of a document with a reference that does not follow it line by line."""

from evalkit.align.document import Aligner, DocumentAlignment
from evalkit.align.judging import AlignedLink

__all__ = ["AlignedLink", "Aligner", "DocumentAlignment"]
