"""Storage: all the SQL. SQLAlchemy 2.0 models, engine set-up, the unit of work, one repository
module per thing stored, Alembic migrations."""
