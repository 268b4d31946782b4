"""The record format and what every layer shares: settings, the workspace, YAML, schemas,
redaction, run names and field paths."""
