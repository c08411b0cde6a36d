"""Translation systems behind one interface, created by name from a spec string."""

from evalkit.engines import (  # noqa: F401  (importing registers each kind)
    copy,
    ct2,
    files,
    hf_causal,
    hf_seq2seq,
    openai_api,
    packaged,
)
from evalkit.engines.base import PrecomputedSystem, System, TranslationEngine
from evalkit.engines.registry import NamedSystem, create_system, create_systems, register

__all__ = [
    "NamedSystem",
    "PrecomputedSystem",
    "System",
    "TranslationEngine",
    "create_system",
    "create_systems",
    "register",
]
