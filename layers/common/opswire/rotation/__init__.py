"""Secret rotation: one protocol engine (``engine``) and one strategy per kind of secret.

``engine.run_step`` implements the Secrets Manager rotation protocol (createSecret, setSecret,
testSecret, finishSecret) with its guards; ``generic``, ``postgres`` and ``iam_keys`` know how to
make, install and test a new credential; ``status`` and ``monitor`` find overdue or stuck
rotations and turn failures into notices; ``service`` runs a step or a monitor event over the
collaborators it is given. Collaborators are ``Protocol``s: the real ones live in
``opswire.rotation.aws`` and only ``opswire.rotation.wiring`` builds them; unit tests pass fakes.
"""
