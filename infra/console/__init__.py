"""``hssync console``: a local page showing what ``hssync status`` and ``hssync health`` show, with
resync and redrive buttons (``infra.console.app``)."""
