"""The live-updates websocket (/ws/updates/): each user hears their own group, admins everything."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.permissions import is_system_admin
from core.updates import ADMINS_GROUP, user_group

UNAUTHENTICATED = 4401


class UpdatesConsumer(AsyncJsonWebsocketConsumer):
    """/ws/updates/: pushes job, VM and host changes the user may see."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.groups_joined = [user_group(user.pk)]
        if await database_sync_to_async(is_system_admin)(user):
            self.groups_joined.append(ADMINS_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def update(self, message):
        await self.send_json(message["payload"])
