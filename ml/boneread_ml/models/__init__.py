"""models: MT-UNet (report-conditioned U-Net), its text encoder and fusion, MONAI baselines."""

from boneread_ml.models.mt_unet import MTUNet
from boneread_ml.models.registry import BASELINES, MODEL_NAMES, build_model, text_mode
from boneread_ml.models.text_encoder import ReportEncoder

__all__ = ["BASELINES", "MODEL_NAMES", "MTUNet", "ReportEncoder", "build_model", "text_mode"]
