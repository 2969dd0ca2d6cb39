"""Imports from Disqus, WordPress (wpDiscuz), Isso and Remark42: one reader per format, one writer.

Each format's module reads its file as a stream and yields neutral records
(:mod:`.records`); :mod:`.run` plans the tree from a first pass over them and writes the
second pass in one transaction (:mod:`.writer`), so a failed or killed run changes nothing.
"""

from engagement.services.operations.imports.records import ImportOptions, ImportSummary
from engagement.services.operations.imports.run import FORMATS, import_file

__all__ = ["FORMATS", "ImportOptions", "ImportSummary", "import_file"]
