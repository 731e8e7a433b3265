"""The FastAPI chat service (the chat service issue)."""
