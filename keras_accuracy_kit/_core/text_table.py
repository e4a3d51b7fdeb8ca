"""Plain-text tables: columns padded to their widest cell, two spaces apart.

What `kak history`, `SearchResult.table()` and the ladder's result print: readable in a
terminal and in a log, with the last column (often free text) left unpadded.
"""


def format_table(rows):
    """Formats rows of strings (the first one the header) as aligned text lines.

    Every column but the last is padded to its widest cell; columns are two spaces apart;
    lines carry no trailing spaces.

    Args:
        rows: List of lists of strings, all of the same length.

    Returns:
        The table as one string, lines joined by newlines.

    Example:

    >>> print(format_table([["id", "score", "note"], ["1", "0.95", "best"], ["12", "-", ""]]))
    id  score  note
    1   0.95   best
    12  -
    """
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths)]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    return "\n".join(lines)
