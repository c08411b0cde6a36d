"""Chat completion through the engines that run chat models: the hook an LLM judge needs.

Engines translate (`TranslationEngine.translate`): the harness hands them source texts
and they build their own prompts. A judge needs the other shape: its own conversation in,
the model's raw reply out. `chat_each` gives that for every built-in engine that runs a
chat model, on the same loaded model and with the same settings the engine translates
with (its fingerprint names the model):

- `hf-causal`, `ct2` (decoder-only models), `packaged`: the model's chat template renders
  the conversation; greedy decoding, one conversation per call, so a reply never depends
  on what it was batched with (and a cached reply equals a fresh one);
- `openai` (mode=chat): one `/chat/completions` request per conversation, with the
  engine's temperature, seed and `extra_body`, `concurrency` of them in flight.

Any other engine (a plugin, a test's scripted engine) takes part by defining
`chat(conversations, max_tokens) -> list[str]` (see `ChatEngine`).

`ChatCache` keeps replies in the translation cache file like translations: keyed by the
engine's fingerprint, the reply cap and the whole conversation, stored as each reply
arrives, so a rerun or a second judge of the same texts asks nothing twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from evalkit.cache import TranslationCache
from evalkit.engines.base import Translation, fingerprint_digest
from evalkit.errors import ServiceError, UserInputError

Message = dict[str, str]
Conversation = list[Message]
#: called with the conversation's index and its reply, as soon as the reply is there
OnReply = Callable[[int, str], None]

#: the `src_lang`/`tgt_lang` columns of cached replies: not a translation between languages
CACHE_LANGS = ("chat", "reply")
#: bump when a change here can change a reply for the same engine and conversation
CHAT_HOOK_VERSION = 1


@runtime_checkable
class ChatEngine(Protocol):
    """An engine that answers conversations itself (plugins, scripted test engines)."""

    def chat(self, conversations: list[Conversation], max_tokens: int) -> list[str]: ...


@runtime_checkable
class ChatCacheUser(Protocol):
    """A metric that asks a chat model and can keep its replies in the run's cache file."""

    def use_chat_cache(self, cache: TranslationCache) -> None: ...


def can_chat(engine: Any) -> bool:
    """Whether `chat_each` can ask this engine (checked without loading any model)."""
    from evalkit.engines.ct2 import CT2Engine
    from evalkit.engines.hf_causal import HFCausalEngine
    from evalkit.engines.openai_api import OpenAIEngine
    from evalkit.engines.packaged import PackagedEngine

    return isinstance(engine, (PackagedEngine, HFCausalEngine, CT2Engine, OpenAIEngine, ChatEngine))


def chat_each(
    engine: Any, conversations: Sequence[Conversation], max_tokens: int, on_done: OnReply
) -> None:
    """Ask `engine` every conversation; `on_done(index, reply)` as each reply arrives."""
    from evalkit.engines.ct2 import CT2Engine
    from evalkit.engines.hf_causal import HFCausalEngine
    from evalkit.engines.openai_api import OpenAIEngine
    from evalkit.engines.packaged import PackagedEngine

    if isinstance(engine, PackagedEngine):
        engine = engine.loaded()  # its weights made again first where they were removed
    items = list(conversations)
    if isinstance(engine, OpenAIEngine):
        _openai_chat(engine, items, max_tokens, on_done)
    elif isinstance(engine, HFCausalEngine):
        for index, messages in enumerate(items):
            on_done(index, _hf_reply(engine, messages, max_tokens))
    elif isinstance(engine, CT2Engine):
        if engine.is_seq2seq:
            raise UserInputError(f"{engine.source.name} is a translation model, not a chat model")
        for index, messages in enumerate(items):
            on_done(index, _ct2_reply(engine, messages, max_tokens))
    elif isinstance(engine, ChatEngine):
        replies = engine.chat(items, max_tokens)
        if len(replies) != len(items):
            raise RuntimeError(f"{engine} gave {len(replies)} replies to {len(items)} chats")
        for index, reply in enumerate(replies):
            on_done(index, reply)
    else:
        kind = getattr(engine, "kind", type(engine).__name__)
        raise UserInputError(
            f"the {kind!r} engine cannot hold a chat; use packaged, hf-causal, ct2 or openai"
        )


def _chat_prompt(tokenizer: Any, messages: Conversation) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise UserInputError("the judge model has no chat template: use an instruct model")
    return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))


