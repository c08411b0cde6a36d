"""What `evalkit run --dry-run` prints: per system, what a run would translate and send."""

from __future__ import annotations

from rich.table import Table

from evalkit.safe_text import terminal
from evalkit.translate import TranslationPlan


def dry_run_table(plans: dict[str, TranslationPlan]) -> Table:
    table = Table(title="dry run: nothing translated, nothing stored", title_justify="left")
    for column in ("system", "units", "distinct", "cached", "to translate"):
        table.add_column(column, justify="left" if column == "system" else "right")
    table.add_column("requests", justify="right")
    table.add_column("prompt tokens", justify="right")
    table.add_column("max completion tokens", justify="right")
    for label, plan in plans.items():
        sent = plan.requests
        table.add_row(
            terminal(label),
            str(plan.units),
            str(plan.distinct),
            str(plan.cached),
            str(plan.to_translate),
            "–" if sent is None else str(sent.requests),
            "–" if sent is None else f"{'' if sent.exact else '~'}{sent.prompt_tokens}",
            "–" if sent is None else str(sent.max_completion_tokens),
        )
    if any(p.requests is not None and not p.requests.exact for p in plans.values()):
        table.caption = "~ estimated from characters: the server cannot count tokens"
    return table
