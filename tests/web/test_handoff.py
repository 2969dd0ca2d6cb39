"""The background hand-off: commits return at once, ids reach the broker in batches, failures wait."""

from __future__ import annotations

import threading
import time

from engagement.web.handoff import BackgroundHandoff


def test_ids_are_handed_over_in_order_and_batched_while_the_broker_is_busy():
    sent: list[list[int]] = []
    gate = threading.Event()

    def hand_over(ids):
        gate.wait(5)
        sent.append(list(ids))

    relay = BackgroundHandoff(hand_over)
    started = time.perf_counter()
    for n in range(1, 6):
        relay([n])
    assert time.perf_counter() - started < 0.5  # nobody waited for the slow broker
    gate.set()
    relay.close()
    assert [i for batch in sent for i in batch] == [1, 2, 3, 4, 5]
    assert len(sent) < 5  # what waited went in fewer tasks


def test_a_failing_broker_loses_nothing_that_was_committed_and_stops_nothing():
    calls = []

    def broker_down(ids):
        calls.append(list(ids))
        raise ConnectionError("broker unreachable")

    relay = BackgroundHandoff(broker_down)
    relay([1])
    relay([2])
    relay.close()
    assert [i for batch in calls for i in batch] == [1, 2]  # tried; the sweep relays them later


def test_a_full_queue_drops_the_hand_off_not_the_request():
    gate = threading.Event()
    relay = BackgroundHandoff(lambda ids: gate.wait(5), max_pending=1)
    for n in range(10):
        relay([n])  # never blocks, never raises
    gate.set()
    relay.close()
