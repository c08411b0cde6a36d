"""Tiny encoder-decoder translation models built locally, for engine tests with no network.

Each builder trains a tokenizer on a few dozen lines of Arabic and English written here,
makes a model of its family with random weights and tiny dimensions, and saves both to a
folder with `save_pretrained`, so that it loads by path exactly like a downloaded model.
The output of these models is gibberish; they exist to check the plumbing (language codes,
special tokens, options), not translation quality.

| builder          | model class                       | tokenizer          | language tokens      |
| ---------------- | --------------------------------- | ------------------ | -------------------- |
| `build_marian`   | MarianMTModel                     | MarianTokenizer    | `>>eng<<` when multi |
| `build_nllb`     | M2M100ForConditionalGeneration    | NllbTokenizer      | `arb_Arab`, ...      |
| `build_m2m100`   | M2M100ForConditionalGeneration    | M2M100Tokenizer    | `__ar__`, ...        |
| `build_mbart50`  | MBartForConditionalGeneration     | MBart50Tokenizer   | `ar_AR`, ...         |
| `build_t5`       | T5ForConditionalGeneration        | T5Tokenizer        | `<2en>`, ...         |
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: training text for the tokenizers: short Arabic sentences and their English translations
CORPUS: tuple[str, ...] = (
    "مرحبا بكم في المدينة.",
    "Welcome to the city.",
    "ذهب الولد إلى المدرسة صباحا.",
    "The boy went to school in the morning.",
    "الطقس جميل اليوم.",
    "The weather is nice today.",
    "أحب قراءة الكتب في المساء.",
    "I like reading books in the evening.",
    "هذه جملة قصيرة للاختبار.",
    "This is a short sentence for testing.",
    "كم عمرك؟",
    "How old are you?",
    "الشمس تشرق من الشرق.",
    "The sun rises in the east.",
    "نحن نعمل معا كل يوم.",
    "We work together every day.",
    "السوق مزدحم في نهاية الأسبوع.",
    "The market is crowded at the weekend.",
    "شربت الشاي مع أصدقائي.",
    "I drank tea with my friends.",
    "القطار يصل في الساعة الثامنة.",
    "The train arrives at eight o'clock.",
    "كتبت رسالة طويلة إلى أمي.",
    "I wrote a long letter to my mother.",
    "البحر هادئ والسماء زرقاء.",
    "The sea is calm and the sky is blue.",
    "هل يمكنك مساعدتي من فضلك؟",
    "Can you help me, please?",
    "المكتبة مفتوحة حتى المساء.",
    "The library is open until the evening.",
    "تعلمت اللغة العربية في الجامعة.",
    "I learned Arabic at the university.",
    "الأطفال يلعبون في الحديقة.",
    "The children are playing in the garden.",
    "وصلت الطائرة متأخرة.",
    "The plane arrived late.",
    "الطعام لذيذ جدا.",
    "The food is very delicious.",
    "سأسافر إلى القاهرة غدا.",
    "I will travel to Cairo tomorrow.",
)

#: the sizes every tiny model shares
D_MODEL = 16
FFN_DIM = 32
HEADS = 2
LAYERS = 1


def train_sentencepiece(
    model_type: str = "unigram",
    vocab_size: int = 160,
    user_defined_symbols: Sequence[str] = (),
    **options: object,
) -> bytes:
    """A serialized SentencePiece model trained on `CORPUS` (ids: <unk>=0, <s>=1, </s>=2)."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=model,
        model_type=model_type,
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        character_coverage=1.0,
        user_defined_symbols=list(user_defined_symbols),
        num_threads=1,
        minloglevel=2,
        **options,
    )
    return model.getvalue()


def sentencepiece_pieces(model: bytes) -> list[tuple[str, float]]:
    """(piece, score) for every piece of a serialized SentencePiece model, in id order."""
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_proto=model)
    return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(len(processor))]


def _save(model: Any, tokenizer: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


#: the sizes shared by the tiny Marian, M2M100/NLLB and mBART models
TINY_BART_DIMENSIONS: dict[str, int] = {
    "d_model": D_MODEL,
    "encoder_layers": LAYERS,
    "decoder_layers": LAYERS,
    "encoder_attention_heads": HEADS,
    "decoder_attention_heads": HEADS,
    "encoder_ffn_dim": FFN_DIM,
    "decoder_ffn_dim": FFN_DIM,
    "max_position_embeddings": 128,
}


def _fairseq_special_ids(tokenizer: Any) -> dict[str, int]:
    """Special ids of fairseq-style tokenizers; decoding starts from </s>, as in fairseq."""
    return {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "decoder_start_token_id": tokenizer.eos_token_id,
    }


def _seed() -> None:
    import torch

    torch.manual_seed(0)


def build_marian(
    folder: Path,
    multilingual: bool = False,
    target_tokens: Sequence[str] = (">>eng<<", ">>ara<<", ">>fra<<"),
) -> Path:
    """An OPUS-MT style Marian model: source.spm, target.spm and vocab.json.

    A multilingual one has `>>xxx<<` target-language tokens in its vocabulary, which go
    before the source text.
    """
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spm = train_sentencepiece("unigram", 160)
    (folder / "source.spm").write_bytes(spm)
    (folder / "target.spm").write_bytes(spm)
    # Marian's own vocabulary: </s>=0, <unk>=1, the pieces, language tokens, <pad> last.
    vocab = {"</s>": 0, "<unk>": 1}
    for piece, _ in sentencepiece_pieces(spm):
        vocab.setdefault(piece, len(vocab))
    if multilingual:
        for token in target_tokens:
            vocab.setdefault(token, len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(folder / "source.spm"),
        target_spm=str(folder / "target.spm"),
        vocab=str(folder / "vocab.json"),
        source_lang="ar",
        target_lang="en" if not multilingual else None,
    )
    pad = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        **TINY_BART_DIMENSIONS,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
    )
    _seed()
    return _save(MarianMTModel(config), tokenizer, folder)


