"""Celery workers and beat: thin tasks that relay the outbox and send mail through the core.

Each task takes ids, borrows the process's core and mailer, and calls one core function;
everything that must survive a restart lives in the database, never in a task.
"""

from workers.app import handoff, make_celery

__all__ = ["handoff", "make_celery"]
