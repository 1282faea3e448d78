"""An OpenAI-compatible chat endpoint as a run's model: ``Client(endpoint, model)``.

Any server that answers OpenAI's ``POST {endpoint}/chat/completions`` works: vLLM,
llama.cpp's server, Ollama, SGLang, a provider's API. It is written on the standard
library (``urllib`` and a thread pool) rather than an SDK: one JSON request and one
JSON answer need no more, and the client then works on a core install.

- **Concurrency.** ``complete_all`` keeps at most ``concurrency`` requests in flight
  (setting ``model_concurrency``, default 8): enough for a vLLM server to batch them,
  few enough not to trip a provider's rate limit on the first second.
- **Retries.** A refused or dropped connection, a timeout, 429 and 5xx are retried up to
  ``RETRIES`` times with exponential backoff (0.5 s doubling to 16 s, jittered so parallel
  requests do not return together: about 30 s in all, a rate-limit window), and a
  ``Retry-After`` header is honoured up to 60 s. Any other answer (a bad request, an
  unknown model, a wrong key) stops at once with the server's message and what to fix.
- **Cache** (``models.cache``): a completion is keyed by (endpoint, model, messages,
  params, sample index); asked again, it comes from disk and costs nothing, so a rerun
  reproduces its numbers (``hunch rerun --check``) even with the server gone.
- **Seeds.** With ``seed`` in the params, sample ``i`` is sent its own seed derived from
  (seed, i): the samples of one prompt differ, a run with another seed draws other
  samples, and a server that honours seeds (vLLM; OpenAI on a best-effort basis) can give
  the same sample again.
- **The key** is read from the environment variable named by the setting
  ``model_key_env`` (default ``OPENAI_API_KEY``) and sent as ``Authorization: Bearer``;
  with the variable unset nothing is sent, as a local server needs. It is never part of
  a cache key, a run's params or record, or a message: server replies quoted in errors
  have it blanked.
- **Usage.** Tokens (as the server counts them) and cost (``models.usage``) per model;
  ``record(run)`` writes them into the run's record.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hunchlab.compat.attach import add_record
from hunchlab.errors import BadInput, EndpointError
from hunchlab.models.cache import CompletionCache, Entry
from hunchlab.models.usage import Tally, Usage
from hunchlab.project import find_project

if TYPE_CHECKING:
    from hunchlab.project import Project
    from hunchlab.run import Run

RETRIES = 6  # 0.5 + 1 + 2 + 4 + 8 + 16 s of backoff: about 30 s, a provider's rate-limit window
BACKOFF = 0.5  # seconds before the first retry, doubled after each
BACKOFF_CAP = 16.0
RETRY_AFTER_CAP = 60.0  # a Retry-After longer than this is a server asking for minutes: give up sooner
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
TIMEOUT = 300.0  # seconds for one completion: a long generation on a loaded server takes minutes
FIX = {
    401: "set the key in ${env} (the setting model_key_env names the variable)",
    403: "the key in ${env} is not allowed this model or endpoint",
    404: "check --endpoint (it usually ends in /v1) and --model (GET {endpoint}/models lists the models)",
}


@dataclass(frozen=True)
class Request:
    """One completion to ask for: a prompt (and system prompt), and which sample of it this is."""

    prompt: str
    sample: int = 0  # tells apart the N samples of one prompt; each is cached on its own
    system: str | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str | None
    cached: bool  # served from the cache, at no cost


def sample_seed(seed: int, sample: int) -> int:
    """The seed sent for sample ``sample`` of a run seeded ``seed`` (a hash, so streams never overlap)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{sample}".encode()).digest()[:4], "big") % 2**31


