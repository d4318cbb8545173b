"""The API's door to the one write rule (``ownership.permissions``): signed-in users read, writers write.

The rule itself lives in the domain and the services enforce it; checking it
here too only makes the API refuse a non-writer with 403 before it reads the
body (so an outsider learns nothing from validation errors).
"""

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ownership import permissions


class ReadAllWriteOwners(BasePermission):
    """Signed-in users read; writes need ``ownership.permissions.may_write`` on the object."""

    message = "Only members of the owning team, its appointed incident commander (or owner) and staff may change this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if permissions.may_write(request.user, obj):
            return True
        self.message = permissions.denied_message(obj)
        return False


def check_write(request, obj) -> None:
    """Raise 403 unless the user may write to ``obj`` (creates: the post-mortem named in the body)."""
    if not permissions.may_write(request.user, obj):
        raise exceptions.PermissionDenied(permissions.denied_message(obj))
