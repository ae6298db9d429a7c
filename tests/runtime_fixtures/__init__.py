"""A small SAM template and handlers that exercise the local Lambda runtime (infra/runtime)."""
