"""Model access: one `ChatModel` interface over local llama.cpp and OpenAI-compatible servers."""
