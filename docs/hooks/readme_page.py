"""MkDocs hook: the site's home page is README.md, so the two never differ.

`docs/index.md` holds only the marker `{{ readme }}`; the built page is the README with
its links into `docs/` made relative to the site (`docs/metrics.md` -> `metrics.md`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = "{{ readme }}"

_DOCS_LINK = re.compile(r"\]\(docs/")


def readme_markdown() -> str:
    """README.md as a page of the site."""
    return _DOCS_LINK.sub("](", README.read_text(encoding="utf-8"))


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, readme_markdown())
