"""The operator's view: read-only models of what the stack is doing (sync health grouped the way the
native connector's users know it, queues and dead letters, CRM states and API usage), shared by the
``hssync`` commands and the console page. Plain typed code over ports; no client is built here."""
