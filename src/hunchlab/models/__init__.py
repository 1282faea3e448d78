"""hunchlab.models: real models behind runs and studies.

- ``client``: an OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, a provider's API) with a
  concurrency limit, retries with backoff, and a completion cache so reruns are free and
  reproducible (``Client``, ``Request``, ``Completion``);
- ``usage``: token usage and cost per model, recorded with a run;
- ``serve``: a small OpenAI-compatible server over any Python function (tests, demos);
- ``local``: a Hugging Face ``transformers`` model loaded from a local folder, for
  ``hunchlab.interp``.

Nothing here is imported by ``import hunchlab``; ``local`` needs torch and transformers.
See docs/models-and-evals.md.
"""