class Client:
    """Completions from one model at one endpoint, with generation params fixed for the client's life."""

    def __init__(self, endpoint: str, model: str, *, params: dict[str, Any] | None = None,
                 key_env: str = "OPENAI_API_KEY", concurrency: int = 8, prices: dict[str, Any] | None = None,
                 cache: CompletionCache | None = None, use_cache: bool = True, timeout: float = TIMEOUT) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise BadInput(f"endpoint {endpoint!r} is not an http(s) URL",
                           fix="give the server's base URL, e.g. --endpoint http://localhost:8000/v1")
        if not model:
            raise BadInput("no model named", fix="give the model the server serves, e.g. --model Qwen/Qwen2.5-7B-Instruct")
        self.endpoint = endpoint.rstrip("/").removesuffix("/chat/completions")
        self.model, self.params = model, dict(params or {})
        self.key_env, self._key = key_env, os.environ.get(key_env) or None
        self.concurrency, self.prices, self.timeout = concurrency, dict(prices or {}), timeout
        self.cache = (cache or CompletionCache()) if use_cache else None
        self._tally, self._lock = Tally(), threading.Lock()

    @classmethod
    def for_project(cls, endpoint: str, model: str, *, params: dict[str, Any] | None = None,
                    project: Project | None = None, **options: Any) -> Client:
        """A client with the project's settings: the key's variable, concurrency and prices."""
        project = project or find_project()
        return cls(endpoint, model, params=params, key_env=project.setting("model_key_env"),
                   concurrency=project.setting("model_concurrency"), prices=project.setting("model_prices"),
                   **options)

    # -- asking ----------------------------------------------------------------------------
    def complete(self, request: Request) -> Completion:
        """One completion, from the cache when it was asked before."""
        asked = self._asked(request)
        key = CompletionCache.key(asked)
        entry = self.cache.get(key) if self.cache else None
        cached = entry is not None
        if entry is None:
            entry = self._post(asked)
            if self.cache:
                self.cache.put(key, entry)
        done = Completion(entry["text"], entry["input_tokens"], entry["output_tokens"], entry["finish_reason"],
                          cached=cached)
        with self._lock:
            self._tally.add(done.input_tokens, done.output_tokens, cached=done.cached)
        return done

    def complete_all(self, requests: Sequence[Request],
                     progress: Callable[[int, int], None] | None = None) -> list[Completion]:
        """Completions in the order asked, at most ``concurrency`` in flight; the first error stops the rest."""
        out: list[Completion | None] = [None] * len(requests)
        done = 0
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="hunch-model") as pool:
            futures: dict[Future[Completion], int] = {pool.submit(self.complete, r): i for i, r in enumerate(requests)}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise future.exception()  # type: ignore[misc]
                    out[futures[future]] = future.result()
                    done += 1
                if progress is not None:
                    progress(done, len(requests))
        return [c for c in out if c is not None]

    def _asked(self, request: Request) -> dict[str, Any]:
        """What is sent (and what the cache key is made of): everything but the key."""
        messages = ([{"role": "system", "content": request.system}] if request.system else []) + [
            {"role": "user", "content": request.prompt}]
        params = dict(self.params)
        if "seed" in params:
            params["seed"] = sample_seed(int(params["seed"]), request.sample)
        return {"endpoint": self.endpoint, "model": self.model, "messages": messages, "params": params,
                "sample": request.sample}

    # -- the wire --------------------------------------------------------------------------
    def _post(self, asked: dict[str, Any]) -> Entry:
        body = json.dumps({"model": self.model, "messages": asked["messages"], **asked["params"]}).encode()
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(RETRIES + 1):
            req = urllib.request.Request(f"{self.endpoint}/chat/completions", data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as answer:
                    return self._entry(answer.read(), asked)
            except urllib.error.HTTPError as e:
                text = self._blank(e.read().decode(errors="replace"))
                if e.code not in RETRY_STATUS:
                    raise self._refused(e.code, text) from None
                last, wait_for = f"HTTP {e.code}: {text[:200]}", _retry_after(e.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                last, wait_for = f"{type(e).__name__}: {getattr(e, 'reason', e)}", None
            if attempt < RETRIES:
                time.sleep(wait_for if wait_for is not None else _backoff(attempt))
        raise EndpointError(f"{self.endpoint} did not answer after {RETRIES + 1} tries (last: {last})",
                            fix="start the server or check --endpoint; a busy server: lower model_concurrency")

    def _entry(self, raw: bytes, asked: dict[str, Any]) -> Entry:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return {"text": choice["message"].get("content") or "", "finish_reason": choice.get("finish_reason"),
                    "input_tokens": int(usage.get("prompt_tokens") or 0),
                    "output_tokens": int(usage.get("completion_tokens") or 0), "asked": asked}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise EndpointError(f"{self.endpoint} answered something that is not a chat completion: "
                                f"{self._blank(raw[:200].decode(errors='replace'))}",
                                fix="check that --endpoint is an OpenAI-compatible server's base URL") from None

    def _refused(self, code: int, text: str) -> EndpointError:
        fix = FIX.get(code, "the server refused the request: check the generation params and --model")
        return EndpointError(f"{self.endpoint} refused the request: HTTP {code}: {text[:300]}",
                             fix=fix.replace("{env}", self.key_env).replace("{endpoint}", self.endpoint))

    def _blank(self, text: str) -> str:
        return text.replace(self._key, "[key]") if self._key else text

    # -- what it cost ----------------------------------------------------------------------
    def usage(self) -> dict[str, Usage]:
        with self._lock:
            return {self.model: self._tally.record(self.model, self.prices)}

    def record(self, run: Run) -> None:
        """Write the usage so far into the run's record (``hunch show`` prints it)."""
        add_record(run, {"models": self.usage()})


def _backoff(attempt: int) -> float:
    return min(BACKOFF * 2.0**attempt, BACKOFF_CAP) * random.uniform(0.5, 1.0)


def _retry_after(value: str | None) -> float | None:
    """A Retry-After in seconds (the HTTP-date form is rare from model servers and is left to backoff)."""
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_CAP) if value is not None else None
    except ValueError:
        return None
