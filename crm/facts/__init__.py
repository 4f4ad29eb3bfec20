"""Engagement facts: contact summaries kept up to date in the writing transaction."""
