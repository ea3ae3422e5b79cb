"""The media service: media-worker copies attachments from providers into the private bucket and
attaches them to their messages; media-api hands out authorised downloads and takes uploads for
outbound messages."""
