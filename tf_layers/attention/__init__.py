"""TF twins of the attention layers (keras/src/layers/attention/)."""

from tf_layers.attention.attention import AdditiveAttention, Attention
from tf_layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "MultiHeadAttention"]
