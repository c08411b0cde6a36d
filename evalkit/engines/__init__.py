"""Translation systems behind one interface, created by name from a spec string."""

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
