"""API call counts: shared rows, and a broken counting connection never fails a call."""

import pytest
from django.db import connections

from integrations import api_calls
from integrations.models import ApiCallCount


def count(system, status):
    row = ApiCallCount.objects.filter(system=system, status=status).first()
    return row.count if row else 0


@pytest.mark.django_db
def test_each_call_adds_one_to_its_system_and_status():
    before = count("exact", "200"), count("exact", "429")
    api_calls.count_call("exact", 200)
    api_calls.count_call("exact", 200)
    api_calls.count_call("exact", 429)
    assert (count("exact", "200"), count("exact", "429")) == (before[0] + 2, before[1] + 1)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_counting_connection_postgresql_dropped_is_replaced_and_the_call_counted():
    api_calls.count_call("monday", "timeout")
    before = count("monday", "timeout")
    # What a PostgreSQL restart leaves behind: the side connection's socket is gone.
    connections[api_calls._side.name].connection.close()
    api_calls.count_call("monday", "timeout")
    assert count("monday", "timeout") == before + 1
