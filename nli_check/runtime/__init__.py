"""How the transformer models run: the backend (PyTorch or OpenVINO), the precision
(float32, bfloat16, int8) and the batches (by token budget).

``encoders`` loads a model folder as an :class:`~nli_check.runtime.encoders.Encoder` (one
call: token ids in, the model's first output out); ``export`` turns a folder into OpenVINO
IR once, int8-quantized on request, into a cache folder; ``batching`` groups inputs by
length under a token budget.
"""
