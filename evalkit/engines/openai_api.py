"""`openai:MODEL`: a model served behind an OpenAI-compatible HTTP API.

vLLM, SGLang, TGI, llama.cpp's server and hosted APIs all speak it, so one engine
evaluates a 70B model on a GPU cluster, several replicas, or a model behind an API. Each
unit is one request; the server batches them (vLLM: continuous batching, tensor and data
parallel), so scaling out is the server's work, and this engine only keeps `concurrency`
requests in flight, retries what is worth retrying and counts what it sent.

Same text as the local engines: chat mode sends the messages the local chat engines
render (system turn, instruction, few-shot turns) and cleans the reply the same way; the
generation cap is per unit, `max_length_ratio` times the source's token count plus 16
(never above `max_tokens`), counted by the server's `/tokenize` route where it has one,
by a local tokenizer folder (`tokenizer=`), or not at all (then the cap is `max_tokens`).
Completions mode (base models) renders the prompt here: a plain template by default
(`Arabic: ...\\nEnglish:`, stop at a newline), a `template_file`, or the chat template of
a local tokenizer folder.

The cache key is the fingerprint: the model id the server reports, the sampling settings
and the prompt, never the URL, concurrency or timeouts, so replicas and reruns share it.
Options that a spec cannot hold (JSON, commas) come from `options_file=` (a JSON object
of options) or `extra_body_file=` (a JSON object passed through in every request body,
e.g. vLLM's `top_k` or `repetition_penalty`).
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from evalkit.engines.base import (
    OnTranslated,
    RequestPlan,
    RequestStats,
    Translation,
    TranslationEngine,
)
from evalkit.engines.chat_prompt import (
    COMPLETION_TEMPLATE,
    SYSTEM_PROMPT,
    PromptBuilder,
    chat_messages,
    clean_output,
    load_instruction,
    read_examples,
    sha256_text,
)
from evalkit.engines.decoding import unit_budget
from evalkit.engines.http_retry import RetryableResponse
from evalkit.engines.langcodes import language_name
from evalkit.engines.openai_client import OpenAIClient, RequestRefused
from evalkit.engines.registry import register
from evalkit.errors import ServiceError, UnitFailed, UserInputError

_ESCAPES = {"n": "\n", "t": "\t", "|": "|", "\\": "\\"}


def _pipe_list(value: Any) -> Any:
    """`a|b` -> ["a", "b"]; `\\n`, `\\t`, `\\|` and `\\\\` stand for what a spec cannot hold."""
    if not isinstance(value, str):
        return value
    items = re.split(r"(?<!\\)\|", value)
    return [re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), item) for item in items if item]


def _json_object(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


PipeList = Annotated[list[str], BeforeValidator(_pipe_list)]


def _read_json_object(path: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UserInputError(f"cannot read {what}: {error.strerror}", path) from None
    except json.JSONDecodeError as error:
        raise UserInputError(f"{what} is not JSON: {error.msg}", path, error.lineno) from None
    if not isinstance(data, dict):
        raise UserInputError(f"{what} must hold a JSON object", path)
    return data


class ServedClientOptions(BaseModel):
    """The options of every served kind (the translation engine, the sentence encoder):
    where the replicas are, which variable holds the key, and the client's rules."""

    model_config = ConfigDict(extra="forbid")
    #: one or more replicas: URL1|URL2
    base_url: PipeList = []
    #: the NAME of the environment variable holding the API key (never the key)
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1)
    max_retries: int = Field(5, ge=0)
    #: seconds one request may take
    timeout: float = Field(300.0, gt=0)
    requests_per_minute: float | None = Field(None, gt=0)


class OpenAIOptions(ServedClientOptions):
    """base_url defaults to $EVALKIT_OPENAI_BASE_URL."""

    mode: Literal["chat", "completions"] = "chat"
    #: hard cap on generated tokens per unit
    max_tokens: int = Field(256, ge=1)
    #: generated tokens allowed per source token (plus 16), when the source can be counted
    max_length_ratio: float = Field(3.0, gt=0)
    temperature: float = Field(0.0, ge=0)
    seed: int | None = 0
    stop: PipeList = []
    extra_body: Annotated[dict[str, Any], BeforeValidator(_json_object)] = {}
    extra_body_file: str | None = None
    options_file: str | None = None
    instruction_file: str | None = None
    examples_file: str | None = None
    #: completions mode: a prompt template with {source}, {target} and {text}
    template_file: str | None = None
    #: a local tokenizer folder: counts tokens; in completions mode its chat template
    #: renders the prompt
    tokenizer: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_files(cls, data: Any) -> Any:
        """Options from `options_file` first, the spec's own on top; then extra_body_file."""
        if not isinstance(data, dict):
            return data
        if data.get("options_file"):
            data = {**_read_json_object(data["options_file"], "options_file"), **data}
        if data.get("extra_body_file"):
            extra = _read_json_object(data["extra_body_file"], "extra_body_file")
            data = {**data, "extra_body": {**extra, **_json_object(data.get("extra_body") or {})}}
        return data


