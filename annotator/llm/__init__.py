"""LLM annotators and the LLM server: few-shot kNN prompts turned into per-label probabilities.

- ``prompts``: the few-shot completion prompt (template in ``assets/prompts/``), its hash, cache keys.
- ``local``: ``LocalLLMAnnotator`` ("llm-local"), a tiny GGUF model in-process, scoring each
  label's log-likelihood; ``load_llm`` loads (and converts once) the model.
- ``endpoint``: ``EndpointLLMAnnotator`` ("llm-endpoint"), any OpenAI-compatible server: label
  log-probabilities when the server returns them, else the vote of several prompt variants.
- ``server``: a small OpenAI-compatible HTTP server for the local model
  (``python -m annotator llm-server``).
- ``cache``: on-disk score caches, so that a re-run costs nothing.

Domain layer: nothing here imports gradio, the service, the UI or the CLI; torch, transformers,
openai, fastapi and uvicorn are imported inside the functions that need them.
"""
