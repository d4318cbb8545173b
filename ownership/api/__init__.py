"""REST API (`/api/v1/`) for this app: serializers, FilterSets and viewsets; see sredesk/api.py for what they share."""