@register("openai")
class OpenAIEngine(TranslationEngine):
    summary = "a model served behind an OpenAI-compatible HTTP API"
    Options = OpenAIOptions
    options: OpenAIOptions
    engine_version = 1

    def __init__(self, argument: str | None, options: OpenAIOptions | None = None) -> None:
        if not argument:
            raise UserInputError("openai needs the name the server serves: openai:MODEL")
        super().__init__(argument, options)
        o = self.options
        if o.mode == "chat" and o.template_file:
            raise UserInputError("template_file applies to mode=completions only")
        self.model = argument
        self.client = OpenAIClient.from_options(o)
        self.instruction = load_instruction(o.instruction_file)
        self.examples = read_examples(Path(o.examples_file)) if o.examples_file else []
        self.template = (
            Path(o.template_file).read_text(encoding="utf-8")
            if o.template_file
            else COMPLETION_TEMPLATE
        )
        if "{text}" not in self.template:
            raise UserInputError("the template must contain {text}", o.template_file)

    @property
    def batch_size(self) -> int:
        """Every unit in one call: the server batches, `concurrency` bounds what is in flight."""
        return 1 << 30

    # -- identity ----------------------------------------------------------------------

    @cached_property
    def _local_tokenizer(self) -> Any:
        if not self.options.tokenizer:
            return None
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise UserInputError(
                "tokenizer= needs transformers: pip install evalkit[models]"
            ) from None
        return AutoTokenizer.from_pretrained(self.options.tokenizer)

    @cached_property
    def _builder(self) -> PromptBuilder | None:
        """Completions mode with a local tokenizer: its chat template renders the prompt
        exactly as the local chat engines do."""
        if self._local_tokenizer is None:
            return None
        o = self.options
        return PromptBuilder(self._local_tokenizer, o.instruction_file, o.examples_file)

    @cached_property
    def _counter(self) -> str:
        """Who counts source tokens for the per-unit cap: checked once, in the fingerprint.
        Also checks that the servers are there and serve the model."""
        offered = self.client.models()
        if self.model not in offered:
            raise ServiceError(
                f"the server at {self.client.urls[0]} does not serve {self.model!r}; it "
                f"serves: {', '.join(offered) or 'nothing'}"
            )
        if self._local_tokenizer is not None:
            return "tokenizer"
        return "server" if self.client.can_tokenize(self.model) else "none"

    def fingerprint(self) -> dict[str, Any]:
        o = self.options
        prompt: dict[str, Any] = {
            "instruction": self.instruction,
            "examples_sha256": sha256_text(
                json.dumps([[e.src, e.tgt] for e in self.examples], ensure_ascii=False)
            ),
        }
        if o.mode == "chat":
            prompt["system_prompt"] = SYSTEM_PROMPT
        elif self._local_tokenizer is not None:
            prompt["template_sha256"] = sha256_text(str(self._local_tokenizer.chat_template))
            prompt["system_prompt"] = SYSTEM_PROMPT
        else:
            prompt["template"] = self.template
        return {
            "kind": self.kind,
            "engine_version": self.engine_version,
            "model": self.model,
            "mode": o.mode,
            "sampling": {
                "temperature": o.temperature,
                "seed": o.seed,
                "stop": self._stop,
                "max_tokens": o.max_tokens,
                "max_length_ratio": o.max_length_ratio,
                "extra_body": o.extra_body,
            },
            "length_cap": self._counter,
            "prompt": prompt,
        }

    # -- requests ----------------------------------------------------------------------

    @cached_property
    def _stop(self) -> list[str]:
        """Stop sequences: given, none in chat mode (the server stops at end of turn), the
        local tokenizer's end-of-turn tokens, or the newline that ends a plain prompt."""
        if self.options.stop:
            return self.options.stop
        if self.options.mode == "chat":
            return []
        if self._builder is not None:
            return self._builder.stop_tokens()
        return ["\n"]

    def _prompt(self, text: str, src_lang: str, tgt_lang: str) -> str:
        """Completions mode: the whole prompt, rendered here."""
        if self._builder is not None:
            return self._builder.prompts([text], src_lang, tgt_lang)[0]
        names = {"source": language_name(src_lang), "target": language_name(tgt_lang)}
        shots = "".join(
            self.template.format(text=e.src, **names) + " " + e.tgt + "\n\n" for e in self.examples
        )
        return shots + self.template.format(text=text, **names)

    def _body(self, text: str, src_lang: str, tgt_lang: str, max_tokens: int) -> dict[str, Any]:
        o = self.options
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens}
        if o.mode == "chat":
            body["messages"] = chat_messages(
                text, src_lang, tgt_lang, self.instruction, self.examples
            )
        else:
            body["prompt"] = self._prompt(text, src_lang, tgt_lang)
        body["temperature"] = o.temperature
        if o.seed is not None:
            body["seed"] = o.seed
        if self._stop:
            body["stop"] = self._stop
        return {**body, **o.extra_body}

    async def _budget(self, http: httpx.AsyncClient, text: str, spread: int) -> int:
        """The unit's generation cap: from its source's token count where something can
        count it, `max_tokens` otherwise."""
        o = self.options
        if self._counter == "tokenizer":
            length = len(self._local_tokenizer(text).input_ids)
        elif self._counter == "server":
            length = await self.client.count_tokens(http, self.model, {"prompt": text}, spread)
        else:
            return o.max_tokens
        return unit_budget(o.max_tokens, o.max_length_ratio, length)

    async def _translate_one(
        self, http: httpx.AsyncClient, index: int, text: str, langs: tuple[str, str], limiter: Any
    ) -> Translation:
        chat = self.options.mode == "chat"
        budget = await self._budget(http, text, index)
        path = "/chat/completions" if chat else "/completions"
        answer = await self.client.post(
            http, path, self._body(text, *langs, budget), index, limiter
        )
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise RequestRefused("the server answered with no choices")
        choice = choices[0]
        reply = (choice.get("message") or {}).get("content") if chat else choice.get("text")
        if not isinstance(reply, str):
            raise RequestRefused("the server answered with an empty choice (no text)")
        usage = answer.get("usage") or {}
        self.generated_tokens += int(usage.get("completion_tokens") or 0)
        return Translation(clean_output(reply, text), choice.get("finish_reason") == "length")

    def translate(self, segments: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        outputs: dict[int, str] = {}
        self.translate_each(
            segments, src_lang, tgt_lang, lambda i, t: outputs.__setitem__(i, t.text)
        )
        return [outputs[i] for i in range(len(segments))]

    def translate_each(
        self, segments: list[str], src_lang: str, tgt_lang: str, on_done: OnTranslated
    ) -> None:
        _ = self._counter  # reaches the servers and checks the model, once, before requests

        async def one(http: httpx.AsyncClient, index: int, limiter: Any) -> None:
            text = segments[index]
            try:
                translation = await self._translate_one(
                    http, index, text, (src_lang, tgt_lang), limiter
                )
            except (RequestRefused, RetryableResponse, httpx.TransportError) as error:
                raise UnitFailed(index, self.client.failure(error)) from None
            on_done(index, translation)

        asyncio.run(self.client.run_bounded(one, len(segments)))

    def request_stats(self) -> RequestStats:
        return self.client.stats

    # -- dry run -----------------------------------------------------------------------

    def plan(self, segments: list[str], src_lang: str, tgt_lang: str) -> RequestPlan:
        """Requests and prompt tokens for these units, counted without generating."""
        exact = self._counter != "none"  # reaches the servers and checks the model first
        prompt_tokens = [0] * len(segments)
        budgets = [0] * len(segments)

        async def one(http: httpx.AsyncClient, index: int, limiter: Any) -> None:
            text = segments[index]
            budgets[index] = await self._budget(http, text, index)
            body = self._body(text, src_lang, tgt_lang, budgets[index])
            prompt_tokens[index] = await self._prompt_tokens(http, body, index)

        asyncio.run(self.client.run_bounded(one, len(segments)))
        return RequestPlan(len(segments), sum(prompt_tokens), exact, sum(budgets))

    async def _prompt_tokens(self, http: httpx.AsyncClient, body: dict[str, Any], spread: int):
        tokenizer = self._local_tokenizer
        if tokenizer is not None:
            if "messages" in body:
                ids = tokenizer.apply_chat_template(
                    body["messages"], tokenize=True, add_generation_prompt=True
                )
                return len(ids["input_ids"] if isinstance(ids, dict) else ids)
            return len(tokenizer(body["prompt"]).input_ids)
        if self._counter == "server":
            request = (
                {"messages": body["messages"], "add_generation_prompt": True}
                if "messages" in body
                else {"prompt": body["prompt"]}
            )
            return await self.client.count_tokens(http, self.model, request, spread)
        text = body.get("prompt") or "".join(m["content"] for m in body["messages"])
        return max(1, len(text) // 4)  # a rough estimate, reported as such
