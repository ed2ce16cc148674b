"""Model conversion: an uploaded Keras/SavedModel (and, where their converters are installed, PyTorch or
ONNX) model becomes a TFLite that fits a track's contract, converted in the sandbox on the `scoring`
queue, with a report of what conversion cost in fidelity."""
