"""The write path: a run's lifecycle, context capture, journals, outcomes and crash reaping."""
