"""A build that reads only the post files that changed since the last real build.

One small module per idea::

    reading.py   the read stage either way: every post (and the site table kept), or
                 only the changed ones
    table.py     site.sqlite: a row per post file (what the later stages need of its
                 post), each post folder's digest of stats, the tag spelling counts
    changes.py   which post files changed: the stat pass's folder digests against the rows
    quick.py     the changed posts read, the rules across posts given the others' tags
                 and URLs, the feed entries and posts.json keys made from the rows
    rows.py      a read's posts as rows
    lazy.py      the other posts, made from the post cache only when looked at

Anything unsure (another config, code or library; a tag's most common spelling flipping
for a post not read again; two posts on one URL; an og image outside its post's folder;
cards on; more than a quarter of the posts changed) reads every post, as before.
"""
