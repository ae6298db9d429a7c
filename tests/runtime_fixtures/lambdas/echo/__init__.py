"""The echo test function."""
