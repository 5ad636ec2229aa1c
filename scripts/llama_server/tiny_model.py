"""Writes a tiny llama-architecture GGUF model with random weights and a real tokenizer.

Usage: python3 tiny_model.py <gguf-py dir> <vocab .gguf> <output .gguf>

The tokenizer (every `tokenizer.*` key) is copied from one of llama.cpp's vocab-only files; the
weights are drawn from a fixed seed, so the same inputs always give the same file. The model is
small enough to load in well under a second and to generate a few hundred tokens a second on one
CPU core; what it says is noise, but llama-server's answers are deterministic under greedy
sampling, which is what a test compares.
"""

import sys

gguf_py, vocab_path, output_path = sys.argv[1:4]
sys.path.insert(0, gguf_py)

import numpy as np  # noqa: E402
from gguf import GGUFReader, GGUFValueType, GGUFWriter  # noqa: E402

N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
N_FF = 128
N_LAYER = 2
N_CTX = 2048

# A plain template with no reasoning or tool syntax, so llama-server passes the model's text
# through as content.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

vocab = GGUFReader(vocab_path)
writer = GGUFWriter(output_path, "llama")
writer.add_name("switchyard-tiny")
writer.add_context_length(N_CTX)
writer.add_embedding_length(N_EMBD)
writer.add_feed_forward_length(N_FF)
writer.add_block_count(N_LAYER)
writer.add_head_count(N_HEAD)
writer.add_head_count_kv(N_HEAD_KV)
writer.add_rope_dimension_count(N_EMBD // N_HEAD)
writer.add_layer_norm_rms_eps(1e-5)
writer.add_file_type(0)  # all F32

n_vocab = 0
for key, field in vocab.fields.items():
    if not key.startswith("tokenizer."):
        continue
    value_type = field.types[0]
    if value_type == GGUFValueType.ARRAY:
        values = field.contents()
        if key == "tokenizer.ggml.tokens":
            n_vocab = len(values)
        writer.add_key_value(key, values, value_type, sub_type=field.types[-1])
    else:
        writer.add_key_value(key, field.contents(), value_type)
writer.add_chat_template(CHAT_TEMPLATE)
if n_vocab == 0:
    sys.exit(f"No tokenizer.ggml.tokens in {vocab_path}")

rng = np.random.default_rng(20)


def weights(*shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


n_embd_kv = N_EMBD // N_HEAD * N_HEAD_KV
writer.add_tensor("token_embd.weight", weights(n_vocab, N_EMBD))
writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
writer.add_tensor("output.weight", weights(n_vocab, N_EMBD))
for layer in range(N_LAYER):
    block = f"blk.{layer}"
    writer.add_tensor(f"{block}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor(f"{block}.attn_q.weight", weights(N_EMBD, N_EMBD))
    writer.add_tensor(f"{block}.attn_k.weight", weights(n_embd_kv, N_EMBD))
    writer.add_tensor(f"{block}.attn_v.weight", weights(n_embd_kv, N_EMBD))
    writer.add_tensor(f"{block}.attn_output.weight", weights(N_EMBD, N_EMBD))
    writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor(f"{block}.ffn_gate.weight", weights(N_FF, N_EMBD))
    writer.add_tensor(f"{block}.ffn_up.weight", weights(N_FF, N_EMBD))
    writer.add_tensor(f"{block}.ffn_down.weight", weights(N_EMBD, N_FF))

writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
