"""Readers of the field's published test-set formats, each detected from `--data` alone
(evalkit.corpus.formats.detect) and documented in docs/formats.md:

  wmt_xml          WMT XML (newstest2021 and later): sources, references, system outputs
  wmt_sgml         WMT SGML (2008-2020): a source file with its reference and system files
  flores           FLORES-200 / FLORES+ folders: one file per language and split
  wmt_jsonl        WMT24/WMT25 JSONL: test sets (wmt_documents) and human evaluation
                   (wmt_segments)
  mtme             mt-metrics-eval folders (`wmt23/sources`, `references`, ...)

Each returns a `TestSet`; outputs the file carries go to `TestSet.outputs` (scored with the
`data:NAME` system), human scores are imported with `evalkit judgments import`.
"""
