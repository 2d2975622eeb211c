"""Use cases: one module per capability. A use case opens its own unit of work
(``with svc.uow() as uow:``) and commits once; the hot single-statement paths (the
submission, the public thread page) run one statement instead.

``api``, ``console``, ``cli`` and ``workers`` call these; these call ``db``, ``queue``,
``settings`` and ``domain`` (import-linter's layers contract, pyproject.toml).
Shared pieces (``Services``, the refusals, ``send_after_commit``) live in
:mod:`service.usecases.services`. Anything a worker calls is idempotent (said in its docstring).
"""
