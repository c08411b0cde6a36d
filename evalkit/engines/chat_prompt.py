"""Turning a translation request into a chat prompt, and an LLM's reply into a translation.

The default prompt (a short system turn; the instruction and the text in the user turn):

    system: You are a professional translator.
    user:   Translate the following {source} text into {target}. Output only the
            translation.

            {text}

Small instruct models follow an instruction in the user turn better than one in the
system turn: with a long system instruction, the 0.5B default model sometimes answered
with the instruction itself. Few-shot examples (a JSONL file of {"src": ..., "tgt": ...})
become earlier user/assistant turns in the same format. A model without a chat template
(a base model) gets a plain completion prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.corpus.jsontext import parse_json
from evalkit.corpus.textfile import read_lines
from evalkit.engines.langcodes import language_name
from evalkit.errors import UserInputError

SYSTEM_PROMPT = "You are a professional translator."
DEFAULT_INSTRUCTION = (
    "Translate the following {source} text into {target}. Output only the translation.\n\n{text}"
)

PLAIN_TEMPLATE = "{source} text:\n{text}\n\n{target} translation:\n"
#: the completion prompt for base models behind a server, in the style of lm-eval's
#: translation tasks; the reply ends at the first newline
COMPLETION_TEMPLATE = "{source}: {text}\n{target}:"


@dataclass(frozen=True)
class Example:
    src: str
    tgt: str


def read_examples(path: Path) -> list[Example]:
    examples = []
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        row = parse_json(line, path, line_no)
        try:
            examples.append(Example(str(row["src"]), str(row["tgt"])))
        except (KeyError, TypeError):
            raise UserInputError(
                'each line must be a JSON object {"src": ..., "tgt": ...}', path, line_no
            ) from None
    return examples


def load_instruction(instruction_file: str | None) -> str:
    """The user-turn instruction: from a file, or the default; it must hold {text}."""
    if not instruction_file:
        return DEFAULT_INSTRUCTION
    instruction = "\n".join(read_lines(Path(instruction_file)))
    if "{text}" not in instruction:
        raise UserInputError("the instruction must contain {text}", instruction_file)
    return instruction


def chat_messages(
    text: str,
    src_lang: str,
    tgt_lang: str,
    instruction: str = DEFAULT_INSTRUCTION,
    examples: list[Example] | tuple[Example, ...] = (),
) -> list[dict[str, str]]:
    names = {"source": language_name(src_lang), "target": language_name(tgt_lang)}
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for example in examples:
        messages.append({"role": "user", "content": instruction.format(text=example.src, **names)})
        messages.append({"role": "assistant", "content": example.tgt})
    messages.append({"role": "user", "content": instruction.format(text=text, **names)})
    return messages


def render_prompt(
    tokenizer: Any, messages: list[dict[str, str]], text: str, src_lang: str, tgt_lang: str
) -> str:
    """The exact prompt text: the model's chat template, or the plain prompt without one."""
    if getattr(tokenizer, "chat_template", None):
        return str(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )
    return PLAIN_TEMPLATE.format(
        source=language_name(src_lang), target=language_name(tgt_lang), text=text
    )


_END_MARKERS = ("<|im_end|>", "<|endoftext|>", "<end_of_turn>", "<|eot_id|>", "</s>")
_PREAMBLE = re.compile(
    r"^\s*(?:sure[,!.]?\s*)?(?:here(?:'s| is)\s+(?:the|my|your)?\s*(?:english\s+)?"
    r"translation[^:\n]*:|(?:english\s+)?translation\s*:|english\s*:)\s*",
    re.IGNORECASE,
)
_NOTE = re.compile(r"^\s*\(?\s*(?:note|explanation|translation note)s?\s*:", re.IGNORECASE)
_QUOTES = {'"': '"', "“": "”", "«": "»", "'": "'"}


