"""`llm-judge`: a chat model judges each translation, GEMBA-ESA style.

Two questions per segment (evalkit/metrics/llm_judge_prompt.py): which words are errors,
major or minor; then, shown those errors, a score from 0 to 100. The segment score is
that number; document and corpus scores are the mean over the segments whose replies
could be read. A reply that cannot be read (evalkit/metrics/llm_judge_parse.py) is never
guessed at: the segment has no score, its row is flagged `unscored:llm-judge`, and the
run's notes count such rows per system. Error spans whose quoted text is found in the
hypothesis are kept on the row (`spans`), as xCOMET's are, and marked in the report.

The judge is any engine that runs a chat model (evalkit/engines/chat_completion.py):

    --metric llm-judge                                  the default packaged model
    --metric llm-judge:packaged:qwen2.5-coder-1.5b-instruct
    --metric llm-judge:hf-causal:FOLDER,threads=2
    --metric llm-judge,engine=openai:MODEL,base_url=http://host:8000/v1

The engine is the spec's argument or `engine=`; every other option except
`reply_tokens` (the cap on each reply, default 256) is the engine's own, checked by it.
Decoding is greedy (the engines' default; for `openai`, temperature 0 and seed 0), so a
reply is a function of the conversation: replies are kept in the translation cache file
and a rerun asks nothing again.

Reference-free: GEMBA-ESA shows the judge the source and the translation only, so it also
scores documents without a reference, and a reference never changes its number.

Signature: prompt version and digest, parser version, the engine's kind, model and
fingerprint digest, the reply cap, and the language pair the prompt names.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from evalkit.cache import TranslationCache
from evalkit.engines.base import System
from evalkit.engines.chat_completion import ChatCache, can_chat
from evalkit.engines.credentials import refuse_credentials_in_spec, refuse_secret_options
from evalkit.engines.langcodes import language_name
from evalkit.errors import UserInputError
from evalkit.metrics.base import Metric, MetricUnavailable, Stats
from evalkit.metrics.llm_judge_parse import (
    PARSER_VERSION,
    SEVERITIES,
    FoundError,
    locate,
    parse_score,
    parse_spans,
)
from evalkit.metrics.llm_judge_prompt import (
    PROMPT_VERSION,
    prompt_digest,
    render_spans,
    score_conversation,
    spans_conversation,
)
from evalkit.registry import Build, Languages, Spec, parse_spec

DEFAULT_JUDGE = "packaged:qwen2.5-coder-0.5b-instruct"
#: the cap on the score reply: a number, perhaps a few words around it
SCORE_REPLY_TOKENS = 16
#: statistics: spans reply read, score reply read, score, major, minor, quotes found
#: nowhere, spans placed, then (start, end, severity) per placed span (severity: index
#: in SEVERITIES plus one)
_HEAD = 7


class JudgeOptions(BaseModel):
    """`engine=KIND:ARG` and `reply_tokens=N`; any other option goes to the engine."""

    model_config = ConfigDict(extra="allow")
    engine: str | None = None
    reply_tokens: int = Field(256, ge=16, le=8192)


class LLMJudge(Metric):
    """GEMBA-ESA with a chat model: error spans (major/minor) and a 0-100 score."""

    name = "llm-judge"
    needs_reference = False
    needs_source = True
    higher_is_better = True
    Options: ClassVar[type[BaseModel]] = JudgeOptions
    #: why a row where the metric applies may have no score (said in the run's notes)
    unscored_reason: ClassVar[str] = "the judge's reply could not be parsed"

    def __init__(
        self,
        engine_spec: str = DEFAULT_JUDGE,
        engine_options: dict[str, Any] | None = None,
        reply_tokens: int = 256,
        languages: Languages | None = None,
    ) -> None:
        refuse_credentials_in_spec(engine_spec)
        parsed = parse_spec(engine_spec)
        options = {**parsed.options, **(engine_options or {})}
        refuse_secret_options(options)
        from evalkit.engines.registry import ENGINES

        self.engine_spec = engine_spec
        self.engine: System = ENGINES.create(
            Spec(engine_spec, parsed.name, parsed.argument, options)
        )
        if not can_chat(self.engine):
            raise UserInputError(
                f"llm-judge: the {parsed.name!r} engine cannot hold a chat; use packaged, "
                "hf-causal, ct2 or openai (mode=chat)"
            )
        self.reply_tokens = reply_tokens
        languages = languages or Languages()
        self.src_langs = languages.src_langs
        self.tgt_lang = languages.tgt_lang
        self._cache: TranslationCache | None = None

    @classmethod
    def build(cls, build: Build) -> Metric:
        options = build.options
        assert isinstance(options, JudgeOptions)
        if build.argument and options.engine:
            raise UserInputError("llm-judge: name the engine once (llm-judge:SPEC or engine=SPEC)")
        spec = build.argument or options.engine or DEFAULT_JUDGE
        extra = {key: str(value) for key, value in (options.model_extra or {}).items()}
        return cls(spec, extra, options.reply_tokens, build.languages)

    # -- identity ----------------------------------------------------------------------

    @cached_property
    def fingerprint(self) -> dict[str, Any]:
        return self.engine.fingerprint()

    @cached_property
    def _chat(self) -> ChatCache:
        chat = ChatCache(self.engine, self.reply_tokens, self.fingerprint)
        chat.cache = self._cache
        return chat

    def use_chat_cache(self, cache: TranslationCache) -> None:
        """Keep replies in the run's cache file (evalkit/engines/chat_completion.py)."""
        self._cache = cache
        if "_chat" in self.__dict__:
            self._chat.cache = cache

    @property
    def source_language(self) -> str:
        names = [language_name(code) for code in self.src_langs]
        return " or ".join(names) if names else "Source"

    def signature(self) -> str:
        fingerprint = self.fingerprint
        model = fingerprint.get("model", "?")
        kind = getattr(self.engine, "kind", "?")
        digest = self.engine.fingerprint_hash()[:12]
        langs = f"{'+'.join(self.src_langs) or '?'}-{self.tgt_lang}"
        return (
            f"llm-judge|prompt:{PROMPT_VERSION}+{prompt_digest()}|parser:{PARSER_VERSION}|"
            f"judge:{kind}:{model}@{digest}|reply_tokens:{self.reply_tokens}|langs:{langs}|"
            "reference:no"
        )

    def check_available(self) -> None:
        from evalkit.engines.packaged import PackagedEngine
        from evalkit.engines.packaged_models import missing_parts

        if isinstance(self.engine, PackagedEngine):
            missing = missing_parts(self.engine.model)
            if missing:
                raise MetricUnavailable(
                    self.name,
                    f"the judge model needs packages: {' '.join(missing)} "
                    "(pip install 'evalkit[models]')",
                )

    # -- scoring -----------------------------------------------------------------------

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        """Ask for spans, then, for the replies that could be read, for a score."""
        if not hypotheses:
            return []
        src_name, tgt_name = self.source_language, language_name(self.tgt_lang)
        span_replies = self._chat.replies(
            [
                spans_conversation(src, hyp, src_name, tgt_name)
                for src, hyp in zip(sources, hypotheses, strict=True)
            ]
        )
        readings = [parse_spans(reply) for reply in span_replies]
        to_score = [i for i, reading in enumerate(readings) if reading.parsed]
        score_replies = self._chat.replies(
            [
                score_conversation(
                    sources[i],
                    hypotheses[i],
                    render_spans([(e.severity, e.category, e.text) for e in readings[i].errors]),
                    src_name,
                    tgt_name,
                )
                for i in to_score
            ]
        )
        scores: dict[int, float | None] = {
            i: parse_score(reply) for i, reply in zip(to_score, score_replies, strict=True)
        }
        return [
            _statistics(reading.parsed, scores.get(i), reading.errors, hypotheses[i])
            for i, reading in enumerate(readings)
        ]

    def corpus_score(self, stats: Sequence[Stats]) -> float:
        """The mean of the segment scores that could be read (None when none could)."""
        scored = [row[2] for row in stats if row[0] and row[1]]
        return sum(scored) / len(scored) if scored else None  # type: ignore[return-value]

    def segment_score(self, stats: Stats) -> float:
        """The judge's score; None for an unparseable reply (counted, never guessed)."""
        return stats[2] if stats[0] and stats[1] else None  # type: ignore[return-value]

    def segment_spans(self, stats: Stats, hypothesis: str) -> list[dict[str, object]] | None:
        placed = int(stats[6]) if len(stats) >= _HEAD else 0
        spans = []
        for k in range(placed):
            start, end, severity = (int(x) for x in stats[_HEAD + 3 * k : _HEAD + 3 * k + 3])
            spans.append(
                {
                    "start": start,
                    "end": end,
                    "severity": SEVERITIES[severity - 1],
                    "confidence": None,
                    "text": hypothesis[start:end],
                }
            )
        return spans or None


def _statistics(
    spans_read: bool, score: float | None, errors: Sequence[FoundError], hypothesis: str
) -> Stats:
    placed, missing = locate(errors, hypothesis)
    stats = [
        float(spans_read),
        float(score is not None),
        float(score) if score is not None else 0.0,
        float(sum(e.severity == "major" for e in errors)),
        float(sum(e.severity == "minor" for e in errors)),
        float(missing),
        float(len(placed)),
    ]
    for span in placed:
        stats += [float(span.start), float(span.end), float(SEVERITIES.index(span.severity) + 1)]
    return stats
