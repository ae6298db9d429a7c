"""The sync pipeline's logic: inbound -> dedupe (plans) -> apply (writes). Handlers stay thin."""
