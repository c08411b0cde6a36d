"""The score stage: each metric over each system's units (`system`), metric by metric
with the ones that cannot load dropped and noted (`metrics_run`)."""
