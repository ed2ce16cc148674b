"""Tests of the real-device transports: the benchmark_model parser, the adb and ssh runners, device hosts."""
