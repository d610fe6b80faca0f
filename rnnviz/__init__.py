"""rnnviz: see, step by step, what a recurrent neural network computes."""
__version__ = "0.1.0"
