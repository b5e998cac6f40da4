"""BoneRead ML: synthetic data, MT-UNet, training, evaluation and the predict interface."""

__version__ = "0.1.0"
