"""CloudWatch alarms: every alarm shape parsed into one ``Alarm`` (``parse``)."""
