"""Evaluation: the research datasets' protocols, real clips, and the baselines in one harness.

Shared by ``rrin evaluate``, the trainer's validation and ``benchmarks/real_footage.py``.
"""

from .harness import MethodResult, Report, Sample, SampleScore, evaluate_clip, evaluate_samples
from .minterpolate import MinterpolateOptions, minterpolate_sequence
from .predictors import (BASELINES, BlendPredictor, MinterpolatePredictor, ModelPredictor, Predictor,
                         RepeatPredictor, make_baseline, predict_sequence)
from .datasets import DATASETS, load_clip, open_dataset

__all__ = ["MethodResult", "Report", "Sample", "SampleScore", "evaluate_clip", "evaluate_samples",
           "MinterpolateOptions", "minterpolate_sequence", "BASELINES", "BlendPredictor",
           "MinterpolatePredictor", "ModelPredictor", "Predictor", "RepeatPredictor", "make_baseline",
           "predict_sequence", "DATASETS", "load_clip", "open_dataset"]
