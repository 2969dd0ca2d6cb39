"""The conversation on a page: comments, threads, reactions, votes, reports, moderation, publication."""
