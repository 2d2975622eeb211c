"""Use cases: one module per capability, each opening its own transaction and committing once.

``api``, ``cli`` and ``workers`` call these; these call ``db``, ``queue`` and ``domain``.
Shared pieces (``Services``, the refusals, ``send_after_commit``) live in
:mod:`service.usecases.services`. Anything a worker calls is idempotent (said in its docstring).
"""
