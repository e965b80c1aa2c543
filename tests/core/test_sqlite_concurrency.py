"""The embedded database under threads: the tests run the watcher, workers and servers in
threads of one process, as the demo runs them in processes sharing one file. A read or a
write that meets another thread's open write transaction waits for it; it is not refused."""

import threading

import pytest
from django.db import connection, transaction

from apps.inventory.models import Cluster

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the embedded database's locking"
)


def test_a_reader_and_a_writer_wait_for_another_threads_write_transaction(transactional_db):
    inside, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def writer():
        try:
            with transaction.atomic():
                Cluster.objects.create(name="first", vpc_id="vpc-00000001")
                inside.set()
                release.wait(5)
        except BaseException as exc:  # reported to the test below
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    threading.Timer(0.2, release.set).start()
    try:
        assert Cluster.objects.filter(name="second").count() == 0  # reads while it is open
        Cluster.objects.create(name="second", vpc_id="vpc-00000002")  # waits for its commit
    finally:
        release.set()
        thread.join(10)
    assert failures == []
    assert set(Cluster.objects.values_list("name", flat=True)) == {"first", "second"}
