"""The translate stage: one hypothesis per source segment of every document, from each
system, through the translation cache (`hypotheses`)."""

from evalkit.translate.hypotheses import (
    Progress,
    SystemOutput,
    TranslationPlan,
    Unit,
    plan_translation,
    system_hypotheses,
    translation_units,
)

__all__ = [
    "Progress",
    "SystemOutput",
    "TranslationPlan",
    "Unit",
    "plan_translation",
    "system_hypotheses",
    "translation_units",
]
