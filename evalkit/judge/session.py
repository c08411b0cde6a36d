"""What the judging page shows and saves, apart from HTTP: one annotator judging one run
under one protocol.

The page never learns which system wrote a translation, nor which items are attention
checks: an item is only its position in the queue, a source with its context, and a
translation. Every save is checked against the item (offsets inside the translation,
severities and categories of the protocol, a score from 0 to 100) before it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import langcodes
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evalkit.errors import UserInputError, first_problem
from evalkit.judge.attention import AttentionSummary, attention_summaries
from evalkit.judge.items import annotator_queue, decoy, neighbours
from evalkit.judgments.model import MQM_CATEGORIES, Judgment, Span, mqm_score
from evalkit.judgments.store import JudgmentStore, QueueItem
from evalkit.record import RunRecord, SegmentRow, find_run, read_record, read_segments

#: scripts written right to left (ISO 15924)
RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"})


class BadInput(ValueError):
    """A save the page should not have sent: answered 400 with the message."""


class NoSuchItem(LookupError):
    """An item index outside the queue: answered 404."""


class ItemUpdate(BaseModel):
    """What the page sends on every action: the item's whole judgment so far."""

    model_config = ConfigDict(extra="forbid")

    score: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    spans: list[Span] = []
    complete: bool = False


def text_direction(lang: str) -> str:
    """`rtl` for languages written in a right-to-left script (ar, fa, he, ur...)."""
    try:
        script = langcodes.Language.get(lang).maximize().script
    except (ValueError, LookupError):
        return "ltr"
    return "rtl" if script in RTL_SCRIPTS else "ltr"


def valid_category(category: str) -> bool:
    """`category` or `category/subcategory` from MQM_CATEGORIES."""
    main, _, sub = category.partition("/")
    return main in MQM_CATEGORIES and (not sub or sub in MQM_CATEGORIES[main])


