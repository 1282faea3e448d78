"""Studies on a served model: an OpenAI-compatible endpoint (vLLM, a provider) instead of a toy network."""
