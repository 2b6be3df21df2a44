"""Batch proposals with q(Log)EI over any BoTorch model, with pending points and mixed spaces."""
