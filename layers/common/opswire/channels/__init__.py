"""How people are told: the channel ports, Slack and SES adapters, generic notices, signed links
and the one factory that builds the channels from settings."""
