"""Who may do what: API tokens and sessions, and which part of the inbox a caller may see."""
