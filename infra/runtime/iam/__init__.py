"""IAM in the local runtime: each function calls AWS with exactly the permissions of its role.

- ``roles``: each function's execution role as ``sam deploy`` makes it (SAM's own transform of the
  template: policy templates, inline statements, the managed policies SAM attaches);
- ``sessions``: the roles in moto's IAM, and one STS role session per function, whose temporary
  credentials the function's workers and its SQS event source mappings use;
- ``enforcer``: in moto's server process, a WSGI middleware that authorizes every request signed
  with a role session's credentials against the role's policies, and answers a denied one as AWS
  does (``AccessDenied`` with the principal, the action and the resource);
- ``calls``: the actions and resources a request is authorized against; ``policy``: the evaluation
  of identity-based policies (explicit deny, allow, implicit deny; wildcards).

Requests signed with any other credentials (the runtime's own, an operator's, a test's) act as the
account's administrator. Not modelled: resource-based policies (a queue policy granting a function's
role would allow what its role does not; the template has none), permissions boundaries, session
expiry, conditions (a conditional statement never allows and always denies) and signature checks.
"""
