"""Site models in the workers: a site's artifact as bytes (the form the database keeps) and
the detector built on it. Numpy only (the worker image has no training stack).

The bytes are the artifact's ``.npz`` (:meth:`TextModel.save`'s arrays); its ``.json`` is
kept next to them as a JSON column. A site model is named ``<check>-site-<slug>`` and its
version is the database's version number, so results say ``<check>-site-<slug>@<n>+rulesN``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from workers.checks.base import CheckName, Detector
from workers.checks.textmodel import N_FEATURES, TextModel


def site_model_name(check: str, slug: str) -> str:
    return f"{check}-site-{slug}"


def artifact_bytes(model: TextModel) -> tuple[bytes, dict[str, Any]]:
    """``(npz bytes, meta)`` of ``model`` in :meth:`TextModel.save`'s format."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        weights=model.weights.astype(np.float16),
        idf=model.idf.astype(np.float16),
        bias=np.array([model.bias]),
    )
    return buffer.getvalue(), {**model.meta, "name": model.name, "version": model.version}


def artifact_from_bytes(weights: bytes, meta: dict[str, Any], version: int) -> TextModel:
    """The :class:`TextModel` stored as ``weights`` (npz bytes) + ``meta``, as ``version``."""
    with np.load(io.BytesIO(weights)) as arrays:
        w = arrays["weights"].astype(np.float64)
        idf = arrays["idf"].astype(np.float64)
        bias = float(arrays["bias"][0])
    if w.shape != (N_FEATURES,):
        raise ValueError(f"site model: expected {N_FEATURES} weights, got {w.shape}")
    return TextModel(str(meta["name"]), str(version), w, idf, bias, {**meta, "version": version})


def detector_with(check: CheckName, artifact: TextModel) -> Detector:
    """``check``'s detector (rules and lexicons as shipped) on the model ``artifact``."""
    if check == "spam":
        from workers.checks.spam import SpamDetector

        return SpamDetector(model_artifact=artifact)
    if check == "toxicity":
        from workers.checks.toxicity import ToxicityDetector

        return ToxicityDetector(model_artifact=artifact)
    raise ValueError(f"no site models for check {check!r}")
