"""Traces -> student-template dataset -> LoRA training -> GGUF adapter export -> adapter registry."""
