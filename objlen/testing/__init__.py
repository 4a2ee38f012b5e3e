"""Test and benchmark data made from code: rendered scenes with known ground truth."""
