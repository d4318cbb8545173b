"""REST API (`/api/v1/`) for this app: serializers, FilterSets and viewsets; sredesk/api/ holds what they share."""
