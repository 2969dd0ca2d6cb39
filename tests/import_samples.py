"""Sample files of every import format, built from each format's documented structure.

No real export is checked in: tests and ``bench/imports.py`` write what they need here.
"""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

DISQUS_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    '<category dsq:id="1"><forum>example</forum><title>General</title>'
    "<isDefault>true</isDefault></category>\n"
)


@dataclass
class Thread:
    id: str
    link: str
    title: str = "A page"
    identifier: str = ""


@dataclass
class Post:
    id: str
    thread: str
    message: str = "<p>Hello.</p>"
    created: str = "2021-03-04T05:06:07Z"
    name: str = "Reader"
    email: str = ""
    parent: str | None = None
    deleted: bool = False
    spam: bool = False


def disqus_thread(thread: Thread) -> str:
    return (
        f"<thread dsq:id={quoteattr(thread.id)}><id>{escape(thread.identifier)}</id><forum>example</forum>"
        f'<category dsq:id="1"/><link>{escape(thread.link)}</link><title>{escape(thread.title)}</title>'
        "<message/><createdAt>2021-01-01T00:00:00Z</createdAt><author><name>Editor</name>"
        "<isAnonymous>false</isAnonymous></author><isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n"
    )


def disqus_post(post: Post) -> str:
    parent = f"<parent dsq:id={quoteattr(post.parent)}/>" if post.parent else ""
    return (
        f"<post dsq:id={quoteattr(post.id)}><id/><message><![CDATA[{post.message}]]></message>"
        f"<createdAt>{post.created}</createdAt><isDeleted>{str(post.deleted).lower()}</isDeleted>"
        f"<isSpam>{str(post.spam).lower()}</isSpam><author><email>{escape(post.email)}</email>"
        f"<name>{escape(post.name)}</name><isAnonymous>false</isAnonymous></author>"
        f"<thread dsq:id={quoteattr(post.thread)}/>{parent}</post>\n"
    )


def write_disqus(
    out: IO[str], threads: Iterable[Thread], posts: Iterable[Post], *, threads_first: bool
) -> None:
    """A Disqus export; ``threads_first=False`` writes the posts before their threads, as some exports do."""
    out.write(DISQUS_HEAD)
    parts = (threads, posts) if threads_first else (posts, threads)
    for part in parts:
        for item in part:
            out.write(disqus_thread(item) if isinstance(item, Thread) else disqus_post(item))
    out.write("</disqus>\n")


def disqus_file(path: Path, threads: list[Thread], posts: list[Post], *, threads_first: bool = False) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as out:
        write_disqus(out, threads, posts, threads_first=threads_first)
    return path


ARTICLE = "https://news.example.org/2021/03/article"
OTHER = "https://news.example.org/2021/03/other"


def sample_disqus(path: Path) -> Path:
    """Two threads (one linked twice, with tracking tags) after their posts: a tree, a placeholder, skips.

    1 → 2 → 3; 4 deleted with reply 5; 6 deleted alone; 7 spam; 8's parent is missing;
    9 on the other page; 10 on a thread not in the file.
    """
    threads = [
        Thread("100", ARTICLE, "The article", identifier="article-1"),
        Thread("101", ARTICLE + "?utm_source=feed", "The article (feed)"),
        Thread("102", OTHER, "Other"),
    ]
    posts = [
        Post(
            "1",
            "100",
            "<p>First <b>bold</b> <script>alert(1)</script></p>",
            "2021-03-04T05:06:07Z",
            "Jane",
            "jane@example.org",
        ),
        Post("2", "100", "<p>A reply.</p>", "2021-03-04T06:00:00Z", "Bob", parent="1"),
        Post(
            "3",
            "101",
            "<p>A reply to the reply, via the feed link.</p>",
            "2021-03-04T07:00:00Z",
            "Ann",
            parent="2",
        ),
        Post("4", "100", "<p>Gone.</p>", "2021-03-05T00:00:00Z", "Al", deleted=True),
        Post("5", "100", "<p>Answering the gone one.</p>", "2021-03-05T01:00:00Z", "Cy", parent="4"),
        Post("6", "100", "<p>Gone alone.</p>", "2021-03-05T02:00:00Z", "Di", deleted=True),
        Post("7", "100", "<p>Buy now</p>", "2021-03-05T03:00:00Z", "Spammer", spam=True),
        Post("8", "100", "<p>My parent is lost.</p>", "2021-03-05T04:00:00Z", "Ed", parent="999"),
        Post("9", "102", "<p>On the other page.</p>", "2021-03-06T00:00:00Z", "Flo"),
        Post("10", "555", "<p>Nowhere.</p>", "2021-03-06T01:00:00Z", "Gus"),
    ]
    return disqus_file(path, threads, posts)


