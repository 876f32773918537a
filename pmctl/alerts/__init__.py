"""Alerts for a human: formatted once, delivered by email, webhook and apprise, never fatal to a cycle.

Which alerts to send and how often is the caller's business; this package only
turns a batch of ``Notice`` into messages and reports, rather than raises, any
delivery that did not happen. Nothing is imported here: settings import the
model on every start-up, and smtplib, ssl and urllib are needed only to send.
"""
