"""Hostile input (issue #7, item 4): a real local server serving what the world throws at a monitor."""
