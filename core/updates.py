"""Live updates to browsers through the channel layer (API.md "Live updates").

Each user listens on their own group; system admins also on the admins' group,
because they may see every object. Publishing never fails the caller: a page
that misses an update catches up on its next load."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

ADMINS_GROUP = "updates.admins"


def user_group(user_id: int) -> str:
    return f"updates.user.{user_id}"


def publish(payload: dict, user_ids: Iterable[int | None] = ()) -> None:
    groups = {ADMINS_GROUP, *(user_group(uid) for uid in user_ids if uid is not None)}
    try:
        layer = get_channel_layer()
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": "update", "payload": payload})
    except Exception:  # the layer is Redis: down means no live update, not a failed job
        logger.warning("could not publish %s update", payload.get("type"), exc_info=True)
