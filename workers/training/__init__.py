"""Offline tools: training, evaluation, the baseline comparison and the news-comment audit.

Never loaded by the web or the worker (import-linter forbids ``workers.checks`` to import this
package): it needs the ``train`` extra (scikit-learn, scipy), which runtime images do not
install. ``python -m workers.training`` rebuilds the artifacts (see :mod:`.training`); the
labelled data is read through :mod:`.data` only.
"""
