"""rnnviz's version, in a module of its own so that what records it (session files) need not
import the package's __init__, which reaches up to rnnviz.api for show() and trace()."""
__version__ = "0.1.0"
