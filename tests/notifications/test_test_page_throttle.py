"""The test page: at most one a minute per person, counted from the last one (not by the clock's minute, which
let two go out a second apart across a minute's end), and two clicks at once send one (the person's row lock)."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from notifications.contact import page_test_send
from notifications.models import Notification
from sredesk.exceptions import TooSoon
from tests.factories import UserFactory

T = dt.datetime(2026, 12, 5, 12, 0, 59, tzinfo=dt.UTC)


def test_pages(person) -> int:
    return Notification.objects.filter(dedup_key__startswith=f"test-page:{person.pk}:").count()


test_pages.__test__ = False


@pytest.mark.django_db
def test_two_test_pages_a_second_apart_across_a_minutes_end_send_one_and_a_minute_later_another():
    person = UserFactory()
    with time_machine.travel(T, tick=False):
        page_test_send(actor=person, person=person)
    with time_machine.travel(T + dt.timedelta(seconds=2), tick=False), pytest.raises(TooSoon) as refused:
        page_test_send(actor=person, person=person)
    assert test_pages(person) == 1
    assert refused.value.retry_at == T + dt.timedelta(seconds=60)
    with time_machine.travel(T + dt.timedelta(seconds=61), tick=False):
        page_test_send(actor=person, person=person)
    assert test_pages(person) == 2


@pytest.mark.django_db(transaction=True)
def test_two_test_pages_asked_at_once_in_two_minutes_send_one():
    person = UserFactory()
    start = threading.Barrier(2)
    refusals = []

    def click(now):
        try:
            start.wait()
            page_test_send(actor=person, person=person, now=now)
        except TooSoon as exc:
            refusals.append(exc)
        finally:
            connection.close()

    with time_machine.travel(T + dt.timedelta(seconds=1), tick=False):
        clicks = [threading.Thread(target=click, args=(T + dt.timedelta(seconds=s),)) for s in (0, 2)]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join()
    assert test_pages(person) == 1 and len(refusals) == 1
