"""Pure domain: statuses and transitions, submission validation, policy, privacy helpers.

Nothing here imports Flask, Celery, SQLAlchemy or Redis.
"""
