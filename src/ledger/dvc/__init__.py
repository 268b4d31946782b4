"""DVC as users already have it: data versions, pipelines and their params (the only
place DVC is imported)."""
