"""The first responder: knowledge base, retrieval, conversation flows, external bot."""
