"""The llm-judge prompts: GEMBA-ESA's two steps (Kocmi & Federmann 2023, "GEMBA-MQM";
Kocmi et al. 2024, "Error Span Annotation"), worded for this harness.

Step 1 (spans): the source and the translation, each between triple backticks; the model
lists the errors it finds, as `Major:` and `Minor:` sections of `category - "quoted
text"` lines, or `no-error` (two worked examples, written for this module, show the
format). Step 2 (score): the same texts and the errors found, rendered back in that
format; the model answers one number on ESA's 0-100 scale (0 no meaning preserved, 33
some meaning preserved, 66 most meaning preserved and few grammar mistakes, 100 perfect
meaning and grammar).

The judge sees source and translation only: GEMBA-ESA is reference-free (quality
estimation), so it also scores documents without a reference. `PROMPT_VERSION` and a
hash of every text here go into the metric's signature: change a word, bump the version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from evalkit.engines.chat_completion import Conversation

PROMPT_VERSION = "gemba-esa/1"

SPANS_SYSTEM = (
    "You are an annotator of machine translation quality. You identify translation errors "
    "and assess the quality of the translation."
)

SPANS_INSTRUCTION = """{source_lang} source:
```{source}```
{target_lang} translation:
```{translation}```

Based on the source segment and the machine translation between triple backticks, \
identify the errors in the translation and classify them. Error categories: accuracy \
(addition, mistranslation, omission, untranslated text), fluency (grammar, punctuation, \
spelling, register, inconsistency, character encoding), style (awkward), terminology \
(inappropriate for context, inconsistent use), non-translation, other, or no-error.
Each error is either major or minor. Major errors disrupt the flow and make the text \
difficult or impossible to understand. Minor errors do not disrupt the flow much: what \
the text is trying to say is still understandable.
Answer with a "Major:" line and a "Minor:" line, each followed by one line per error, \
written as: category - "the erroneous words, copied from the translation". Write \
no-error under a heading without errors."""

#: (source language, source, target language, translation, answer): written for this module
EXAMPLES = (
    (
        "Arabic",
        "ذهب الولد إلى المدرسة صباحاً مع أخيه الصغير.",
        "English",
        "The boy go to school at night with his brother.",
        'Major:\naccuracy/mistranslation - "at night"\n'
        'Minor:\nfluency/grammar - "go"\naccuracy/omission - "his brother"',
    ),
    (
        "Spanish",
        "El tren llega a las ocho de la mañana.",
        "English",
        "The train arrives at eight in the morning.",
        "Major:\nno-error\nMinor:\nno-error",
    ),
)

SCORE_SYSTEM = "You are an annotator of machine translation quality."

SCORE_INSTRUCTION = """Given the translation from {source_lang} to {target_lang} and the \
annotated error spans, assign a score on a continuous scale from 0 to 100. The scale has \
these reference points: 0="No meaning preserved", 33="Some meaning preserved", \
66="Most meaning preserved and few grammar mistakes", up to 100="Perfect meaning and \
grammar".

Score the following translation from {source_lang} source:
```{source}```
{target_lang} translation:
```{translation}```
Annotated error spans:
```{spans}```
Answer with the score only.
Score (0-100): """


def spans_conversation(
    source: str, translation: str, source_lang: str, target_lang: str
) -> Conversation:
    """Step 1: the worked examples as earlier turns, then the segment to annotate."""
    messages: Conversation = [{"role": "system", "content": SPANS_SYSTEM}]
    for ex_lang, ex_source, ex_target_lang, ex_translation, answer in EXAMPLES:
        messages.append(
            {
                "role": "user",
                "content": SPANS_INSTRUCTION.format(
                    source_lang=ex_lang,
                    source=ex_source,
                    target_lang=ex_target_lang,
                    translation=ex_translation,
                ),
            }
        )
        messages.append({"role": "assistant", "content": answer})
    messages.append(
        {
            "role": "user",
            "content": SPANS_INSTRUCTION.format(
                source_lang=source_lang,
                source=source,
                target_lang=target_lang,
                translation=translation,
            ),
        }
    )
    return messages


def score_conversation(
    source: str, translation: str, spans: str, source_lang: str, target_lang: str
) -> Conversation:
    """Step 2: the errors of step 1 (as `render_spans` writes them), then the score."""
    content = SCORE_INSTRUCTION.format(
        source_lang=source_lang,
        target_lang=target_lang,
        source=source,
        translation=translation,
        spans=spans,
    )
    return [{"role": "system", "content": SCORE_SYSTEM}, {"role": "user", "content": content}]


def render_spans(spans: Sequence[tuple[str, str, str]]) -> str:
    """(severity, category, text) triples in step 1's answer format, `no-error` where a
    severity has none: what step 2 is shown, whatever shape the model's reply had."""
    lines = []
    for severity in ("major", "minor"):
        lines.append(f"{severity.capitalize()}:")
        found = [(category, text) for sev, category, text in spans if sev == severity]
        lines += [f'{category or "error"} - "{text}"' for category, text in found] or ["no-error"]
    return "\n".join(lines)


def prompt_digest() -> str:
    """sha256 (first 12 hex digits) of every prompt text: in the signature with the version."""
    blob = json.dumps(
        [SPANS_SYSTEM, SPANS_INSTRUCTION, EXAMPLES, SCORE_SYSTEM, SCORE_INSTRUCTION],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
