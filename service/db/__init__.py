"""Storage: SQLAlchemy 2.0 models, engine set-up, unit of work, Alembic migrations."""
