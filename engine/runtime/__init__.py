"""Model runtimes: the llama.cpp loop, remote OpenAI-compatible servers, the model pool, the ONNX encoder."""