# -- WordPress -------------------------------------------------------------------------------


@dataclass
class WpComment:
    id: int
    content: str
    parent: int = 0
    approved: str = "1"
    type: str = "comment"
    author: str = "Reader"
    email: str = ""
    date_gmt: str = "2020-05-06 07:08:09"
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class WpItem:
    post_id: int
    link: str
    title: str
    comments: list[WpComment] = field(default_factory=list)
    post_type: str = "post"


def wxr_file(path: Path, items: list[WpItem], version: str = "1.2") -> Path:
    ns = f"http://wordpress.org/export/{version}/"
    out = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        f'<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
        f' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{ns}">',
        "<channel><title>Example</title><link>https://news.example.org</link>",
        f"<wp:wxr_version>{version}</wp:wxr_version>",
    ]
    for item in items:
        out.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f"<dc:creator><![CDATA[admin]]></dc:creator><content:encoded><![CDATA[<p>Body</p>]]></content:encoded>"
            f"<wp:post_id>{item.post_id}</wp:post_id><wp:status>publish</wp:status>"
            f"<wp:post_type>{item.post_type}</wp:post_type>"
        )
        for c in item.comments:
            meta = "".join(
                f"<wp:commentmeta><wp:meta_key>{k}</wp:meta_key><wp:meta_value><![CDATA[{v}]]></wp:meta_value></wp:commentmeta>"
                for k, v in c.meta.items()
            )
            out.append(
                f"<wp:comment><wp:comment_id>{c.id}</wp:comment_id>"
                f"<wp:comment_author><![CDATA[{c.author}]]></wp:comment_author>"
                f"<wp:comment_author_email>{escape(c.email)}</wp:comment_author_email>"
                "<wp:comment_author_url></wp:comment_author_url><wp:comment_author_IP>127.0.0.1</wp:comment_author_IP>"
                f"<wp:comment_date>{c.date_gmt}</wp:comment_date><wp:comment_date_gmt>{c.date_gmt}</wp:comment_date_gmt>"
                f"<wp:comment_content><![CDATA[{c.content}]]></wp:comment_content>"
                f"<wp:comment_approved>{c.approved}</wp:comment_approved><wp:comment_type>{c.type}</wp:comment_type>"
                f"<wp:comment_parent>{c.parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id>{meta}</wp:comment>"
            )
        out.append("</item>")
    out.append("</channel></rss>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def sample_wxr(path: Path, version: str = "1.2") -> Path:
    """A post with a thread (pending, spam, trash, a pingback, votes, inline feedback) and an empty page."""
    comments = [
        WpComment(
            11,
            "First line\nsecond line\n\nNew paragraph",
            email="jane@example.org",
            author="Jane",
            meta={"wpdiscuz_votes": "3", "wpdiscuz_feedback_form_id": "7"},
        ),
        WpComment(
            12, "A reply", parent=11, author="Bob", date_gmt="2020-05-06 08:00:00", email="bob@example.org"
        ),
        WpComment(13, "Waiting", approved="0", author="Pat", date_gmt="2020-05-06 09:00:00"),
        WpComment(14, "Spam!", approved="spam"),
        WpComment(15, "Binned", approved="trash"),
        WpComment(16, "Linked from elsewhere", type="pingback"),
        WpComment(17, "Old style type", type="", author="Old", date_gmt="2020-05-07 00:00:00"),
    ]
    items = [
        WpItem(1, "https://news.example.org/hello-world/", "Hello world", comments),
        WpItem(2, "https://news.example.org/about/", "About", post_type="page"),
        WpItem(3, "https://news.example.org/wp-content/uploads/pic.jpg", "pic", post_type="attachment"),
    ]
    return wxr_file(path, items, version)


# -- Isso ------------------------------------------------------------------------------------

ISSO_SCHEMA = """
CREATE TABLE IF NOT EXISTS preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE IF NOT EXISTS comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
"""


def isso_db(path: Path, threads: list[tuple[int, str, str]], comments: list[dict[str, Any]]) -> Path:
    db = sqlite3.connect(path)
    db.executescript(ISSO_SCHEMA)
    db.executemany("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", threads)
    for c in comments:
        row = {
            "parent": None,
            "mode": 1,
            "author": None,
            "email": None,
            "likes": 0,
            "dislikes": 0,
            "notification": 0,
            "website": None,
            **c,
        }
        db.execute(
            "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text, author,"
            " email, website, likes, dislikes, voters, notification) VALUES"
            " (:tid, :id, :parent, :created, NULL, :mode, '127.0.0.0', :text, :author, :email, :website,"
            " :likes, :dislikes, x'00', :notification)",
            row,
        )
    db.commit()
    db.close()
    return path


def sample_isso(path: Path) -> Path:
    """A thread on a path: approved, pending, deleted with a reply, deleted alone, votes, notification."""
    return isso_db(
        path,
        [(1, "/2019/05/post/", "A post"), (2, "/2019/06/empty/", "Empty")],
        [
            {
                "tid": 1,
                "id": 1,
                "created": 1557130000.5,
                "text": "Some *markdown*",
                "author": "Jane",
                "email": "jane@example.org",
                "likes": 5,
                "dislikes": 2,
                "notification": 1,
            },
            {"tid": 1, "id": 2, "parent": 1, "created": 1557131000.0, "text": "Reply", "author": None},
            {"tid": 1, "id": 3, "created": 1557132000.0, "text": "Held", "mode": 2, "author": "Pat"},
            {"tid": 1, "id": 4, "created": 1557133000.0, "text": "", "mode": 4, "author": None},
            {
                "tid": 1,
                "id": 5,
                "parent": 4,
                "created": 1557134000.0,
                "text": "Under a deleted one",
                "author": "Cy",
                "email": "cy@example.org",
                "notification": 1,
            },
            {"tid": 1, "id": 6, "created": 1557135000.0, "text": "", "mode": 4},
        ],
    )


# -- Remark42 --------------------------------------------------------------------------------


def remark42_comment(
    comment_id: str,
    url: str,
    text: str,
    time: str,
    *,
    pid: str = "",
    name: str = "Reader",
    score: int = 0,
    delete: bool = False,
    title: str = "",
) -> dict[str, Any]:
    return {
        "id": comment_id,
        "pid": pid,
        "text": text,
        "orig": text,
        "user": {"name": name, "id": f"anonymous_{name}", "picture": "", "ip": "", "admin": False},
        "locator": {"site": "remark", "url": url},
        "score": score,
        "votes": {},
        "time": time,
        "delete": delete,
        "title": title,
    }


def remark42_file(path: Path, comments: list[dict[str, Any]]) -> Path:
    lines = [json.dumps({"version": 1, "users": [], "posts": []})] + [json.dumps(c) for c in comments]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def sample_remark42(path: Path) -> Path:
    url = "https://blog.example.org/posts/first/"
    return remark42_file(
        path,
        [
            remark42_comment(
                "a1",
                url,
                "<p>Hello <em>there</em></p>",
                "2022-01-02T03:04:05.123456789+02:00",
                name="Jane",
                score=4,
                title="First post",
            ),
            remark42_comment(
                "a2", url, "<p>Hi back</p>", "2022-01-02T04:00:00Z", pid="a1", name="Bob", score=-1
            ),
            remark42_comment("a3", url, "", "2022-01-02T05:00:00Z", delete=True),
            remark42_comment("a4", url, "<p>Reply to deleted</p>", "2022-01-02T06:00:00Z", pid="a3"),
        ],
    )


# -- wpDiscuz subscriptions ------------------------------------------------------------------

WPDISCUZ_COLUMNS = [
    "id",
    "email",
    "subscribtion_id",
    "post_id",
    "subscribtion_type",
    "activation_key",
    "confirm",
    "subscription_date",
    "imported_from",
]


def wpdiscuz_dump(
    path: Path, rows: list[dict[str, str]], *, delimiter: str = ",", columns: list[str] | None = None
) -> Path:
    columns = columns or WPDISCUZ_COLUMNS
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
    return path
