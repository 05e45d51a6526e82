"""The command line, configuration and the whole box."""
