"""Test handlers for the local runtime; each package is one function's CodeUri."""
