import dataclasses
import secrets
import socket

import pytest
import redis
from required_services import REDIS_URL, missing_service
from support import make_page, table_rows

from engagement.errors import RateLimited
from engagement.ratelimit import RateLimiter
from engagement.services.audience.subscriptions import SubscribeRequest, subscribe
from engagement.services.discussion.comments import PostComment, post_comment

RULES = {"comment": "3/minute", "subscribe": "2/minute;3/day"}


@pytest.fixture
def redis_url():
    """The real Redis on its own database number; each test uses identities no other test uses."""
    url = REDIS_URL.rsplit("/", 1)[0] + "/9"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing_service("Redis", str(exc))
    finally:
        client.close()
    return url


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request):
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    return RateLimiter(url, RULES, enabled=True)


def who():
    """An identity no other test (nor an earlier run on the same Redis) has used."""
    return secrets.token_hex(8)


def address():
    return f"{who()}@example.org"


def test_each_identity_has_its_own_allowance(limiter):
    ip, other = who(), who()
    for _ in range(3):
        limiter.check("comment", {"ip": ip})
    with pytest.raises(RateLimited) as err:
        limiter.check("comment", {"ip": ip})
    assert 1 <= err.value.retry_after <= 60
    assert err.value.as_dict()["retry_after"] == err.value.retry_after
    limiter.check("comment", {"ip": other})
    limiter.check("comment", {"email": ip})  # the same value as another kind of identity is another key
    limiter.check("subscribe", {"ip": ip})  # and another action has its own limits


def test_a_refused_request_uses_up_nobody_elses_allowance(limiter):
    ip, email = who(), who()
    for _ in range(3):
        limiter.check("comment", {"ip": ip})
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.check("comment", {"ip": ip, "email": email})
    for _ in range(3):
        limiter.check("comment", {"ip": who(), "email": email})
    with pytest.raises(RateLimited):
        limiter.check("comment", {"email": email})


def test_every_limit_of_a_rule_applies(limiter):
    email = who()
    limiter.check("subscribe", {"email": email})
    limiter.check("subscribe", {"email": email})
    with pytest.raises(RateLimited) as err:
        limiter.check("subscribe", {"email": email})
    assert err.value.retry_after <= 60  # the per-minute limit answers first


def test_missing_identities_are_not_counted(limiter):
    ip = who()
    for _ in range(3):
        limiter.check("comment", {"ip": ip, "reader": None, "email": ""})
    with pytest.raises(RateLimited):
        limiter.check("comment", {"ip": ip, "reader": None})


def test_a_disabled_limiter_lets_everything_through():
    limiter = RateLimiter("memory://", RULES, enabled=False)
    for _ in range(100):
        limiter.check("comment", {"ip": "1.2.3.4"})


def test_redis_keeps_counts_across_limiter_instances(redis_url):
    # Several web processes share one Redis: each sees what the others counted.
    first, second = RateLimiter(redis_url, RULES), RateLimiter(redis_url, RULES)
    ip = who()
    first.check("comment", {"ip": ip})
    second.check("comment", {"ip": ip})
    first.check("comment", {"ip": ip})
    with pytest.raises(RateLimited):
        second.check("comment", {"ip": ip})


@pytest.fixture
def limited(core, limiter):
    """The real core with the rate limits switched on."""
    return dataclasses.replace(core, limiter=limiter)


def test_subscribe_is_limited_per_client_and_per_address(limited, site):
    ip = who()
    subscribe(limited.uow(), SubscribeRequest("daily", address(), "digest", client_ip=ip))
    subscribe(limited.uow(), SubscribeRequest("daily", address(), "digest", client_ip=ip))
    before = table_rows(limited)
    with pytest.raises(RateLimited):
        subscribe(limited.uow(), SubscribeRequest("daily", address(), "digest", client_ip=ip))
    assert table_rows(limited) == before
    # Spread over many clients, one address still gets few confirmation requests.
    target = address()
    for _ in range(2):
        subscribe(limited.uow(), SubscribeRequest("daily", target, "digest", client_ip=who()))
    with pytest.raises(RateLimited):
        subscribe(limited.uow(), SubscribeRequest("daily", target.upper(), "digest", client_ip=who()))


def test_comments_are_limited_per_reader_client_and_address(limited, site):
    page = make_page(limited, site)

    def post(**kwargs):
        values = {"site": "daily", "page": page.key, "author_name": "Jane", "body": "Hello"} | kwargs
        return post_comment(limited.uow(), PostComment(**values))

    reader, ip = who(), who()
    for _ in range(3):
        post(reader_id=reader)
    before = table_rows(limited)
    with pytest.raises(RateLimited):
        post(reader_id=reader)
    for _ in range(3):
        post(client_ip=ip)
    with pytest.raises(RateLimited):
        post(client_ip=ip, reader_id=who())
    email = address()
    for _ in range(3):
        post(author_email=email, client_ip=who())
    with pytest.raises(RateLimited):
        post(author_email=email.upper())
    assert len(table_rows(limited)["comments"]) == len(before["comments"]) + 6


def test_limits_are_counted_in_memory_while_redis_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = s.getsockname()[1]  # a port nothing listens on once the socket is closed
    limiter = RateLimiter(f"redis://127.0.0.1:{nobody}/0", RULES, enabled=True)
    reader = who()
    for _ in range(3):
        limiter.check("comment", {"reader": reader})  # no storage error reaches the caller
    with pytest.raises(RateLimited):
        limiter.check("comment", {"reader": reader})
