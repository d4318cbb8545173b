"""The base viewsets every app's API builds on: permissions, id pattern, and one 400 for every bad parameter."""

from typing import Any

from rest_framework import exceptions, mixins, viewsets

from .pagination import KeysetPagination
from .permissions import ReadAllWriteOwners

# Object ids in URLs: digits that fit a bigint (anything else is a 404 from the URL resolver, never a
# database error). The incident routes also take the public form INC-42 (incidents.models.parse_public_id).
ID_PATTERN = r"[0-9]{1,18}"


class QueryValidationMixin:
    """Run every filter backend and the paginator's checks, and answer one 400 naming every bad parameter."""

    def filter_queryset(self, queryset):
        errors: dict[str, Any] = {}
        for backend in list(self.filter_backends):
            try:
                queryset = backend().filter_queryset(self.request, queryset, self)
            except exceptions.ValidationError as exc:
                errors.update(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        if getattr(self, "action", None) == "list" and isinstance(self.paginator, KeysetPagination):
            errors.update(self.paginator.check_params(self.request, self))
        if errors:
            raise exceptions.ValidationError(errors)
        return queryset


class BaseViewSet(QueryValidationMixin, viewsets.GenericViewSet):
    permission_classes = [ReadAllWriteOwners]
    lookup_value_regex = ID_PATTERN


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    pass
