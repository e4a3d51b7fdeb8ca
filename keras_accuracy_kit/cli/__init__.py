"""`kak`: the command line, a thin argparse layer over the public API."""
