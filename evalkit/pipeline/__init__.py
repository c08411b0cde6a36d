"""The stages put together: `run.evaluate` takes a test set through translate, align,
score and record; `rescore.rescore` scores a stored run again with more metrics."""

from evalkit.pipeline.run import Evaluation, RunProgress, StageCallback, StageEvent, evaluate

__all__ = ["Evaluation", "RunProgress", "StageCallback", "StageEvent", "evaluate"]
