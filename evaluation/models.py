"""Devices and runtime jobs."""
