"""The deliveries a page webhook's owner sees (``page_webhooks_deliveries``: channel, address, newest first) are
read through an index on exactly those columns, not by scanning every delivery ever made."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.page_webhooks import page_webhook_set, page_webhooks_deliveries
from notifications.services import notify
from tests.factories import UserFactory
from tests.notifications.test_page_webhook import receiver  # noqa: F401 (fixture)

INDEX = "notification_chan_addr_new_idx"


def test_webhook_deliveries_are_read_through_the_channel_address_created_index(requires_postgres, receiver):  # noqa: F811
    hooks = []
    for name in ("ana", "bo"):
        person = UserFactory(username=name)
        hook, _ = page_webhook_set(actor=person, url=receiver.url, user=person)
        hooks.append(hook)
        for n in range(3):
            notify(key=f"page:{name}:{n}", topic=f"INC-{n}", subject="Page", text="down", slack=[], outbox=[],
                   webhook=[hook.address])  # fmt: skip
    with connection.cursor() as cursor:
        columns = connection.introspection.get_constraints(cursor, Notification._meta.db_table)
    assert columns.get(INDEX, {}).get("columns") == ["channel", "address", "created_at", "id"]

    with CaptureQueriesContext(connection) as queries:
        found = page_webhooks_deliveries(hooks, limit=2)
    assert [len(rows) for rows in found.values()] == [2, 2]
    [query] = [q["sql"] for q in queries.captured_queries if Notification._meta.db_table in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows: the planner would scan them
        cursor.execute(f"EXPLAIN {query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert INDEX in plan, plan
