"""Proceedings, public accepted papers, the workshop programme and industry partners (app label
`proceedings`)."""
