"""A conversation as stored: whose it is, who takes part and which organisations hold it.

Access reads these tables to decide who may see a conversation, so they sit below
`app.access`; messages, receipts and the rules of messaging live above it, in
`app.messaging`."""
