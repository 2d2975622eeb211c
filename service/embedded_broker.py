"""The embedded broker: kombu's SQLAlchemy transport, polled every 100 ms instead of 1 s.

kombu hands every SQLAlchemy transport option to ``create_engine``, so the polling interval
cannot be passed as an option; a subclass sets it. It is selected by ``celery_config`` for
``sqla+…`` broker URLs. Polling costs one indexed SELECT per idle consumer per interval.

kombu creates a queue's row on first use with a process-local lock only: two processes
declaring the same new queue at once (``commentmod serve`` starts the scheduler and the
trainer together, both naming the ``training`` queue) make one of them fail on the unique
name. The channel here takes the other's row instead.
"""

from __future__ import annotations

from typing import Any

from kombu.transport.sqlalchemy import Channel as SQLAlchemyChannel
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport
from sqlalchemy.exc import IntegrityError


class Channel(SQLAlchemyChannel):
    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process created it first: use that one
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()


class Transport(SQLAlchemyTransport):
    Channel = Channel
    polling_interval = 0.1
