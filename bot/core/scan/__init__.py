"""The Participatiescan: its content (themes, factors, knowledge base) and, later, sessions."""
