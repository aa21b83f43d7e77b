"""The vocabulary of Switchboard: configuration, commands and events."""