def clean_output(text: str, source: str) -> str:
    """Keep only the translation from an LLM reply.

    Cuts at the first end-of-turn marker, drops a "Here is the translation:" style
    preamble, drops lines that are notes or explanations, joins what is left into one
    line, and removes quotes wrapped around the whole reply when the source had none.
    """
    for marker in _END_MARKERS:
        text = text.split(marker, 1)[0]
    text = _PREAMBLE.sub("", text, count=1)
    lines = []
    for line in text.splitlines():
        if _NOTE.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    result = " ".join(lines).strip()
    source = source.strip()
    wrapped = len(result) >= 2 and result[0] in _QUOTES and result[-1] == _QUOTES[result[0]]
    if wrapped and not (source and source[0] in _QUOTES):
        result = result[1:-1].strip()
    return result


_STOP_CANDIDATES = ("<|im_end|>", "<|endoftext|>", "<end_of_turn>", "<|eot_id|>")


class PromptBuilder:
    """Everything prompt-related for one model: shared by the transformers and ct2 engines."""

    def __init__(
        self, tokenizer: Any, instruction_file: str | None, examples_file: str | None
    ) -> None:
        self.tokenizer = tokenizer
        self.instruction = load_instruction(instruction_file)
        self.examples = read_examples(Path(examples_file)) if examples_file else []

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def prompts(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return [
            render_prompt(
                self.tokenizer,
                chat_messages(text, src_lang, tgt_lang, self.instruction, self.examples),
                text,
                src_lang,
                tgt_lang,
            )
            for text in segments
        ]

    def source_lengths(self, segments: list[str]) -> list[int]:
        """Tokens per source text, which bound how much the model may generate."""
        return [len(self.tokenizer(text).input_ids) for text in segments]

    def stop_tokens(self) -> list[str]:
        """End-of-turn tokens the vocabulary has, plus the tokenizer's own EOS."""
        vocab = self.tokenizer.get_vocab()
        stops = [token for token in _STOP_CANDIDATES if token in vocab]
        eos = self.tokenizer.eos_token
        if eos and eos not in stops:
            stops.append(eos)
        return stops

    def fingerprint(self) -> dict[str, Any]:
        template = getattr(self.tokenizer, "chat_template", None)
        return prompt_fingerprint(template, self.instruction, self.examples)

    def clean(self, outputs: list[str], sources: list[str]) -> list[str]:
        specials = [t for t in self.tokenizer.all_special_tokens if t]
        cleaned = []
        for text, source in zip(outputs, sources, strict=True):
            text = clean_output(text, source)
            # until none is left: removing one can join the halves of another ("<<s>s>")
            while any(token in text for token in specials):
                for token in specials:
                    text = text.replace(token, "")
            cleaned.append(text.strip())
        return cleaned


def sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_fingerprint(template: Any, instruction: str, examples: list[Example]) -> dict[str, Any]:
    """What makes two prompts the same: system prompt, instruction, examples, template."""
    shots = json.dumps([[e.src, e.tgt] for e in examples], ensure_ascii=False)
    return {
        "system_prompt": SYSTEM_PROMPT,
        "instruction": instruction,
        "examples_sha256": sha256_text(shots),
        "template_sha256": sha256_text(str(template or PLAIN_TEMPLATE)),
    }


def saved_chat_template(folder: Path) -> str | None:
    """The chat template transformers gives the tokenizer saved in `folder`, read from the
    files themselves (`chat_template.jinja`, else `chat_template` in tokenizer_config.json),
    so a fingerprint needs neither transformers nor the tokenizer loaded. LookupError where
    the files do not settle it (no saved tokenizer, several named templates)."""
    config = folder / "tokenizer_config.json"
    if not config.is_file() or (folder / "chat_templates").is_dir():
        raise LookupError(folder)
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
    if template is not None and not isinstance(template, str):
        raise LookupError(folder)
    return template


def prompt_fingerprint_of(
    folder: Path,
    instruction_file: str | None,
    examples_file: str | None,
    builder: Callable[[], PromptBuilder],
) -> dict[str, Any]:
    """The prompt fingerprint of the model in `folder` without loading its tokenizer where
    its files allow; otherwise through `builder` (which loads it)."""
    try:
        template = saved_chat_template(folder)
    except LookupError:
        return builder().fingerprint()
    examples = read_examples(Path(examples_file)) if examples_file else []
    return prompt_fingerprint(template, load_instruction(instruction_file), examples)
