"""Alarm notifications: delivery through channel adapters (the messages are rendered by
``opswire.alarms.render_slack`` and ``opswire.alarms.render_email``), and generic notices."""
