"""What each function does with its event, one module per function: which queue each outcome goes
to, the limits on retries and deferrals, what is dead-lettered and why. Each stage is built from
its dependencies (``shared.wiring`` builds them from the function's environment; tests pass fakes),
and its handler in ``functions/`` only delegates to it."""
