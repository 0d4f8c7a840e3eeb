"""Provisioning from a declared project spec (issue 7): spec -> plan -> apply -> verify -> undo.

``spec``: the ``ProjectSpec`` model read from YAML. ``resources``: the spec expanded into the
desired state of every resource (IAM statements generated from references). ``engine``: plan,
idempotent apply, undo of what one execution created, posture verification, over drivers
(``opswire.provisioning.aws``, one module per service) that each handle one kind of AWS
resource.
"""
