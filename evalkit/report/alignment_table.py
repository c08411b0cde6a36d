"""An alignment shown for checking by eye, and its JSON form (`evalkit align`)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from evalkit.align import DocumentAlignment
from evalkit.safe_text import plain, terminal


def _clip(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def alignment_table(doc_id: str, alignment: DocumentAlignment, width: int | None) -> Table:
    """One row per link: source | reference | link shape | confidence | cost.

    Low-confidence and unlinked rows are marked in red, so they are the first ones a
    reader checks.
    """
    table = Table(
        title=Text.assemble(
            "doc ",
            terminal(doc_id),
            f" · {alignment.unit} alignment · {alignment.method} · "
            f"mean confidence {alignment.mean_confidence:.2f}",
        ),
        title_justify="left",
        show_lines=True,
    )
    table.add_column("src", justify="right", style="dim", no_wrap=True, min_width=3)
    table.add_column("source", ratio=1, overflow="fold")
    table.add_column("ref", justify="right", style="dim", no_wrap=True, min_width=3)
    table.add_column("reference", ratio=1, overflow="fold")
    table.add_column("link", justify="center", no_wrap=True, min_width=4)
    table.add_column("conf", justify="right", no_wrap=True, min_width=6)
    table.add_column("cost", justify="right", style="dim", no_wrap=True, min_width=5)
    for link in alignment.links:
        source = " ".join(alignment.src_units[i - 1] for i in link.src)
        reference = " ".join(alignment.ref_units[j - 1] for j in link.ref)
        confidence = Text(f"{link.confidence:.2f}")
        if link.low_confidence:
            confidence = Text(f"{link.confidence:.2f} !", style="red")
        table.add_row(
            ",".join(map(str, link.src)) or "–",
            terminal(_clip(source, width), None),
            ",".join(map(str, link.ref)) or "–",
            terminal(_clip(reference, width), None),
            link.shape,
            confidence,
            f"{link.cost:.2f}",
        )
    return table


def skipped_lines(alignment: DocumentAlignment) -> list[str]:
    """The lines left out of the alignment (plain text, hidden characters shown: print it
    with markup off)."""
    lines = []
    for side, skipped in (("source", alignment.skipped_src), ("reference", alignment.skipped_ref)):
        for item in skipped:
            lines.append(
                plain(f"{side} {alignment.unit} {item.index} left out ({item.reason}): {item.text}")
            )
    return lines
