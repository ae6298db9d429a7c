"""The consumer test function."""
