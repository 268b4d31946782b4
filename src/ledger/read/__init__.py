"""The read path: records from git history and the worktree, the parse cache, fast readers
pinned to PyYAML and jsonschema, the filter grammar and ranking."""
