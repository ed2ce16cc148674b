"""The challenge organisers' console: create and edit a track (description, contract, metrics, score
formula, limits, data), the milestone editor with its timeline picture, and the organiser's dashboard.

`services` writes, `selectors` reads, `charts` draws the server-side SVG pictures, `forms` and `views`
are the interface; permissions come from `challenges.rules` plus `rules` here (who may add a track).
"""