def _hf_reply(engine: Any, messages: Conversation, max_tokens: int) -> str:
    import torch

    model = engine._load()
    tokenizer = engine.tokenizer
    batch = tokenizer(
        [_chat_prompt(tokenizer, messages)], return_tensors="pt", add_special_tokens=False
    )
    stops = [tokenizer.convert_tokens_to_ids(t) for t in engine.prompt.stop_tokens()]
    with torch.inference_mode():
        generated = model.generate(
            **batch,
            num_beams=1,
            do_sample=False,
            max_new_tokens=max_tokens,
            eos_token_id=stops,
            pad_token_id=tokenizer.pad_token_id,
        )
    kept = []
    for token in generated[0, batch["input_ids"].shape[1] :].tolist():
        if token in stops:
            break
        kept.append(token)
    engine.generated_tokens += len(kept)
    return str(tokenizer.decode(kept, skip_special_tokens=True))


def _ct2_reply(engine: Any, messages: Conversation, max_tokens: int) -> str:
    generator = engine._load()
    tokens = engine._tokens(_chat_prompt(engine.tokenizer, messages), add_special_tokens=False)
    (result,) = generator.generate_batch(
        [tokens],
        max_length=max_tokens,
        sampling_topk=1,
        beam_size=1,
        include_prompt_in_result=False,
        end_token=engine.prompt.stop_tokens(),
    )
    ids = result.sequences_ids[0]
    engine.generated_tokens += len(ids)
    return str(engine.tokenizer.decode(ids, skip_special_tokens=True))


def _openai_chat(
    engine: Any, conversations: list[Conversation], max_tokens: int, on_done: OnReply
) -> None:
    import httpx

    from evalkit.engines.http_retry import RetryableResponse
    from evalkit.engines.openai_client import RequestRefused

    options = engine.options
    if options.mode != "chat":
        raise UserInputError("a judge needs the openai engine in mode=chat")
    _ = engine._counter  # reaches the servers and checks the model, once, before requests

    def body(messages: Conversation) -> dict[str, Any]:
        sent: dict[str, Any] = {
            "model": engine.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": options.temperature,
        }
        if options.seed is not None:
            sent["seed"] = options.seed
        if options.stop:
            sent["stop"] = options.stop
        return {**sent, **options.extra_body}

    async def one(http: httpx.AsyncClient, index: int, limiter: Any) -> None:
        try:
            answer = await engine.client.post(
                http, "/chat/completions", body(conversations[index]), index, limiter
            )
        except (RequestRefused, RetryableResponse, httpx.TransportError) as error:
            raise ServiceError(f"judge request: {engine.client.failure(error)}") from None
        choices = answer.get("choices")
        message = choices[0].get("message") if isinstance(choices, list) and choices else None
        reply = message.get("content") if isinstance(message, dict) else None
        if not isinstance(reply, str):
            raise ServiceError("judge request: the server answered with no reply text")
        usage = answer.get("usage") or {}
        engine.generated_tokens += int(usage.get("completion_tokens") or 0)
        on_done(index, reply)

    asyncio.run(engine.client.run_bounded(one, len(conversations)))


class ChatCache:
    """A chat model's replies, from the cache file where asked before, else from the model."""

    def __init__(self, engine: Any, max_tokens: int, fingerprint: dict[str, Any]) -> None:
        self.engine = engine
        self.max_tokens = max_tokens
        self.cache: TranslationCache | None = None
        #: the cache's engine column: the model's fingerprint, the cap, this hook's version
        self.key = fingerprint_digest(
            {"chat": CHAT_HOOK_VERSION, "max_tokens": max_tokens, "engine": fingerprint}
        )
        #: replies found in the cache / asked of the model, in this process
        self.hits = 0
        self.asked = 0

    def replies(self, conversations: Sequence[Conversation]) -> list[str]:
        texts = [json.dumps(c, ensure_ascii=False, sort_keys=True) for c in conversations]
        found: dict[str, str] = {}
        if self.cache is not None:
            from evalkit.cache import cache_key

            keys = {cache_key(self.key, *CACHE_LANGS, text): text for text in set(texts)}
            found = {keys[k]: t.text for k, t in self.cache.get_many(list(keys)).items()}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        self.hits += len(set(texts)) - len(missing)

        def keep(index: int, reply: str) -> None:
            found[missing[index]] = reply
            self.asked += 1
            if self.cache is not None:
                pair = (missing[index], Translation(reply))
                self.cache.put_many(self.key, *CACHE_LANGS, [pair])

        chats = [json.loads(text) for text in missing]
        chat_each(self.engine, chats, self.max_tokens, keep)
        return [found[text] for text in texts]
