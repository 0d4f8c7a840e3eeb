"""CloudWatch alarms: every alarm shape parsed into one ``Alarm`` (``parse``), what a delivery
means for its incident (``incidents``) and the Slack and email messages about it (``render``,
``render_slack``, ``render_email``); the SNS intake (``intake``), the workflow tasks
(``workflow``), the recent log lines (``log_excerpt``), delivery (``delivery``) and
acknowledgement (``acknowledgement``); the boundary models (``models``). The adapters live in
``aws`` and are built in ``wiring``."""
