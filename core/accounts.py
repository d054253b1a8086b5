"""The first administrator, created once by set-up."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from core.models import Permission, Role

SUPERUSER_ROLE = "SuperUser"


def superuser_role() -> Role:
    """The built-in role (made by a migration; made again if someone removed it)."""
    role, _ = Role.objects.get_or_create(
        name=SUPERUSER_ROLE, defaults={"description": "Every action on every object.", "actions": ["*"]}
    )
    return role


def admin_ensure(*, username: str, credentials_file: Path) -> tuple[str, str | None]:
    """Create the admin with a random password the first time, grant it the
    SuperUser role system-wide, and keep the first password in a file only
    root can read so set-up can print it again. Returns (username, password
    or None when the admin has changed it)."""
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save()
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(f"{username}\n{password}\n")
            credentials_file.chmod(0o600)
        Permission.objects.get_or_create(role=superuser_role(), user=user, object_type=None, object_id="")
    if not credentials_file.exists():
        return username, None
    saved_password = credentials_file.read_text().split("\n")[1]
    return username, saved_password if user.check_password(saved_password) else None
