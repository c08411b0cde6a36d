"""A deliberately slow test engine that logs every segment it translates to a file.

Imported by a subprocess that is then killed mid-run, so the test can count which
segments were translated, across processes."""

from __future__ import annotations

import os
import time

from evalkit.engines.base import DecodingOptions, TranslationEngine
from evalkit.engines.registry import register


@register("test-slow")
class SlowLoggingEngine(TranslationEngine):
    Options = DecodingOptions

    def fingerprint(self):
        return {"kind": self.kind, "options": self.options.model_dump()}

    def translate(self, segments, src_lang, tgt_lang):
        time.sleep(0.3)
        with open(os.environ["SLOW_ENGINE_LOG"], "a", encoding="utf-8") as log:
            for segment in segments:
                log.write(segment.replace("\n", " ") + "\n")
            log.flush()
            os.fsync(log.fileno())
        return [segment[::-1] for segment in segments]


if __name__ == "__main__":
    from evalkit.cli import app

    app()
