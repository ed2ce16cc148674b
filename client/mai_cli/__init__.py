"""`mai`, the command line of the Mobile AI workshop site (challenges, runtime checks, papers, exports,
device operations), a thin client of the site's REST API."""

__version__ = "0.1.0"
