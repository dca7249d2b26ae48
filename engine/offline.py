"""Switches that keep every library Quarry loads from reaching for a model hub."""

import os

_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce() -> None:
    """Sets the Hugging Face offline switches unless the user set them already."""
    for key, value in _OFFLINE.items():
        os.environ.setdefault(key, value)
