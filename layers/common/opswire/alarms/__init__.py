"""CloudWatch alarms and operational events: every alarm shape parsed into one ``Alarm``
(``parse``), every other event into one ``OpsEvent`` (``events``; ``subject`` picks which), what
a delivery means for its incident (``incidents``, ``event_incidents``) and the Slack and email
messages about it (``render``, ``render_slack``, ``render_email``; ``render_event*`` for
events); the SNS intake (``intake``), the workflow tasks (``workflow``), the recent log lines
(``log_excerpt``), delivery (``delivery``) and acknowledgement (``acknowledgement``); the
boundary models (``models``). The adapters live in ``aws`` and are built in ``wiring``."""
