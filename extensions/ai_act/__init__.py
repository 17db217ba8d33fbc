"""The AI-Act-aware project record's pure core: a guided questionnaire, its assessment and the record's exports.

An aid to a project's own assessment under Regulation (EU) 2024/1689 (the AI Act), not legal advice.
Pure functions and data only: no service, no database, no network; a service calls them directly.
"""
