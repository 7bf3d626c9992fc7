"""Recurrent layers of the TF twins (issue 10)."""

from tf_layers.rnn.recurrent import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from tf_layers.rnn.wrappers import RNN, Bidirectional, StackedRNNCells, TimeDistributed

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "SimpleRNN", "SimpleRNNCell", "RNN",
           "Bidirectional", "StackedRNNCells", "TimeDistributed"]  # fmt: skip
