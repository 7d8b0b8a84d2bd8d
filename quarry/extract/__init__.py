"""Readers, MIME decoding, threading, people, fact extraction and the ingest pipeline."""
