"""The rule test function."""