def _train_bpe(vocab_size: int, special_tokens: Sequence[str]) -> tuple[dict[str, int], list]:
    """A SentencePiece-like BPE (metaspace) vocabulary and merges from the `tokenizers` trainer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(special_tokens), show_progress=False
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    state = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    return state["vocab"], merges


#: the FLORES-200 codes a tiny NLLB tokenizer knows by default (a real one knows 202)
NLLB_CODES: tuple[str, ...] = ("arb_Arab", "eng_Latn", "fra_Latn")


def build_nllb(folder: Path, language_codes: Sequence[str] = NLLB_CODES) -> Path:
    """An NLLB-200 style model: M2M100 weights with an NllbTokenizer (BPE) whose vocabulary
    holds only `language_codes`, so that other languages are missing from it."""
    from transformers import M2M100ForConditionalGeneration, NllbTokenizer

    vocab, merges = _train_bpe(200, ["<s>", "<pad>", "</s>", "<unk>"])
    tokenizer = NllbTokenizer(vocab=vocab, merges=merges, extra_special_tokens=list(language_codes))
    config = _m2m100_config(len(tokenizer), tokenizer)
    _seed()
    return _save(M2M100ForConditionalGeneration(config), tokenizer, Path(folder))


def build_m2m100(folder: Path, language_codes: str = "m2m100") -> Path:
    """An M2M100 model: vocab.json + sentencepiece.bpe.model, language tokens `__ar__`...

    `language_codes="wmt21"` gives the 8 languages of the WMT21 models (no Arabic)."""
    from transformers import M2M100ForConditionalGeneration, M2M100Tokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spm = train_sentencepiece("bpe", 160)
    (folder / "sentencepiece.bpe.model").write_bytes(spm)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece, _ in sentencepiece_pieces(spm)[3:]:  # after spm's own <unk> <s> </s>
        vocab.setdefault(piece, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(
        vocab_file=str(folder / "vocab.json"),
        spm_file=str(folder / "sentencepiece.bpe.model"),
        language_codes=language_codes,
    )
    # language tokens and the "made-up words" come after the vocabulary, as in fairseq
    size = max(tokenizer.lang_token_to_id.values()) + 1 + tokenizer.num_madeup_words
    config = _m2m100_config(size, tokenizer)
    _seed()
    return _save(M2M100ForConditionalGeneration(config), tokenizer, folder)


def _m2m100_config(vocab_size: int, tokenizer: Any) -> Any:
    from transformers import M2M100Config

    return M2M100Config(
        vocab_size=vocab_size,
        **TINY_BART_DIMENSIONS,
        **_fairseq_special_ids(tokenizer),
    )


def build_mbart50(folder: Path) -> Path:
    """An mBART-50 many-to-many style model: MBart weights, MBart50Tokenizer (unigram) with
    the 52 mBART-50 language codes (`ar_AR`, `en_XX`, ...)."""
    from transformers import MBart50Tokenizer, MBartConfig, MBartForConditionalGeneration

    pieces = sentencepiece_pieces(train_sentencepiece("unigram", 160))
    tokenizer = MBart50Tokenizer(vocab=pieces)  # reorders to fairseq ids, adds the codes
    config = MBartConfig(
        vocab_size=len(tokenizer),
        **TINY_BART_DIMENSIONS,
        **_fairseq_special_ids(tokenizer),
    )
    _seed()
    return _save(MBartForConditionalGeneration(config), tokenizer, Path(folder))


#: the `<2xx>` target tokens of a tiny MADLAD-style T5 model
T5_TARGET_TOKENS: tuple[str, ...] = ("<2en>", "<2ar>", "<2fr>")


def build_t5(folder: Path, target_tokens: Sequence[str] = T5_TARGET_TOKENS) -> Path:
    """A MADLAD-400 style T5 model: `<2xx>` tokens are user-defined SentencePiece symbols."""
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    spm = train_sentencepiece(
        "unigram",
        160,
        user_defined_symbols=target_tokens,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
    )
    tokenizer = T5Tokenizer(vocab=sentencepiece_pieces(spm), extra_ids=0)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=D_MODEL,
        d_kv=D_MODEL // HEADS,
        d_ff=FFN_DIM,
        num_layers=LAYERS,
        num_decoder_layers=LAYERS,
        num_heads=HEADS,
        relative_attention_num_buckets=8,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    _seed()
    return _save(T5ForConditionalGeneration(config), tokenizer, Path(folder))
