"""The serverless broker's folder: a polling consumer sees each message whole, skips what it cannot read."""

from __future__ import annotations

import contextlib
import threading
from queue import Empty

from engagement.config import load_settings
from workers import make_celery

MESSAGES = 400
BODY = "x" * 200_000  # large enough that writing a message file takes a while


def _app(tmp_path):
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'e.db'}")
    return make_celery(settings)


def test_a_consumer_polling_while_messages_are_written_reads_each_one_whole(tmp_path):
    app = _app(tmp_path)
    received: list[object] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def consume() -> None:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            try:
                while True:
                    # Read before the attempt: an empty queue after the last write means drained
                    # (read after it, the last messages could land between the two and be missed).
                    written = done.is_set()
                    try:
                        received.append(channel._get("relay"))
                    except Empty:
                        if written:
                            return
            except BaseException as exc:  # the test fails with it below
                errors.append(exc)

    consumer = threading.Thread(target=consume)
    consumer.start()
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for n in range(MESSAGES):
            channel._put("relay", {"n": n, "body": BODY})
    done.set()
    consumer.join(timeout=120)
    assert not errors
    assert sorted(message["n"] for message in received) == list(range(MESSAGES))  # type: ignore[index]


def test_an_unreadable_file_in_the_queue_is_skipped_and_the_next_message_delivered(tmp_path):
    app = _app(tmp_path)
    queue = tmp_path / "broker" / "queue"
    (queue / "1_foreign.relay.msg").write_bytes(b"")  # sorted first: the consumer meets it first
    with app.connection_for_write() as connection:
        connection.default_channel._put("relay", {"n": 1})
        channel = connection.default_channel
        taken = []
        for _ in range(3):
            with contextlib.suppress(Empty):
                taken.append(channel._get("relay"))
    assert taken == [{"n": 1}]
    assert not list(queue.iterdir())
