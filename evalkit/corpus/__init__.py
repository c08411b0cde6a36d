"""Test sets: documents, their segments, and the loaders that read them from disk."""

from evalkit.corpus.model import Document, Side, TestSet

__all__ = ["Document", "Side", "TestSet"]
