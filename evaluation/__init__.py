"""On-device model evaluation: TFLite intake, sandbox, devices, runtime jobs, runners, device workers."""
