"""Helpers shared by the tests (builders of projects, records and MLflow stores)."""
