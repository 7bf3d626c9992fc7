"""Recurrent layers and their cells (keras/src/layers/rnn/)."""

from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .recurrent import GRU, LSTM, SimpleRNN

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "SimpleRNN", "SimpleRNNCell"]
