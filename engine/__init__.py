__version__ = "0.1.0"  # the package version (pyproject.toml); tests/engine/test_serve.py keeps them equal

from engine import cpus as _cpus
from engine import offline as _offline

_offline.enforce()
_cpus.size_native_pools()  # before numpy or faiss loads and sizes its pools
