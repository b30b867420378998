"""newsqa: question answering over Chinese newspaper issues."""

from qa.document import Article, Issue, Paragraph
from qa.errors import InputError, NewsQAError

__all__ = ["Article", "Issue", "Paragraph", "InputError", "NewsQAError", "parse_issue"]


def __getattr__(name):
    # Lazy so that `import qa` stays cheap (no jieba, faiss or torch until needed).
    if name == "parse_issue":
        from qa.parse import parse_issue

        return parse_issue
    if name == "NewsIndex":
        from qa.index import NewsIndex

        return NewsIndex
    raise AttributeError(name)
