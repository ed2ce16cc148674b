"""Runners measure a model on one device: `local` (this host's CPU through LiteRT), `adb` (an Android
device through a real adb server, running TFLite's benchmark_model), `ssh` (a Linux board running
litert-benchmark). All share the interface in `base.py`."""
