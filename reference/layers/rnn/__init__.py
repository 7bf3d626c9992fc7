"""Recurrent layers and their cells (keras/src/layers/rnn/)."""

from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .recurrent import GRU, LSTM, SimpleRNN
from .rnn import RNN, StackedRNNCells
from .time_distributed import TimeDistributed

__all__ = ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN",
           "SimpleRNNCell", "StackedRNNCells", "TimeDistributed"]  # fmt: skip
