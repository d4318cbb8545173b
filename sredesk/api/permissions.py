"""Who may write through the API: the owning team's members, the users a viewset names, and staff."""

from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ownership.models import Membership, User


@dataclass(frozen=True)
class WriteScope:
    """Who may change an object besides staff: the members of ``team_id`` and the users in ``user_ids``."""

    team_id: int | None
    user_ids: tuple[int | None, ...] = ()


def is_staff(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser)


def may_write(user: User, scope: WriteScope) -> bool:
    if not user.is_authenticated:
        return False
    if is_staff(user) or user.pk in scope.user_ids:
        return True
    return scope.team_id is not None and Membership.objects.filter(team_id=scope.team_id, user_id=user.pk).exists()


WRITE_DENIED = (
    "Only members of the owning team, the incident commander (or the post-mortem's owner) and staff may change this."
)


class ReadAllWriteOwners(BasePermission):
    """Signed-in users read; writes need ``may_write`` on the object's ``view.write_scope(obj)``."""

    message = WRITE_DENIED

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return may_write(request.user, view.write_scope(obj))


def check_write(request, scope: WriteScope) -> None:
    """Raise 403 unless the user may write within ``scope`` (for creates, where there is no object yet)."""
    if not may_write(request.user, scope):
        raise exceptions.PermissionDenied(WRITE_DENIED)
