"""The asynchronous half of commentmod: Celery app, thin tasks and pure detectors."""
