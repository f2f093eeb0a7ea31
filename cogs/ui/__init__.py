"""Embeds, buttons and the reply helper shared by the cogs."""
