"""Measuring: gold formats, answer and fact scoring, evaluation runs, the classic-RAG baseline, charts, cost."""
