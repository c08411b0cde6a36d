"""What is kept of an LLM's reply, and what the prompt says."""

from types import SimpleNamespace

import pytest

from evalkit.engines.chat_prompt import PromptBuilder, chat_messages, clean_output, read_examples
from evalkit.errors import UserInputError


@pytest.mark.parametrize(
    ("reply", "source", "expected"),
    [
        ("The city was shocked.", "x", "The city was shocked."),
        ("Here is the translation:\nThe city was shocked.", "x", "The city was shocked."),
        ("Sure! Here's the English translation: Basra.", "x", "Basra."),
        ("Translation: Basra.", "x", "Basra."),
        ('"The minister spoke."', "قال", "The minister spoke."),
        ('"The minister spoke."', '"قال"', '"The minister spoke."'),  # source was quoted
        ("«Basra»", "x", "Basra"),
        ("Basra.<|im_end|>\n<|im_start|>user", "x", "Basra."),
        ("Basra.<end_of_turn>more", "x", "Basra."),
        ("Basra is calm.\n\nNote: I kept the name.", "x", "Basra is calm."),
        ("Line one\nline two", "x", "Line one line two"),
        ("", "x", ""),
    ],
)
def test_clean_output(reply, source, expected):
    assert clean_output(reply, source) == expected


def test_translation_that_mentions_translation_is_kept():
    reply = "The translation of the report was delayed."
    assert clean_output(reply, "x") == reply


def test_few_shot_examples_become_earlier_turns(tmp_path):
    path = tmp_path / "shots.jsonl"
    path.write_text('{"src": "مرحبا", "tgt": "Hello"}\n\n{"src": "شكرا", "tgt": "Thanks"}\n')
    messages = chat_messages("نص", "ar", "en", examples=read_examples(path))
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[2]["content"] == "Hello"
    assert messages[1]["content"].endswith("\n\nمرحبا")
    assert messages[-1]["content"] == (
        "Translate the following Arabic text into English. Output only the translation.\n\nنص"
    )


def test_bad_example_line_is_named(tmp_path):
    path = tmp_path / "shots.jsonl"
    path.write_text('{"src": "a", "tgt": "b"}\n{"src": "a"}\n')
    with pytest.raises(UserInputError) as caught:
        read_examples(path)
    assert caught.value.line == 2


def test_unknown_language_is_an_error_not_a_guess():
    with pytest.raises(UserInputError, match="no language mapping for 'xx'"):
        chat_messages("text", "xx", "en")


@pytest.mark.parametrize(
    "line",
    [
        '{"src": ' + "1" * 4301 + ', "tgt": "x"}',  # more digits than int() converts
        "[" * 100_000,  # nested deeper than the recursion limit
        '{"src": "\\ud800", "tgt": "x"}',  # half a surrogate pair, not a character
    ],
)
def test_example_lines_python_cannot_read_are_named(tmp_path, line):
    path = tmp_path / "shots.jsonl"
    path.write_text('{"src": "a", "tgt": "b"}\n' + line + "\n")
    with pytest.raises(UserInputError) as caught:
        read_examples(path)
    assert caught.value.line == 2


def test_special_tokens_are_removed_until_none_is_left():
    tokenizer = SimpleNamespace(all_special_tokens=["<s>", "<pad>", ""], chat_template="x")
    builder = PromptBuilder(tokenizer, None, None)
    assert builder.clean(["A <<s>s>city<pad>."], ["x"]) == ["A city."]
