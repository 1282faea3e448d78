"""The test-time compute studies' toy generator as an OpenAI-compatible endpoint.

    python -m hunchlab.studies.served.toy_endpoint --port 8000
    hunch study run self-consistency-served --endpoint http://127.0.0.1:8000/v1 --model toy-dial

It reads a dial problem (``problems``) back out of the prompt, samples the chain of dial
positions from the toy generator of ``test_time_compute`` (an MLP over one step, trained
on 85% of the step table: the same model and cache as that study, so nothing is
downloaded), at the request's temperature and seed, and writes the chain as working
with an ``Answer: d`` line. A request with a seed gets the same sample every time; one
without draws fresh. Token counts are words, as the toy has no tokenizer. It lets the
served-model path (client, cache, retries, the study and its check) run end to end
here; the numbers are the toy's, not a language model's.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

from hunchlab.models.serve import Call, Reply, Server
from hunchlab.studies.served.problems import read_prompt

MODEL = "toy-dial"
MIN_TEMPERATURE = 1e-3  # a request at temperature 0 (greedy) is sampled at this, which is greedy in effect


def toy_model(holdout_frac: float = 0.15, data_seed: int = 0, iters: int = 600,
              seed: int = 0) -> Callable[[Call], Reply]:
    """``respond`` for ``models.serve.Server``: the trained toy generator (from the model cache) answering."""
    import torch

    from hunchlab.studies.test_time_compute.experiment import build_generator  # lazy: loads torch only when called
    from hunchlab.studies.test_time_compute.search import sample_chains  # lazy: loads torch only when called
    from hunchlab.studies.test_time_compute.world import Problems  # lazy: loads torch only when called

    torch.set_num_threads(1)
    generator, _ = build_generator(holdout_frac, data_seed, iters, seed)

    def respond(call: Call) -> Reply:
        problem = read_prompt(call.prompt)
        if problem is None:
            text = "I can only read dial problems."
        else:
            start, moves = problem
            ops = torch.tensor([[m if m >= 0 else 10 - m for m in moves]])  # +d is token d, -d is 10 + d
            g = torch.Generator().manual_seed(call.seed if call.seed is not None else random.getrandbits(31))
            chain = sample_chains(generator, Problems(torch.tensor([start]), ops), 1,
                                  max(call.temperature, MIN_TEMPERATURE), g)[0, 0].tolist()  # (K,)
            text = working(start, moves, chain)
        return Reply(text, len(call.prompt.split()), len(text.split()))

    return respond


def working(start: int, moves: tuple[int, ...], chain: list[int]) -> str:
    """``Start at 3. Forward 7: 0. Back 2: 8.`` and the answer line."""
    steps = " ".join(f"{'Forward' if m >= 0 else 'Back'} {abs(m)}: {v}." for m, v in zip(moves, chain, strict=True))
    return f"Start at {start}. {steps}\nAnswer: {chain[-1]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the toy dial generator as an OpenAI-compatible endpoint.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--key", help="answer only requests with this bearer key")
    args = parser.parse_args(argv)
    server = Server(toy_model(), model=MODEL, key=args.key, host=args.host, port=args.port)
    print(f"serving {MODEL} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
