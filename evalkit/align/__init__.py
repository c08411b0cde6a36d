"""Alignment of a document with a reference that does not follow it line by line."""

from evalkit.align.document import AlignedLink, Aligner, DocumentAlignment

__all__ = ["AlignedLink", "Aligner", "DocumentAlignment"]