class JudgeSession:
    """One annotator's queue over one stored run, and the judgments behind it."""

    def __init__(
        self,
        record: RunRecord,
        rows: list[SegmentRow],
        store: JudgmentStore,
        annotator: str,
        protocol: str,
        queue: list[QueueItem],
    ) -> None:
        self.record = record
        self.rows = rows
        self.by_id = {row.id: row for row in rows}
        self.store = store
        self.annotator = annotator
        self.protocol = protocol
        self.queue = queue
        self.src_langs = {doc.id: doc.src_lang for doc in record.test_set.documents}

    @classmethod
    def open(
        cls,
        results_dir: Path,
        run_ref: str,
        annotator: str,
        protocol: str,
        segments: int,
        seed: int,
        attention_checks: int | None,
        documents: Sequence[str] = (),
    ) -> tuple[JudgeSession, bool]:
        """The session for a stored run, and whether the annotator's queue existed already;
        a new queue takes its segments from `documents` only, when given."""
        folder = find_run(results_dir, run_ref)
        record = read_record(folder)
        rows = list(read_segments(folder))
        systems = [system.label for system in record.systems]
        store = JudgmentStore.in_results(results_dir)
        queue, reused = annotator_queue(
            store, record.run_id, rows, systems, annotator, protocol, segments, seed,
            attention_checks, _known(documents, rows, folder),
        )  # fmt: skip
        if not queue:
            raise UserInputError(
                "nothing to judge: no row has a source and a translation of every system",
                folder,
            )
        return cls(record, rows, store, annotator, protocol, queue), reused

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def _judgments(self) -> dict[tuple[str, str, bool], Judgment]:
        return {
            (j.segment_id, j.system, j.attention_check): j
            for j in self.store.judgments(self.run_id, self.annotator, self.protocol)
        }

    def _item(self, index: int) -> QueueItem:
        if not 0 <= index < len(self.queue):
            raise NoSuchItem(f"no item {index}: items are 0 to {len(self.queue) - 1}")
        return self.queue[index]

    def target(self, item: QueueItem, saved: Judgment | None = None) -> str:
        """The translation shown: the system's, or for an attention check the bad one
        (as saved, once saved)."""
        if saved is not None and saved.target:
            return saved.target
        if item.attention_check:
            return decoy(self.rows, item.segment_id, item.system) or ""
        return self.by_id[item.segment_id].hyp[item.system]

    def completed(self) -> list[bool]:
        saved = self._judgments()
        return [
            bool((j := saved.get((it.segment_id, it.system, it.attention_check))) and j.complete)
            for it in self.queue
        ]

    def state(self) -> dict[str, Any]:
        """Progress and where to resume: the first item not submitted (`items` when all are)."""
        done = self.completed()
        position = next((i for i, flag in enumerate(done) if not flag), len(done))
        return {
            "run_id": self.run_id,
            "annotator": self.annotator,
            "protocol": self.protocol,
            "items": len(self.queue),
            "complete": sum(done),
            "position": position,
            "categories": {main: list(subs) for main, subs in MQM_CATEGORIES.items()},
        }

    def item(self, index: int) -> dict[str, Any]:
        """One item as the page shows it: no system name, no attention-check flag."""
        item = self._item(index)
        saved = self._judgments().get((item.segment_id, item.system, item.attention_check))
        row = self.by_id[item.segment_id]
        before, after = neighbours(self.rows, item.segment_id)
        src_lang = self.src_langs.get(row.doc_id, "und")
        tgt_lang = self.record.test_set.tgt_lang
        spans = [span.model_dump() for span in saved.spans] if saved else []
        return {
            "index": index,
            "items": len(self.queue),
            "protocol": self.protocol,
            "source": {"text": row.src, "lang": src_lang, "dir": text_direction(src_lang)},
            "context": {
                "before": before.src if before else None,
                "after": after.src if after else None,
            },
            "translation": {
                "text": self.target(item, saved),
                "lang": tgt_lang,
                # "auto": the text's own first strong letter decides, so a system that copied
                # its Arabic source through is shown right to left as what it is
                "dir": "auto",
            },
            "judgment": {
                "score": saved.score if saved else None,
                "spans": spans,
                "complete": saved.complete if saved else False,
            },
            "mqm_score": mqm_score(saved.spans) if saved else 0.0,
        }

    def save(self, index: int, payload: Any) -> dict[str, Any]:
        """Check and store the page's judgment of item `index` (every action sends one)."""
        item = self._item(index)
        try:
            update = ItemUpdate.model_validate(payload)
        except ValidationError as error:
            raise BadInput(first_problem(error)) from None
        saved = self._judgments().get((item.segment_id, item.system, item.attention_check))
        target = self.target(item, saved)
        spans = self._checked_spans(update.spans, target)
        if self.protocol == "mqm" and update.score is not None:
            raise BadInput("MQM takes no score: it comes from the error spans")
        if self.protocol != "mqm" and update.complete and update.score is None:
            raise BadInput("give a score from 0 to 100 before submitting")
        judgment = Judgment(
            run_id=self.run_id,
            segment_id=item.segment_id,
            system=item.system,
            annotator=self.annotator,
            protocol=self.protocol,  # type: ignore[arg-type]
            score=update.score,
            spans=spans,
            target=target,
            attention_check=item.attention_check,
            complete=update.complete,
            origin="browser",
        )
        self.store.save(judgment)
        done = self.completed()
        return {
            "saved": True,
            "complete": sum(done),
            "items": len(done),
            "mqm_score": mqm_score(spans),
        }

    def _checked_spans(self, spans: list[Span], target: str) -> list[Span]:
        if self.protocol == "da" and spans:
            raise BadInput("DA takes no error spans, only a score")
        spans = sorted(spans, key=lambda span: (span.start, span.end))
        for i, span in enumerate(spans):
            if not span.start < span.end <= len(target):
                raise BadInput(
                    f"span {span.start}-{span.end} is not inside the translation "
                    f"(0-{len(target)} characters)"
                )
            if i and span.start < spans[i - 1].end:
                raise BadInput(f"span {span.start}-{span.end} overlaps another error")
            if self.protocol == "esa" and span.category is not None:
                raise BadInput("ESA error spans take a severity, no category")
            if self.protocol == "mqm" and not (span.category and valid_category(span.category)):
                raise BadInput(f"unknown MQM category {span.category!r}")
        return spans

    def attention(self) -> AttentionSummary:
        """This annotator's attention checks; those not yet submitted count as pending."""
        judgments = self.store.judgments(self.run_id, self.annotator, self.protocol)
        summary = next(
            iter(attention_summaries(judgments)),
            AttentionSummary(self.annotator, self.protocol),
        )
        queued = sum(item.attention_check for item in self.queue)
        summary.pending = max(queued - summary.judged, 0)
        return summary


def _known(documents: Sequence[str], rows: Sequence[SegmentRow], folder: Path) -> list[str]:
    """The documents asked for, each checked against the run's."""
    present = list(dict.fromkeys(row.doc_id for row in rows))
    unknown = [doc for doc in documents if doc not in present]
    if unknown:
        raise UserInputError(
            f"no document {', '.join(map(repr, unknown))} in the run "
            f"(its documents: {', '.join(present)})",
            folder,
        )
    return list(documents)
