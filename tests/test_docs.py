"""The docs stay true to the code: the CLI reference is current, every documented
`evalkit ...` command line parses with the real command line, and bench figures render.

No docs build here (CI's `make docs` runs `mkdocs build --strict`); these are fast.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from evalkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: blocks whose every line is shell; in any other block only `$ ` lines are commands
SHELL_BLOCKS = {"sh", "bash", "shell", "zsh"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+-]*)")
#: where a shell command ends: pipes, lists, redirections
SHELL_OPERATOR = re.compile(r"^[;&|<>()]+$")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the shell examples


def shell_lines(text: str) -> list[tuple[int, str]]:
    """(line number, command) for every command line of the text's code blocks:
    backslash continuations joined, a `$ ` prompt removed. In sh/bash blocks every line
    is one; in console, text and untagged blocks only those after a `$ ` prompt."""
    found: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        shell = opening["info"].lower() in SHELL_BLOCKS
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            start, line = i + 1, lines[i][indent:]
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i].strip()
            i += 1
            stripped = line.strip()
            if stripped.startswith("$ "):
                found.append((start, stripped[2:]))
            elif shell and stripped:
                found.append((start, stripped))
        i += 1
    return found


def _without_comment(line: str) -> str:
    """The line up to an unquoted `#` that starts a word (as the shell reads a comment:
    `--data wmt23#en-de` keeps its `#`)."""
    quote = None
    for at, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or line[at - 1].isspace()):
            return line[:at]
    return line


def evalkit_args(line: str) -> list[str] | None:
    """The arguments of an `evalkit` command line, or None when the line runs something
    else. The command ends at a pipe, `;`, `&&` or a redirection; a synopsis's brackets
    and ellipses (`RUN... [--yes]`) are taken as the words they hold."""
    lexer = shlex.shlex(_without_comment(line), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words = list(lexer)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)  # VAR=value before the command
    if not words or Path(words[0]).name != "evalkit":
        return None
    args: list[str] = []
    for word in words[1:]:
        if SHELL_OPERATOR.match(word):
            if word.startswith(("<", ">")) and args and args[-1].isdigit():
                args.pop()  # the 2 of 2>/dev/null
            break
        word = word.removeprefix("[").removesuffix("]").removesuffix("...")
        if word:
            args.append(word)
    return args


def parse_problem(args: list[str]) -> str | None:
    """Why the command line would refuse `args`, or None when it parses.

    A dry parse with the commands' own parsers (`make_parser`, `resolve_command`): option
    names, their arity, repeats of a single-valued option and command names are checked
    exactly as `evalkit` checks them, but no value is converted or read, so placeholders
    such as RUN, FILE or N stand in for values."""
    command = typer.main.get_command(app)
    context = command.context_class(command, info_name="evalkit")
    rest = list(args)
    try:
        while True:
            _, rest, _ = command.make_parser(context).parse_args(rest)
            if not hasattr(command, "resolve_command"):
                if rest and not context.allow_extra_args:
                    return f"unexpected extra arguments {rest} for `{context.command_path}`"
                return None
            if not rest:
                if command.invoke_without_command:
                    return None
                return f"`{context.command_path}` needs a command"
            name, command, rest = command.resolve_command(context, rest)
            context = command.context_class(command, info_name=name, parent=context)
    except Exception as error:  # click's UsageError and its kin, from typer's own click
        if type(error).__name__ in ("UsageError", "NoSuchOption", "BadOptionUsage") or hasattr(
            error, "format_message"
        ):
            return f"{type(error).__name__}: {error.format_message()}"
        raise


def _documented_commands() -> list[Any]:
    cases = []
    for path in DOC_FILES:
        for number, line in shell_lines(path.read_text(encoding="utf-8")):
            args = evalkit_args(line)
            if args is not None:
                where = f"{path.relative_to(ROOT)}:{number}"
                cases.append(pytest.param(where, line, args, id=where))
    return cases


DOCUMENTED = _documented_commands()


def test_docs_have_commands_to_check():
    files = {case.values[0].split(":")[0] for case in DOCUMENTED}
    assert len(DOCUMENTED) > 30
    assert {"README.md", "docs/formats.md", "docs/human-judgments.md", "docs/comparing.md"} <= files


@pytest.mark.parametrize(("where", "line", "args"), DOCUMENTED)
def test_documented_command_parses(where: str, line: str, args: list[str]):
    problem = parse_problem(args)
    assert problem is None, f"{where}: `{line}`: {problem}"


@pytest.mark.parametrize(
    "line",
    [
        "evalkit compar latest",  # a misspelt command
        "evalkit cache inf",  # a misspelt subcommand
        "evalkit judgments exprot latest",
        "evalkit run --dta seeds",  # a misspelt option
        "evalkit compare latest --baselin copy",
        "evalkit runs prune --kep 3",  # an option of a subcommand
        "evalkit --debugg run",  # a root option
        "evalkit run --name a --name b",  # a single-valued option given twice
        "evalkit compare --baseline",  # an option without its value
        "evalkit show latest other",  # an argument too many
        "evalkit cache",  # a group needs its command
    ],
)
def test_the_check_catches_a_mistake(line: str):
    args = evalkit_args(line)
    assert args is not None
    assert parse_problem(args) is not None


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("$ evalkit show latest --json", None),  # shell_lines removes the prompt, not this
        ("evalkit show latest --json  # the same as JSON", ["show", "latest", "--json"]),
        (
            "evalkit run --data wmt23#en-de --metric chrf",
            ["run", "--data", "wmt23#en-de", "--metric", "chrf"],
        ),
        ("evalkit run --data 'a b#c' | tee log", ["run", "--data", "a b#c"]),
        ("evalkit runs 2>/dev/null", ["runs"]),
        ("EVALKIT_CACHE=x .venv/bin/evalkit cache info", ["cache", "info"]),
        ("evalkit runs rm RUN... [--dry-run] [--yes]", ["runs", "rm", "RUN", "--dry-run", "--yes"]),
        ("make eval   # runs evalkit", None),
    ],
)
def test_command_lines_are_read_as_the_shell_reads_them(line: str, args: list[str] | None):
    assert evalkit_args(line) == args


def test_blocks_are_read_with_continuations_and_prompts():
    text = "\n".join(
        [
            "```sh",
            "evalkit run --data seeds \\",
            "  --system copy   # a comment",
            "```",
            "```",
            "$ evalkit compare latest \\",
            "    --metric bleu",
            "output line, not a command",
            "```",
            "```python",
            "evalkit.evaluate()",
            "```",
            "- a list item",
            "  ```console",
            "  $ evalkit show latest",
            "  ```",
        ]
    )
    assert shell_lines(text) == [
        (2, "evalkit run --data seeds  --system copy   # a comment"),
        (6, "evalkit compare latest  --metric bleu"),
        (15, "evalkit show latest"),
    ]


# ---------------------------------------------------------------- the CLI reference


def test_cli_reference_is_up_to_date():
    reference = _load(ROOT / "scripts" / "cli_reference.py", "cli_reference")
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == reference.render(), "docs/cli.md is out of date: run make docs-cli"


def test_cli_reference_names_every_command_and_option():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    for name in root.list_commands(None):
        assert f"`evalkit {name}`" in text
    assert "`--min-confidence P`" in text
    assert "`evalkit runs prune`" in text


# ---------------------------------------------------------------- bench figures


@pytest.fixture(scope="module")
def figures() -> ModuleType:
    return _load(ROOT / "docs" / "hooks" / "bench_figures.py", "bench_figures")


def test_bench_marker_renders_the_figure_and_its_date(figures: ModuleType, tmp_path: Path):
    (tmp_path / "demo.json").write_text(
        '{"measured": "2026-01-02T03:04:05Z", "rows": [{"corpus": "verse", "f1": 0.9773},'
        ' {"corpus": "legal.v2", "f1": 0.8095}], "main.job": {"seconds": 1234.6}}'
    )
    figures.RESULTS = tmp_path
    figures.ROOT = tmp_path
    page = (
        'F1 {{ bench("demo", "rows.[corpus=verse].f1", ".3f") }}, '
        '{{ bench("demo", "rows.[corpus=legal.v2].f1", ".3f") }}, '
        '{{ bench("demo", "main.job.seconds", ",.0f") }} s, '
        '{{ bench_ratio("demo", "rows.0.f1", ["rows.1.f1", "rows.1.f1"], ".1%") }} '
        'on {{ bench_date("demo") }}; in code: `{{ bench("demo", "nothing") }}`'
    )
    assert figures.render(page) == (
        'F1 0.977, 0.8095, 1,235 s, 60.4% on 2026-01-02; in code: `{{ bench("demo", "nothing") }}`'
    )


def test_a_marker_naming_nothing_fails_the_build(figures: ModuleType):
    from mkdocs.exceptions import PluginError

    figures.RESULTS = ROOT / "bench" / "results"
    figures.ROOT = ROOT
    for marker in (
        '{{ bench("warm", "main_job.no_such_key") }}',
        '{{ bench("no-such-bench", "x") }}',
        '{{ bench("align", "held_out.folds.[corpus=nowhere].f1") }}',
    ):
        with pytest.raises(PluginError, match=r"no_such_key|no bench results|0 items"):
            figures.render(marker, "page.md")


def test_the_docs_figures_come_from_the_bench_files(figures: ModuleType):
    figures.RESULTS = ROOT / "bench" / "results"
    figures.ROOT = ROOT
    for page in ("alignment.md", "speed.md"):
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert text.count("{{ bench(") >= 20, page
        rendered = figures.render(text, page)
        assert "{{ bench" not in rendered.replace('`{{ bench("', "")


def test_the_readme_is_the_home_page_and_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    home = _load(ROOT / "docs" / "hooks" / "readme_page.py", "readme_page")
    assert "](docs/" not in home.readme_markdown()
    for link in re.findall(r"\]\(docs/([^)#]+)", readme):
        assert (ROOT / "docs" / link).is_file(), link
