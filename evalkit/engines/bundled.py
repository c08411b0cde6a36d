"""`data:NAME`: outputs carried in the test-set file.

WMT XML (`<hyp system=NAME>`), WMT SGML system files, mt-metrics-eval's `system-outputs/`
and WMT's JSONL carry the outputs of the systems that took part; the reader puts them in
`TestSet.outputs`. This system reads them back, so published systems are scored again
without copying their outputs to files: `--system NAME=data:NAME`, or every one of them
with `systems_in_data(test_set)`.

The fingerprint names the outputs read (their sha256): a run of the same system name on a
test set whose outputs changed records a different fingerprint.
"""

from __future__ import annotations

from typing import Any

from evalkit.corpus.formats.common import output_label
from evalkit.corpus.model import SystemOutputs, TestSet
from evalkit.engines.base import PrecomputedSystem
from evalkit.engines.registry import register
from evalkit.errors import UserInputError


def systems_in_data(test_set: TestSet) -> list[str]:
    """`LABEL=data:NAME` for every system output the test set carries, in file order:
    what `evalkit run` scores when no --system is given."""
    return [f"{output_label(output.name)}=data:{output.name}" for output in test_set.outputs]


@register("data")
class DataSystem(PrecomputedSystem):
    summary = "outputs carried in the test-set file (WMT XML <hyp>, mt-metrics-eval, WMT JSONL)"

    def __init__(self, argument: str | None, options=None) -> None:
        if not argument:
            raise UserInputError(
                "the data system needs the name of a system in the test set: data:NAME"
            )
        super().__init__(argument, options)
        self.name = argument
        #: sha256 of the outputs read by `hypotheses`; None until then
        self.digest: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "data", "name": self.name, "sha256": self.digest}

    def hypotheses(self, test_set: TestSet) -> dict[str, list[str]]:
        output = self._output(test_set)
        self.digest = output.digest()
        result = {}
        for doc in test_set.documents:
            lines = output.lines(doc.id)
            if lines is None or len(lines) != len(doc.source.segments):
                found = "none" if lines is None else f"{len(lines)} lines"
                raise UserInputError(
                    f"system {self.name!r} of the test set has {found} for document "
                    f"{doc.id!r}, which has {len(doc.source.segments)} segments",
                    test_set.origin,
                )
            result[doc.id] = list(lines)
        return result

    def _output(self, test_set: TestSet) -> SystemOutputs:
        for output in test_set.outputs:
            if output.name == self.name:
                return output
        names = ", ".join(o.name for o in test_set.outputs) or "none"
        raise UserInputError(
            f"the test set carries no outputs of system {self.name!r} (it carries: {names})",
            test_set.origin,
        )
