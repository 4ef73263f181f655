"""CALRec on PyTorch + Accelerate: the objective, training and sampling of the Swift engine, fed by
``calrec export`` (token ids, sequences, splits), so both engines see the same tokens."""

__version__ = "0.1.0"
