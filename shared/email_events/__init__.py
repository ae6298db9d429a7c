"""Marketing-email events become Salesforce Tasks (DESIGN S11): the pure rules of the
``email_events`` function. ``start`` (where the first read starts), ``window`` (the cursor),
``events`` (the API's events, which are wanted, forwards), ``resolve`` (recipient -> linked record),
``tasks`` (the Task of an event), ``retry`` (how long an unsynced recipient is tried again)."""
