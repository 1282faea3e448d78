"""The endpoint client against a real HTTP server on 127.0.0.1: cache, seeds, concurrency, retries, errors, key."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hunchlab.errors import EndpointError, HunchError
from hunchlab.models import client as client_module
from hunchlab.models.cache import CompletionCache
from hunchlab.models.client import Client, Request, sample_seed
from hunchlab.models.serve import Busy, Call, Reply, Server

KEY = "sk-test-0123456789-secret"


class Echo:
    """A model that says what it was asked, with its seed; counts calls and the most in flight at once."""

    def __init__(self, delay: float = 0.0, busy: int = 0, crash: int = 0) -> None:
        self.calls, self.delay, self.busy, self.crash = 0, delay, busy, crash
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, call: Call) -> Reply:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            n = self.calls
        try:
            time.sleep(self.delay)
            if n <= self.busy:
                raise Busy(retry_after=0)
            if n <= self.busy + self.crash:
                raise RuntimeError("backend fell over")
            return Reply(f"{call.prompt} / seed {call.seed} / t {call.temperature}", len(call.prompt.split()), 4)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def cache(tmp_path: Path) -> CompletionCache:
    return CompletionCache(tmp_path / "completions")


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def server(echo: Echo) -> Iterator[Server]:
    with Server(echo, model="toy") as s:
        yield s


def test_completions_come_back_in_order_with_tokens_and_seeds_per_sample(server: Server, cache: CompletionCache) -> None:
    client = Client(server.url, "toy", params={"temperature": 0.5, "seed": 3}, cache=cache)
    out = client.complete_all([Request("two plus two", sample=i) for i in range(5)])
    assert [c.text for c in out] == [f"two plus two / seed {sample_seed(3, i)} / t 0.5" for i in range(5)]
    assert len({sample_seed(3, i) for i in range(5)} | {sample_seed(4, 0)}) == 6  # samples and seeds differ
    assert all(c.input_tokens == 3 and c.output_tokens == 4 and not c.cached for c in out)
    assert client.usage() == {"toy": {"requests": 5, "cached": 0, "input_tokens": 15, "output_tokens": 20,
                                      "cost_usd": None, "cost_usd_uncached": None}}


def test_asking_again_is_served_from_the_cache_at_no_cost(server: Server, echo: Echo, cache: CompletionCache) -> None:
    prices = {"toy": {"input": 1.0, "output": 2.0}}
    requests = [Request(f"q{i}", sample=s) for i in range(3) for s in range(2)]
    first = Client(server.url, "toy", params={"seed": 0}, cache=cache, prices=prices).complete_all(requests)
    assert echo.calls == 6
    again = Client(server.url, "toy", params={"seed": 0}, cache=cache, prices=prices)
    assert again.complete_all(requests) == [c.__class__(**{**c.__dict__, "cached": True}) for c in first]
    assert echo.calls == 6  # not one request more
    usage = again.usage()["toy"]
    assert usage["cached"] == 6 and usage["cost_usd"] == 0.0 and usage["cost_usd_uncached"] == pytest.approx(
        (6 * 1 * 1.0 + 6 * 4 * 2.0) / 1e6)
    other = Client(server.url, "toy", params={"seed": 1}, cache=cache).complete_all(requests[:1])
    assert echo.calls == 7 and not other[0].cached  # another seed is another sample
    Client(server.url, "toy", params={"seed": 0}, use_cache=False).complete_all(requests[:1])
    assert echo.calls == 8


def test_no_more_requests_in_flight_than_the_limit(cache: CompletionCache) -> None:
    slow = Echo(delay=0.05)
    with Server(slow, model="toy") as server:
        Client(server.url, "toy", concurrency=3, cache=cache).complete_all([Request(f"q{i}") for i in range(12)])
    assert slow.most_in_flight == 3


def test_rate_limits_and_crashes_are_retried(monkeypatch: pytest.MonkeyPatch, cache: CompletionCache) -> None:
    monkeypatch.setattr(client_module, "BACKOFF", 0.01)
    flaky = Echo(busy=2, crash=2)
    with Server(flaky, model="toy") as server:
        out = Client(server.url, "toy", cache=cache).complete(Request("hello"))
    assert out.text.startswith("hello") and flaky.calls == 5


def test_a_server_that_never_answers_is_an_error_after_the_retries(monkeypatch: pytest.MonkeyPatch,
                                                                   cache: CompletionCache) -> None:
    monkeypatch.setattr(client_module, "BACKOFF", 0.01)
    gone = Server(Echo(), model="toy")
    url = gone.url
    gone.close()  # the port is closed: connection refused
    with pytest.raises(EndpointError) as e:
        Client(url, "toy", cache=cache).complete(Request("hello"))
    assert "did not answer after 7 tries" in e.value.what and "start the server" in str(e.value.fix)


def test_a_refusal_stops_at_once_and_says_what_to_fix(server: Server, echo: Echo, cache: CompletionCache) -> None:
    with pytest.raises(EndpointError) as e:
        Client(server.url, "gpt-9", cache=cache).complete(Request("hello"))
    assert "HTTP 404" in e.value.what and "not served here" in e.value.what and "--model" in str(e.value.fix)
    assert echo.calls == 0
    with pytest.raises(HunchError, match="not an http"):
        Client("localhost:8000/v1", "toy")


def test_the_key_is_sent_from_the_named_variable_and_never_shown(monkeypatch: pytest.MonkeyPatch,
                                                                  cache: CompletionCache, tmp_path: Path) -> None:
    with Server(Echo(), model="toy", key=KEY) as server:
        monkeypatch.delenv("MY_KEY", raising=False)
        with pytest.raises(EndpointError) as e:
            Client(server.url, "toy", key_env="MY_KEY", cache=cache).complete(Request("hi"))
        assert "HTTP 401" in e.value.what and "$MY_KEY" in str(e.value.fix)
        monkeypatch.setenv("MY_KEY", KEY)
        client = Client(server.url, "toy", key_env="MY_KEY", cache=cache)
        assert client.complete(Request("hi")).text.startswith("hi")
    assert KEY not in repr(client.usage()) and KEY not in repr(vars(client).get("params"))
    assert not any(KEY in p.read_text() for p in cache.root.rglob("*.json"))  # nor in the cache
