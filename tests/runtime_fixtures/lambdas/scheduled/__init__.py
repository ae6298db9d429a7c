"""The scheduled test function."""
