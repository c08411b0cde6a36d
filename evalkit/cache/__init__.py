"""What outlives a run in one SQLite file: translations, metric statistics, sentence
embeddings and chat replies (`translations`, `stores`), with the file's own safety rules
(`file`). The cache knows keys and bytes, not engines: `cache_key` builds every
translation key from plain strings."""

from evalkit.cache.translation import Translation
from evalkit.cache.translations import (
    CacheEntry,
    CacheInfo,
    StoreInfo,
    TranslationCache,
    cache_key,
    default_cache_path,
)

__all__ = [
    "CacheEntry",
    "CacheInfo",
    "StoreInfo",
    "Translation",
    "TranslationCache",
    "cache_key",
    "default_cache_path",
]
