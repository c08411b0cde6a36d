"""The command line: it parses options, calls the stages and prints; the work and the
JSON payloads live elsewhere (evalkit.pipeline, evalkit.api, evalkit.json_output).

One module per group of commands; importing them registers the commands on `app`.
"""

from evalkit.cli import (  # noqa: F401  (importing registers the commands)
    cache_commands,
    document_commands,
    judge_commands,
    judgment_commands,
    meta_commands,
    rescore_commands,
    run_commands,
    run_store_commands,
    runs_commands,
)
from evalkit.cli.common import app
from evalkit.cli.strict_options import make_commands_strict

make_commands_strict(app)

__all__ = ["app"]
