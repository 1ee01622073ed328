"""Mail: the links mailed to users, the mail requests a call writes, and the stream-fed
sender that mints the links and sends the mails through Amazon SES (v2)."""
