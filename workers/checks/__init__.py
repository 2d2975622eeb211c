"""Pure detectors: no Celery, Flask, SQLAlchemy or Redis imports here.

The pipeline only uses :func:`workers.checks.registry.get_detector` and the types in
:mod:`workers.checks.base`; models swap behind that seam without touching the pipeline.
"""
