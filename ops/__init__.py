"""Operator tools, run from the project directory: `python -m ops.recovery …`."""
