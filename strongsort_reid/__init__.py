"""torchreid-compatible person re-identification: models, weights, feature extraction."""

__version__ = "0.1.0"
