"""The slow test function."""
