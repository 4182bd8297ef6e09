"""The main job as a script: train the seed CNN on Fashion-MNIST.

Run: python examples/train_fashion_mnist.py [--epochs 10] [--batch-norm] [--resume] ...
(the same options as `python -m tinygrad_cnn.train --help`)
"""
import sys

from tinygrad_cnn.train import main

if __name__ == "__main__":
    sys.exit(main())
