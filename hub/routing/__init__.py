"""Who owns a conversation: the state machine, transition records and agent assignment."""
