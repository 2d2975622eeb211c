"""The embedded broker: kombu's SQLAlchemy transport, polled every 100 ms instead of 1 s.

kombu hands every SQLAlchemy transport option to ``create_engine``, so the polling interval
cannot be passed as an option; a subclass sets it. It is selected by ``celery_config`` for
``sqla+…`` broker URLs. Polling costs one indexed SELECT per idle consumer per interval.
"""

from __future__ import annotations

from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class Transport(SQLAlchemyTransport):
    polling_interval = 0.1
