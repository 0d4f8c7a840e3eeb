"""Fakes of our ports, one of each, shared by every test folder."""
