"""The data model: every table the core and the workers read and write."""

from engagement.models.admins import Admin, AdminSession, AdminSite
from engagement.models.base import Base
from engagement.models.comments import Ban, Comment, Reaction, Vote
from engagement.models.delivery import Delivery, OutboxEvent, Suppression
from engagement.models.notifications import DigestRun, NotificationItem
from engagement.models.reports import Report
from engagement.models.sites import DEFAULT_REACTIONS, Page, Site
from engagement.models.subscriptions import Subscriber, Subscription
from engagement.models.supporters import Supporter
from engagement.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "DEFAULT_REACTIONS",
    "Admin",
    "AdminSession",
    "AdminSite",
    "Ban",
    "Base",
    "Comment",
    "Delivery",
    "DigestRun",
    "NotificationItem",
    "OutboxEvent",
    "Page",
    "Reaction",
    "Report",
    "Site",
    "Subscriber",
    "Subscription",
    "Supporter",
    "Suppression",
    "Vote",
    "WebhookDelivery",
    "WebhookEndpoint",
]
