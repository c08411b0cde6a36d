"""How many cases each fuzz target ran: counted by tests/test_fuzz.py, printed by
`make fuzz`, which loads this module as a pytest plugin (`-p tests.fuzz_counts`)."""

from __future__ import annotations

from collections import Counter

import pytest

#: target name -> how many times its test body ran (generated cases, replays, shrinks)
CASES: Counter[str] = Counter()


def count(target: str) -> None:
    CASES[target] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    terminalreporter.section("fuzz cases per target")
    width = max(len(name) for name in CASES)
    for name, n in sorted(CASES.items()):
        terminalreporter.write_line(f"{name:<{width}}  {n:>7,}")
    terminalreporter.write_line(f"{'total':<{width}}  {sum(CASES.values()):>7,}")
