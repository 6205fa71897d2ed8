"""Leda's clients of the world outside it: the SMTP relay (`mail`) and Kolada (`kolada`). The activities and the
edges use them; they know nothing of pilots or workflows."""
