"""The users table's stream, filtered to written mail requests: send each one's mail."""

from lockbox.core.handler import stream_handler
from lockbox.mail.mail_sender import send_requested_mail

lambda_handler = stream_handler(send_requested_mail)
