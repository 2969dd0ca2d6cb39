"""The engagement core: comments, reactions, votes, subscriptions, moderation and the outbox.

The core is web-agnostic and queue-agnostic. It never imports FastAPI, Starlette, Celery,
click or anything under ``engagement.web`` / ``engagement.cli`` / ``workers``: a script, a
test, the HTTP adapter and a worker all drive it the same way, through the service functions
in ``engagement.services`` over a :class:`~engagement.uow.UnitOfWork`. A test enforces this.
"""

__version__ = "0.1.0"
