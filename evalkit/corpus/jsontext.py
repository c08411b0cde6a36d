"""JSON from user files: every way `json.loads` can fail is a `UserInputError`.

Besides a syntax error, valid JSON can still be refused by Python: an integer of more
digits than `int()` converts (4300 by default) raises ValueError, nesting deeper than the
recursion limit raises RecursionError. And a `\\ud800` escape decodes to a lone surrogate,
which is not a character: it loads, then fails the first time the text is encoded (hashing
a test set, writing a result).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from evalkit.errors import UserInputError

_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text: str, path: Path | str, line: int | None = None) -> Any:
    """The value `text` holds. `line`: its line in the file, when the text is one line of
    a JSON Lines file; otherwise syntax errors name the line of the error in `text`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        where = line if line is not None else err.lineno
        raise UserInputError(f"invalid JSON: {err.msg}", path, where) from None
    except RecursionError:
        raise UserInputError("invalid JSON: nested too deeply", path, line) from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise UserInputError("invalid JSON: a number with too many digits", path, line) from None
    if _has_surrogate(value):
        raise UserInputError(
            "invalid JSON: a \\u escape is half of a surrogate pair, not a character",
            path,
            line,
        )
    return value


def _has_surrogate(value: Any) -> bool:
    """Whether a string anywhere in the value (keys included) holds a lone surrogate;
    json.loads joins every valid pair into one character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
