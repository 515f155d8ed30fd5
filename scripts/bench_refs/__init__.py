"""What ``scripts/benchmark.py`` times lincoln against, and the starting point
every implementation shares.

* :mod:`.workloads`: the workloads W1-W5, their data and lincoln's networks
  (whose initial parameters every reference copies);
* :mod:`.hand_dense`, :mod:`.hand_cnn`, :mod:`.hand_lstm`: the hand-written
  NumPy loops, the same math fused by hand with preallocated buffers;
* :mod:`.torch_refs`: the same networks in PyTorch (never a dependency).
"""
