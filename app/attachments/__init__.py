"""Downloading an image or voice note of a message, for those who may read it. Sending one
is in `app.messaging.sending`; cleaning the bytes is in `app.media`."""
