"""Building blocks shared by the architectures (one file each)."""

from .attention import SqueezeExcitation1d
from .cbam import CBAM1d, ChannelAttention1d, SpatialAttention1d
from .fusion import RRFusion
from .pooling import GlobalPool1d, log_mean_probability
from .positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding, positional_encoding
from .residual import ConvBNAct1d, ResidualBlock1d, attention_block

__all__ = [
    "SqueezeExcitation1d", "CBAM1d", "ChannelAttention1d", "SpatialAttention1d", "RRFusion", "GlobalPool1d", "log_mean_probability",
    "LearnedPositionalEncoding", "SinusoidalPositionalEncoding", "positional_encoding",
    "ConvBNAct1d", "ResidualBlock1d", "attention_block",
]
