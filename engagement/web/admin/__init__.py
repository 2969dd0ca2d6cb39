"""/admin: the moderators' and owners' screens, server-rendered, complete without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter

from engagement.web.admin import (
    admins,
    comments,
    deliveries,
    overview,
    queue,
    signin,
    sites,
    subscribers,
    webhooks,
)
from engagement.web.admin.auth import install

router = APIRouter()
for screen in (signin, overview, queue, comments, sites, subscribers, deliveries, admins, webhooks):
    router.include_router(screen.router)

__all__ = ["install", "router"]
