"""Meta-evaluation: how well each metric of a run agrees with human judgments of it
(`evalkit meta`), with the statistics of the WMT metrics task."""
