"""The bulk test function."""
