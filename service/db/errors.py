"""Storage errors as the layers above see them, so no other layer catches SQLAlchemy's own
exceptions."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# The database is away (down, restarting, pool exhausted): retry later, 503 on the API.
StorageUnavailable = (OperationalError, PoolTimeout)
# A unique constraint refused a row (a concurrent twin won the race).
Conflict = IntegrityError


def is_storage_outage(exc: BaseException) -> bool:
    """True for an error that means the storage is unavailable (including a connection that
    was invalidated mid-statement)."""
    if isinstance(exc, StorageUnavailable):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
