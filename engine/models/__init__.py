"""Models on disk: the catalog, provisioning from PyPI packages, ONNX export, GGUF checks."""
