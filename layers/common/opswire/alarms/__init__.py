"""CloudWatch alarms: every alarm shape parsed into one ``Alarm`` (``parse``), what a delivery
means for its incident (``incidents``) and the Slack and email messages about it (``render``,
``render_slack``, ``render_email``)."""
